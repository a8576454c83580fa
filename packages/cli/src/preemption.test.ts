import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_BACKENDS } from '@adl/backend/test';
import { generateSynthetic } from '@adl/data-cityscapes';
import { EXIT_INTERRUPTED } from '@adl/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_ARCHITECTURE } from './test-architecture.js';

const adl = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'adl.js');
const backend = TEST_BACKENDS.includes('onednn') ? 'onednn' : 'cpu';
let root: string;

/**
 * `adl ...args` in its own process; with `signal`, sent once its first progress line (step 1) is out,
 * as a scheduler warns a job before preempting it.
 */
function run(args: string[], signal?: NodeJS.Signals): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [adl, ...args], { cwd: root });
    let [stdout, stderr, sent] = ['', '', false];
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (signal && !sent && / step 1\//.test(stderr)) sent = child.kill(signal);
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The tensors of the run's last checkpoint, as bytes (the manifest also holds the run's own folder). */
async function checkpointData(dir: string): Promise<Buffer> {
  const { data } = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8'));
  return readFile(join(dir, data));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-preemption-'));
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 8, val: 2 }, height: 32, width: 48, seed: 4 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

// A preempted job: the signal ends the step under way, a checkpoint is written, one line says so, and
// the process exits 75; resumed, the run ends as if it had never stopped.
describe('a run stopped by a signal', () => {
  // Three processes each: with the other test tasks beside them on 2 cores (and oneDNN capped at AVX2 or SSE4.1) they take minutes.
  it('search: SIGTERM stops it after a checkpoint with status 75; --resume ends bit-identical to an uninterrupted search', { timeout: 600_000 }, async () => {
    const config = (outDir: string) => ({ dataRoot: join(root, 'data'), outDir, epochs: 6, warmupEpochs: 2, layers: 1, filterMultiplier: 2, crop: 32, valImages: 0, checkpointEvery: 1000, backend });
    await writeFile(join(root, 'whole.json'), JSON.stringify(config(join(root, 'whole'))));
    await writeFile(join(root, 'stopped.json'), JSON.stringify(config(join(root, 'stopped'))));
    const whole = await run(['search', '--config', 'whole.json']);
    expect(whole.status).toBe(0);

    const stopped = await run(['search', '--config', 'stopped.json'], 'SIGTERM');
    expect(stopped.status).toBe(EXIT_INTERRUPTED);
    const lines = stopped.stderr.split('\n').filter((line) => line.includes('SIGTERM'));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^\\[adl\\] SIGTERM: stopped after step \\d+ of 12 with a checkpoint \\(${join(root, 'stopped', 'checkpoint.json')}\\); continue with --resume$`))]);
    expect(stopped.stdout).toBe('');
    const resumed = await run(['search', '--config', 'stopped.json', '--resume']);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toBe(whole.stdout);
    expect((await checkpointData(join(root, 'stopped'))).equals(await checkpointData(join(root, 'whole')))).toBe(true);
  });

  it('retrain: SIGUSR1 (Slurm\'s --signal=B:USR1@…) stops it the same way, and it resumes to the same end', { timeout: 600_000 }, async () => {
    await writeFile(join(root, 'arch.json'), JSON.stringify(TINY_ARCHITECTURE));
    const config = (outDir: string) => ({ dataRoot: join(root, 'data'), outDir, architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 30, evalEvery: 10, batchSize: 2, crop: 32, checkpointEvery: 1000, backend });
    await writeFile(join(root, 'retrain-whole.json'), JSON.stringify(config(join(root, 'retrain-whole'))));
    await writeFile(join(root, 'retrain-stopped.json'), JSON.stringify(config(join(root, 'retrain-stopped'))));
    const whole = await run(['retrain', '--config', 'retrain-whole.json']);
    expect(whole.status).toBe(0);
    const stopped = await run(['retrain', '--config', 'retrain-stopped.json'], 'SIGUSR1');
    expect(stopped.status).toBe(EXIT_INTERRUPTED);
    expect(stopped.stderr).toMatch(/\[adl\] SIGUSR1: stopped after step \d+ of 30 with a checkpoint/);
    const resumed = await run(['retrain', '--config', 'retrain-stopped.json', '--resume']);
    expect(resumed.status).toBe(0);
    expect(resumed.stdout).toBe(whole.stdout);
    expect((await checkpointData(join(root, 'retrain-stopped'))).equals(await checkpointData(join(root, 'retrain-whole')))).toBe(true);
    expect((await readdir(join(root, 'retrain-stopped'))).sort()).toEqual((await readdir(join(root, 'retrain-whole'))).sort());
  });
});
