import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuDeviceFiles } from '@adl/backend';
import { TEST_BACKENDS } from '@adl/backend/test';
import { generateSynthetic } from '@adl/data-cityscapes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_ARCHITECTURE } from './test-architecture.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const adl = join(packageRoot, 'bin', 'adl.js');
let root: string;

/** `adl ...args` as a user runs it: its status, signal, stdout, stderr, and the stderr lines that are not the `[adl]` progress and choice lines. */
function run(...args: string[]) {
  const child = spawnSync(process.execPath, [adl, ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  const foreign = child.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('[adl] '));
  return { status: child.status, signal: child.signal, foreign, stdout: child.stdout, stderr: child.stderr };
}

const succeeded = { status: 0, signal: null, foreign: [] };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-exit-status-'));
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 4, val: 2 }, height: 32, width: 48, seed: 3 });
});
afterAll(() => rm(root, { recursive: true, force: true }));

// Every command that computes, in a fresh process on the onednn backend, one after another on the
// same run folders: each exits 0, and writes nothing to stderr but its own `[adl]` lines (a heap
// abort at exit, or a library's banner or warning, fails it). The groups that cap oneDNN's
// instruction set (ONEDNN_MAX_CPU_ISA) run it too, so search and retraining run end to end on every path.
describe.runIf(TEST_BACKENDS.includes('onednn'))('adl commands on onednn, as a user runs them', () => {
  it('search, retrain, eval, predict, export and bench exit 0 with only [adl] lines on stderr', async () => {
    const dataRoot = join(root, 'data');
    await writeFile(join(root, 'search.json'), JSON.stringify({ dataRoot, outDir: join(root, 'search'), epochs: 2, warmupEpochs: 1, stepsPerEpoch: 1, layers: 2, filterMultiplier: 2, crop: 32, valImages: 1, backend: 'onednn' }));
    expect(run('search', '--config', 'search.json')).toMatchObject(succeeded);
    await writeFile(join(root, 'arch.json'), JSON.stringify(TINY_ARCHITECTURE));
    await writeFile(join(root, 'retrain.json'), JSON.stringify({ dataRoot, outDir: join(root, 'retrain'), architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations: 2, evalEvery: 2, batchSize: 2, crop: 32, backend: 'onednn' }));
    expect(run('retrain', '--config', 'retrain.json')).toMatchObject(succeeded);
    const checkpoint = join(root, 'retrain', 'best');
    expect(run('eval', '--checkpoint', checkpoint, '--data', dataRoot, '--out', 'eval', '--flip', '--backend', 'onednn')).toMatchObject(succeeded);
    const [city] = await readdir(join(dataRoot, 'leftImg8bit', 'val'));
    const images = join(dataRoot, 'leftImg8bit', 'val', city);
    expect(run('predict', '--checkpoint', checkpoint, '--out', 'predict', '--backend', 'onednn', images)).toMatchObject(succeeded);
    expect((await readdir(join(root, 'predict'))).length).toBeGreaterThan(0);
    expect(run('export', '--checkpoint', checkpoint, '--height', '32', '--width', '48', '--out', 'model.onnx', '--backend', 'onednn')).toMatchObject(succeeded);
    const bench = run('bench', '--checkpoint', checkpoint, '--height', '32', '--width', '48', '--runs', '2', '--backend', 'onednn', '--json');
    expect(bench).toMatchObject(succeeded);
    expect(JSON.parse(bench.stdout.trim().split('\n').at(-1)!)).toMatchObject({ height: 32, width: 48 });
  });

  // Without a GPU, auto passes over WebGPU without loading Dawn (which prints warnings as it lists adapters).
  it.runIf(process.platform === 'linux' && gpuDeviceFiles().length === 0)('auto on a machine without a GPU takes onednn, and says so on its one [adl] line', () => {
    const child = run('bench', '--preset', 'autodeeplab-s', '--height', '33', '--width', '33', '--runs', '1', '--warmup', '0', '--json');
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: expect.stringMatching(/^\[adl\] backend onednn, onednn kernels; skipped node-gpu .*, webgpu \(no GPU device[^\n]*\n$/) });
  });
});

describe('adl summary', () => {
  it('prints its JSON line alone: no tfjs banner on stdout, nothing on stderr', () => {
    const summary = run('summary', '--preset', 'autodeeplab-s', '--height', '65', '--width', '65', '--json');
    expect(summary).toMatchObject(succeeded);
    expect(summary.stdout.trim().split('\n')).toHaveLength(1);
    expect(Object.keys(JSON.parse(summary.stdout))).toEqual(['params', 'multAdds', 'tfMultAdds']);
  });
});
