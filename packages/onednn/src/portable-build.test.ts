import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PORTABLE_ADDON } from './addon-variant.js';

// An install copied to another machine (a container image, a cluster's shared disk) must run there.
// The portable build, which loads wherever the CPU differs from the build machine's, compiles the
// addon's own code for the x86-64 baseline (oneDNN picks its kernels by instruction set at run
// time). Built with -march=native on an AVX-512 machine, the addon held 6,991 VEX- or EVEX-encoded
// instructions (1,242 on ymm/zmm registers), each a SIGILL on a CPU without them.
const objdump = spawnSync('objdump', ['--version']).status === 0;
const portable = join(fileURLToPath(new URL('..', import.meta.url)), 'build', 'Release', PORTABLE_ADDON);

describe.runIf(existsSync(portable) && process.arch === 'x64' && objdump)('the portable build of the addon', () => {
  it('holds no AVX, AVX2 or AVX-512 instruction (VEX- or EVEX-encoded, on any register)', () => {
    const disassembly = spawnSync('objdump', ['-d', '--no-show-raw-insn', portable], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    const instructions = disassembly.split('\n').filter((line) => /^\s+[0-9a-f]+:\t/.test(line));
    expect(instructions.length).toBeGreaterThan(1000);
    const beyondBaseline = instructions.filter((line) => /:\t(v[a-z]|.*%[yz]mm)/.test(line));
    expect(beyondBaseline.slice(0, 5)).toEqual([]);
  });
});
