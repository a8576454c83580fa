import { execFile as execFileCallback, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSynthetic } from '@adl/data-cityscapes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The example's scripts submitted to a real one-node Slurm cluster (scripts/slurm-cluster.sh: Debian's
// slurm-wlm and munge, which scripts/setup.sh installs; the daemons need root) on tiny synthetic data.
const execFile = promisify(execFileCallback);
const here = fileURLToPath(new URL('..', import.meta.url));
const repo = join(here, '..', '..');
const adl = `${process.execPath} ${join(repo, 'packages', 'cli', 'bin', 'adl.js')}`;
const hasSlurm = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v slurmctld && command -v munged && [ "$(id -u)" = 0 ]'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasSlurm && process.env.ADL_REQUIRE_SLURM === '1') throw new Error('ADL_REQUIRE_SLURM=1 but Slurm (slurm-wlm, munge) is not installed or this is not root: run scripts/setup.sh');

let root: string;
let env: NodeJS.ProcessEnv;
const say = (line: string) => console.log(`[slurm test] ${line}`);
const run = async (file: string, extra: NodeJS.ProcessEnv = {}, args: string[] = []) => (await execFile(file, args, { env: { ...env, ...extra }, cwd: root })).stdout.trim();
const tiny = { crop: 32, backend: 'onednn' };

/** Waits until none of `jobs` is queued or running (a requeued task counts as queued). */
async function finished(jobs: string[], seconds = 240): Promise<void> {
  for (let waited = 0; waited < seconds * 4; waited++) {
    if ((await run('squeue', {}, ['-h', '-j', jobs.join(',')]).catch(() => '')) === '') return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`jobs ${jobs.join(', ')} still queued after ${seconds} s`);
}

beforeAll(async () => {
  if (!hasSlurm) return;
  root = await mkdtemp(join(tmpdir(), 'adl-slurm-'));
  say(await run(join(repo, 'scripts', 'slurm-cluster.sh'), {}, ['start', join(root, 'cluster')]));
  env = { ...process.env, SLURM_CONF: join(root, 'cluster', 'slurm.conf'), ADL: adl };
  await generateSynthetic({ dir: join(root, 'data'), count: { train: 8, val: 5 }, height: 32, width: 48, seed: 7 });
  await writeFile(join(root, 'arch.json'), JSON.stringify({ name: 'tiny', path: [0, 1], genotype: [[1, 'skip_connect'], [0, 'sep_conv_3x3'], [2, 'skip_connect'], [1, 'avg_pool_3x3'], [3, 'skip_connect'], [0, 'skip_connect'], [4, 'max_pool_3x3'], [1, 'skip_connect'], [5, 'skip_connect'], [2, 'skip_connect']], filterMultiplier: 2 }));
});
afterAll(async () => {
  if (!hasSlurm) return;
  say(await run(join(repo, 'scripts', 'slurm-cluster.sh'), {}, ['stop', join(root, 'cluster')]));
  await rm(root, { recursive: true, force: true });
});

const retrainConfig = (outDir: string, iterations: number) => ({ dataRoot: join(root, 'data'), outDir, architecture: join(root, 'arch.json'), asppChannels: 8, asppRates: [1, 2, 3], iterations, evalEvery: iterations, batchSize: 2, ...tiny });

describe.runIf(hasSlurm)('the Slurm examples on a one-node cluster', () => {
  it('sharded evaluation (3 array tasks) and its merge (afterok) write the unsharded run\'s metrics.json', async () => {
    await writeFile(join(root, 'retrain.json'), JSON.stringify(retrainConfig(join(root, 'retrain'), 4)));
    await execFile(process.execPath, [join(repo, 'packages', 'cli', 'bin', 'adl.js'), 'retrain', '--config', 'retrain.json'], { cwd: root });
    const checkpoint = join(root, 'retrain', 'best');
    const jobs = await run(join(here, 'submit-eval.sh'), { CHECKPOINT: checkpoint, DATA: join(root, 'data'), OUT: join(root, 'eval'), SHARDS: '3', EVAL_FLAGS: '--backend onednn' });
    say(`submitted eval shards and merge: jobs ${jobs}`);
    await finished(jobs.split(' '));
    await execFile(process.execPath, [join(repo, 'packages', 'cli', 'bin', 'adl.js'), 'eval', '--checkpoint', checkpoint, '--data', join(root, 'data'), '--out', join(root, 'whole'), '--backend', 'onednn'], { cwd: root });
    const merged = await readFile(join(root, 'eval', 'merged', 'metrics.json'), 'utf8');
    expect(merged).toBe(await readFile(join(root, 'whole', 'metrics.json'), 'utf8'));
    say(`merged 3 shards: mIoU ${JSON.parse(merged).miou}, ${JSON.parse(merged).images} images, metrics.json equal to the unsharded eval's`);
  });

  it('a seed sweep (2 array tasks), one task stopped by USR1 and requeued, ends every search; adl compare lists them', async () => {
    await writeFile(join(root, 'search.json'), JSON.stringify({ dataRoot: join(root, 'data'), outDir: join(root, 'unused'), epochs: 8, warmupEpochs: 2, layers: 2, filterMultiplier: 2, valImages: 1, checkpointEvery: 1000, ...tiny }));
    const out = join(root, 'sweep');
    const job = await run(join(here, 'submit-sweep.sh'), { CONFIG: join(root, 'search.json'), OUT: out, SEEDS: '2' });
    say(`submitted a seed sweep: job ${job}`);
    // As a scheduler warns before the time limit: USR1 to task 0's batch shell once its search is stepping.
    const log = join(out, 'slurm-seed-0.out');
    for (let i = 0; i < 400 && !/ step 1\//.test(await readFile(log, 'utf8').catch(() => '')); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await run('scancel', {}, ['--batch', '--signal=USR1', `${job}_0`]);
    // Slurm holds a requeued job for two minutes before it may start again; a test need not wait.
    for (let i = 0; i < 400 && !(await readFile(log, 'utf8')).includes('requeueing'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await run('scontrol', {}, ['update', `JobId=${job}_0`, 'StartTime=now']);
    await finished([job]);
    const text = await readFile(log, 'utf8');
    expect(text).toMatch(/\[adl\] SIGUSR1: stopped after step \d+ of 16 with a checkpoint/);
    expect(text).toContain(`[adl] interrupted with a checkpoint: requeueing ${job}_0`);
    expect(text).toMatch(/\[adl\] resuming search at step \d+/);
    const compared = JSON.parse(await run(process.execPath, {}, [join(repo, 'packages', 'cli', 'bin', 'adl.js'), 'compare', '--json', join(out, 'seed-0'), join(out, 'seed-1')]));
    expect(compared.map((r: { seed: number }) => r.seed).sort()).toEqual([0, 1]);
    for (const r of compared) expect(r).toMatchObject({ kind: 'search', done: 8, total: 8 });
    say(`sweep done, task 0 stopped by USR1 and requeued: ${compared.map((r: { seed: number; bestMiou: number }) => `seed ${r.seed} best mIoU ${r.bestMiou}`).join(', ')}`);
  });

  it('the ablation: one array task per retrain config, each to its end', async () => {
    const configs = join(root, 'ablation');
    await mkdir(configs, { recursive: true });
    for (const iterations of [2, 3]) await writeFile(join(configs, `retrain-${iterations}.json`), JSON.stringify(retrainConfig(join(root, `ablation-${iterations}`), iterations)));
    const job = await run(join(here, 'submit-ablation.sh'), { CONFIGS: configs, LOGS: join(root, 'ablation-logs') });
    say(`submitted the ablation: job ${job}`);
    await finished([job]);
    const compared = JSON.parse(await run(process.execPath, {}, [join(repo, 'packages', 'cli', 'bin', 'adl.js'), 'compare', '--json', join(root, 'ablation-2'), join(root, 'ablation-3')]));
    expect(compared.map((r: { done: number; total: number }) => `${r.done}/${r.total}`).sort()).toEqual(['2/2', '3/3']);
    say(`ablation done: ${compared.length} runs`);
  });
});
