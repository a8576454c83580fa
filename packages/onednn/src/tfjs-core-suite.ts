// tfjs-core's published kernel tests on one backend, in a child process (scripts/tfjs-core-suite.mjs).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SuiteTotals {
  backend: string;
  passed: number;
  failed: number;
  excluded: number;
  failures: { spec: string; message: string }[];
}

const runner = fileURLToPath(new URL('../scripts/tfjs-core-suite.mjs', import.meta.url));
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

// Each run takes 10–45 s alone; several minutes beside the other packages' tests on 2 cores.
export const SUITE_TIMEOUT_MS = 600_000;

/** tfjs-core's kernel tests on `backend`, in a child process (the harness resets the engine and sets globals). */
export function runSuite(backend: string): Promise<SuiteTotals> {
  const folder = mkdtempSync(join(tmpdir(), 'tfjs-core-suite-'));
  const json = join(folder, 'totals.json');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [tsx, runner, '--backend', backend, '--json', json], { maxBuffer: 64 << 20 }, (error, stdout) => {
      try {
        const totals = JSON.parse(readFileSync(json, 'utf8')) as SuiteTotals;
        console.log(stdout.trim().split('\n').at(-1));
        resolve(totals);
      } catch {
        reject(error ?? new Error(`no totals from the ${backend} run:\n${stdout}`));
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
}
