import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's `python/` folder: PYTHONPATH for `adl_torch`. */
export const PYTHON_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'python');

/**
 * A Python that imports torch: `ADL_PYTHON`, else Debian's `/usr/bin/python3` (where `python3-torch`
 * installs it; a `python3` earlier on PATH may be another one), else `python3`. Undefined when none
 * does; with `ADL_REQUIRE_TORCH=1` (CI) that is an error instead of a skip.
 */
export function torchPython(): string | undefined {
  for (const candidate of [process.env.ADL_PYTHON, '/usr/bin/python3', 'python3']) {
    if (candidate && spawnSync(candidate, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  if (process.env.ADL_REQUIRE_TORCH === '1') throw new Error('no python3 with torch, numpy and PIL: run scripts/setup.sh (python3-torch, python3-numpy, python3-pil)');
  return undefined;
}

/** Runs `python -m module args…` with `adl_torch` importable; throws with its stderr when it fails. */
export function runPython(python: string, args: readonly string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const result = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, PYTHONPATH: PYTHON_DIR, OMP_NUM_THREADS: '2', ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${python} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  return result;
}
