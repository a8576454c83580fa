import { execFile as execFileCallback, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSynthetic } from '@adl/data-cityscapes';
import { loadTrainedNet } from '@adl/search';
import { PYTHON_DIR, torchPython } from './python.js';

const execFile = promisify(execFileCallback);
const python = torchPython();
const adl = join(PYTHON_DIR, '..', 'packages', 'cli', 'bin', 'adl.js');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-torch-ddp-'));
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 8, val: 2 }, height: 40, width: 56, seed: 3 });
  await writeFile(
    join(root, 'architecture.json'),
    JSON.stringify({ name: 'tiny', path: [0, 1, 1, 0], genotype: [[0, 'sep_conv_3x3'], [1, 'skip_connect'], [0, 'atrous_conv_3x3'], [2, 'max_pool_3x3'], [1, 'sep_conv_5x5'], [3, 'avg_pool_3x3']], filterMultiplier: 4 }),
  );
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A TCP port no one listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `torchrun --nproc_per_node=2 -m adl_torch.retrain …` (as `python -m torch.distributed.run`); its exit
 * status and stderr. The rendezvous is `--standalone`'s (c10d on this machine, a fresh id) but on a
 * free port instead of its fixed 29400: a launcher that finds 29400 taken joins whatever store holds
 * it, another job's included. Debian 12's PyTorch 1.13 under Python 3.11 cannot parse the launcher's
 * default `--redirects 0 --tee 0` (Python 3.11 no longer lists the flag 0 among an IntFlag's members):
 * any other value works, and `1` keeps the workers' stderr on the console.
 */
async function torchrun(args: readonly string[]): Promise<{ status: number | null; stderr: string }> {
  const rendezvous = ['--nnodes=1', '--rdzv_backend=c10d', `--rdzv_endpoint=127.0.0.1:${await freePort()}`, `--rdzv_id=${randomUUID()}`];
  return new Promise((resolve, reject) => {
    const child = spawn(python!, ['-m', 'torch.distributed.run', ...rendezvous, '--nproc_per_node=2', '--redirects', '1', '--tee', '1', '-m', 'adl_torch.retrain', ...args], {
      env: { ...process.env, PYTHONPATH: PYTHON_DIR, OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** The final weights' digests by rank, from the line rank 0 prints after gathering them. */
const digests = (stderr: string) => /\[adl\] final weights by rank \(sha256\): 0:([0-9a-f]{64}) 1:([0-9a-f]{64})/.exec(stderr)?.slice(1) ?? [];

describe.skipIf(!python)('a 2-process DDP retraining on gloo (CPU)', () => {
  const config = async (name: string) => {
    const path = join(root, `${name}.json`);
    const outDir = join(root, name);
    await writeFile(path, JSON.stringify({ dataRoot: join(root, 'data'), outDir, architecture: join(root, 'architecture.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 4, batchSize: 4, crop: 33, evalEvery: 2, checkpointEvery: 2, lr: 0.02, seed: 1 }));
    return { path, outDir };
  };

  it('ends with identical weights on both ranks, resumes exactly, and leaves a run folder adl eval and the TypeScript loader read', async () => {
    const straight = await config('straight');
    const run = await torchrun(['--config', straight.path]);
    expect(run.status, run.stderr).toBe(0);
    const [rank0, rank1] = digests(run.stderr);
    expect(rank0, run.stderr).toBeDefined();
    console.log(`[ddp test] ranks' final weights: sha256 ${rank0} (rank 0), ${rank1} (rank 1)`);
    expect(rank0).toMatch(/^[0-9a-f]{64}$/);
    expect(rank1).toBe(rank0);

    // Stopped after iteration 2 (as if killed there), then resumed: the same final weights.
    const resumed = await config('resumed');
    expect((await torchrun(['--config', resumed.path, '--stop-after', '2'])).status).toBe(0);
    const second = await torchrun(['--config', resumed.path, '--resume']);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('[adl] resuming retrain at step 2');
    expect(digests(second.stderr)).toEqual([rank0, rank0]);

    const log = (await readFile(join(straight.outDir, 'retrain-log.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(log.map((record) => record.iteration)).toEqual([2, 4]);
    const { net, spec } = await loadTrainedNet(join(straight.outDir, 'best'));
    expect(spec.batchNorm).toEqual({ momentum: 1 - 0.9997, epsilon: 1e-3 });
    net.dispose();
    const { stdout } = await execFile(process.execPath, [adl, 'eval', '--checkpoint', straight.outDir, '--data', join(root, 'data'), '--json', '--backend', 'onednn'], { cwd: root });
    const metrics = JSON.parse(stdout);
    console.log(`[ddp test] adl eval on the DDP run: mIoU ${(100 * metrics.miou).toFixed(2)}%, pixel accuracy ${(100 * metrics.pixelAccuracy).toFixed(2)}%`);
    expect(metrics.miou).toBeGreaterThanOrEqual(0);
  });
});
