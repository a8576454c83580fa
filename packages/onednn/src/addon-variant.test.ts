import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonCandidates, cpuFlags, NATIVE_ADDON, NATIVE_CPU_FLAGS, nativeBuildRuns, PORTABLE_ADDON } from './addon-variant.js';
import { addonFile, binding } from './binding.js';

const X86 = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse sse2 avx avx2 avx512f\nbugs\t\t: sysret_ss_attrs\n\nprocessor\t: 1\nflags\t\t: fpu sse sse2 avx avx2 avx512f\n';
const ARM = 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32 atomics\n';

describe('which build of the addon loads', () => {
  it('reads the CPU flags Linux lists, on x86 and on Arm', () => {
    expect(cpuFlags(X86)).toEqual(['fpu', 'sse', 'sse2', 'avx', 'avx2', 'avx512f']);
    expect(cpuFlags(ARM)).toEqual(['fp', 'asimd', 'evtstrm', 'aes', 'crc32', 'atomics']);
    expect(cpuFlags('processor : 0\n')).toBeNull();
  });

  it('takes the build for the build machine only on a CPU that reports every flag it reported', () => {
    expect(nativeBuildRuns(['sse2', 'avx2'], ['fpu', 'sse2', 'avx2', 'avx512f'])).toBe(true);
    expect(nativeBuildRuns(['sse2', 'avx2', 'avx512f'], ['fpu', 'sse2', 'avx2'])).toBe(false);
    expect(nativeBuildRuns(['sse2'], null)).toBe(false);
  });

  it('tries the native build first where it runs here, else the portable one alone (an install moved to an older CPU)', () => {
    const release = mkdtempSync(join(tmpdir(), 'adl-release-'));
    const [portable, native] = [join(release, PORTABLE_ADDON), join(release, NATIVE_ADDON)];
    expect(addonCandidates(release, () => ['sse2'])).toEqual([portable]);
    writeFileSync(native, '');
    writeFileSync(join(release, NATIVE_CPU_FLAGS), JSON.stringify({ flags: ['sse2', 'avx2', 'avx512f'] }));
    expect(addonCandidates(release, () => ['sse2', 'avx2', 'avx512f', 'vaes'])).toEqual([native, portable]);
    expect(addonCandidates(release, () => ['sse2', 'avx2'])).toEqual([portable]);
    expect(addonCandidates(release, () => null)).toEqual([portable]);
  });

  it.runIf(binding && !process.env.ADL_ONEDNN_ADDON)('here, the package loaded the first candidate of its own build', () => {
    expect(addonFile).toBe(addonCandidates(join(addonFile, '..'))[0]);
  });
});
