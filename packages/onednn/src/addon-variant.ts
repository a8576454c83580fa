import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The build of the addon for any CPU of the architecture, in build/Release. */
export const PORTABLE_ADDON = 'adl_onednn.node';
/** The build for the CPU it was built on (-march=native), beside it, with that CPU's flags in NATIVE_CPU_FLAGS. */
export const NATIVE_ADDON = 'adl_onednn_native.node';
export const NATIVE_CPU_FLAGS = 'native-cpu.json';

/**
 * The CPU's flags as Linux lists them in /proc/cpuinfo (`flags` on x86, `Features` on Arm), or null
 * where there are none: the parser the build records the build machine's flags with (src/ and dist/
 * sit beside scripts/).
 */
export const cpuFlags: (cpuinfo?: string) => string[] | null = createRequire(import.meta.url)('../scripts/cpu-flags.cjs').cpuFlags;

/**
 * Whether the build made for another CPU runs on this one: only where this CPU reports every flag
 * that one reported (any difference, an instruction set or not, keeps the portable build).
 */
export function nativeBuildRuns(builtFor: readonly string[], here: readonly string[] | null): boolean {
  if (!here) return false;
  const present = new Set(here);
  return builtFor.every((flag) => present.has(flag));
}

/**
 * The addon files to try in `release` (build/Release), best first: the native build where it runs
 * here, then the portable one. This CPU's flags (`here`) are read only where a native build exists.
 */
export function addonCandidates(release: string, here: () => readonly string[] | null = cpuFlags): string[] {
  const portable = join(release, PORTABLE_ADDON);
  try {
    const { flags } = JSON.parse(readFileSync(join(release, NATIVE_CPU_FLAGS), 'utf8')) as { flags: string[] };
    if (existsSync(join(release, NATIVE_ADDON)) && nativeBuildRuns(flags, here())) return [join(release, NATIVE_ADDON), portable];
  } catch {
    // No native build (ADL_ONEDNN_NATIVE=0, or its build failed): the portable one.
  }
  return [portable];
}
