import { execFile as execFileCallback } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSynthetic } from '@adl/data-cityscapes';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No cluster runs here: the manifests are validated against the Kubernetes schema (kubernetes-models),
// and each Job's container command runs on this machine once per completion index, with
// JOB_COMPLETION_INDEX set as the Job controller sets it and the volumes' paths moved to a temporary folder.
const execFile = promisify(execFileCallback);
const here = fileURLToPath(new URL('..', import.meta.url));
const adlScript = join(here, '..', '..', 'packages', 'cli', 'bin', 'adl.js');
const MANIFESTS = ['eval-shards.yaml', 'merge.yaml', 'seed-sweep.yaml', 'ablation.yaml'];
let root: string;

interface JobManifest {
  spec: { completions?: number; template: { spec: { containers: { command: string[]; args: string[]; env?: { name: string; value: string }[] }[] } } };
}
const manifest = async (file: string) => parse(await readFile(join(here, file), 'utf8')) as JobManifest;

/** Runs the Job's container command for every completion index, with the volumes under `root`. */
async function runJob(file: string): Promise<void> {
  const { spec } = await manifest(file);
  const [container] = spec.template.spec.containers;
  const volumes: Record<string, string> = { RUNS: join(root, 'runs'), DATA: join(root, 'data'), CONFIG: join(root, 'config') };
  const env = Object.fromEntries((container.env ?? []).map(({ name, value }) => [name, volumes[name] ?? value]));
  for (let index = 0; index < (spec.completions ?? 1); index++) {
    const [program, ...flags] = container.command;
    await execFile(program, [...flags, ...container.args], { env: { ...process.env, ...env, PATH: `${join(root, 'bin')}:${process.env.PATH}`, ...(spec.completions ? { JOB_COMPLETION_INDEX: String(index) } : {}) } });
  }
}

const adl = (...args: string[]) => execFile(process.execPath, [adlScript, ...args], { cwd: root });
const retrainConfig = (outDir: string, iterations: number) => ({
  dataRoot: join(root, 'data'), outDir, architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations, evalEvery: iterations, batchSize: 2, crop: 32, backend: 'onednn',
});

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'adl-kubernetes-'));
  // `adl` on the PATH, as the image has it.
  await mkdir(join(root, 'bin'));
  await writeFile(join(root, 'bin', 'adl'), `#!/bin/sh\nexec "${process.execPath}" "${adlScript}" "$@"\n`);
  await chmod(join(root, 'bin', 'adl'), 0o755);
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 8, val: 4 }, height: 32, width: 48, seed: 8 });
  await writeFile(join(root, 'arch.json'), JSON.stringify({ name: 'tiny', path: [0, 1], genotype: [[1, 'skip_connect'], [0, 'sep_conv_3x3'], [2, 'skip_connect'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'skip_connect'], [4, 'max_pool_3x3'], [1, 'skip_connect'], [5, 'skip_connect'], [2, 'skip_connect']], filterMultiplier: 2 }));
  await mkdir(join(root, 'config', 'ablation'), { recursive: true });
  await writeFile(join(root, 'config', 'search.json'), JSON.stringify({ dataRoot: join(root, 'data'), outDir: join(root, 'unused'), epochs: 2, warmupEpochs: 1, layers: 1, filterMultiplier: 2, crop: 32, valImages: 1, backend: 'onednn' }));
  for (const i of [0, 1, 2, 3]) await writeFile(join(root, 'config', 'ablation', `retrain-${i}.json`), JSON.stringify(retrainConfig(join(root, 'runs', `ablation-${i}`), 1 + (i % 2))));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('the Kubernetes examples', () => {
  it('are valid batch/v1 Jobs (and the validator refuses a broken one)', async () => {
    for (const file of MANIFESTS) {
      const job = new Job((await manifest(file)) as never);
      expect(() => job.validate(), file).not.toThrow();
    }
    const broken = (await manifest('seed-sweep.yaml')) as unknown as { spec: { completions: unknown } };
    broken.spec.completions = 'three';
    expect(() => new Job(broken as never).validate()).toThrow(/completions/);
  });

  it('run as the Job controller runs them, one index at a time: shards merge into the unsharded eval; the sweep and the ablation finish', async () => {
    await writeFile(join(root, 'retrain.json'), JSON.stringify(retrainConfig(join(root, 'runs', 'retrain'), 2)));
    await adl('retrain', '--config', 'retrain.json');
    await runJob('eval-shards.yaml');
    await runJob('merge.yaml');
    await adl('eval', '--checkpoint', join(root, 'runs', 'retrain', 'best'), '--data', join(root, 'data'), '--out', join(root, 'whole'), '--backend', 'onednn');
    expect(await readFile(join(root, 'runs', 'eval', 'merged', 'metrics.json'), 'utf8')).toBe(await readFile(join(root, 'whole', 'metrics.json'), 'utf8'));
    await runJob('seed-sweep.yaml');
    expect((await readdir(join(root, 'runs', 'sweep'))).sort()).toEqual(['seed-0', 'seed-1', 'seed-2']);
    await runJob('ablation.yaml');
    const runs = [0, 1, 2, 3].map((i) => join(root, 'runs', `ablation-${i}`));
    const compared = JSON.parse((await adl('compare', '--json', ...runs)).stdout);
    expect(compared.map((r: { done: number; total: number }) => r.done === r.total)).toEqual([true, true, true, true]);
  });
});
