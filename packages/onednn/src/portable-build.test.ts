import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addonFile, binding } from './binding.js';

// An install copied to another machine (a container image, a cluster's shared disk) must run there:
// the addon's own code is compiled for the x86-64 baseline, and oneDNN picks its kernels by
// instruction set at run time. Built with -march=native on an AVX-512 machine, it held 6,991 VEX- or
// EVEX-encoded instructions (1,242 on ymm/zmm registers), each a SIGILL on a CPU without them.
const objdump = spawnSync('objdump', ['--version']).status === 0;

describe.runIf(binding && process.arch === 'x64' && objdump && !process.env.ADL_ONEDNN_MARCH)('the addon as built by default', () => {
  it('holds no AVX, AVX2 or AVX-512 instruction (VEX- or EVEX-encoded, on any register)', () => {
    const disassembly = spawnSync('objdump', ['-d', '--no-show-raw-insn', addonFile], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    const instructions = disassembly.split('\n').filter((line) => /^\s+[0-9a-f]+:\t/.test(line));
    expect(instructions.length).toBeGreaterThan(1000);
    const beyondBaseline = instructions.filter((line) => /:\t(v[a-z]|.*%[yz]mm)/.test(line));
    expect(beyondBaseline.slice(0, 5)).toEqual([]);
  });
});
