// The packages as a user gets them: every publishable package is packed with `pnpm pack` (which
// rewrites workspace: ranges to versions) and installed with npm from the tarballs into empty
// projects, outside the workspace. This catches what workspace tests cannot: files missing from a
// package's `files`, dependencies only the workspace provides, entries and types that do not resolve.
// npm reaches the registry with the settings of the user running the tests (turbo passes the CA and
// proxy variables through: turbo.json here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const ONEDNN_BUILT = existsSync(join(REPO, 'packages', 'onednn', 'build', 'Release', 'adl_onednn.node'));

interface Published {
  readonly name: string;
  readonly dir: string;
}

/** The workspace packages that publish (not private), by folder under packages/. */
function publishedPackages(): Published[] {
  return readdirSync(join(REPO, 'packages'))
    .map((folder) => join(REPO, 'packages', folder))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; private?: boolean } }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir }));
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** An empty npm project with these tarballs installed, as `npm install a.tgz b.tgz …` leaves it. */
function npmProject(root: string, name: string, tarballs: string[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  // Outside the workspace, so its .npmrc does not apply; the user's npm settings do.
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--fetch-retries=1', '--fetch-timeout=120000', ...tarballs], dir);
  return dir;
}

const packages = publishedPackages();
let root: string;
const tarballs = new Map<string, string>();
let decodeOnly: string;
let everything: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'adl-packed-'));
  const destination = join(root, 'tarballs');
  for (const { name, dir } of packages) {
    const printed = run('pnpm', ['pack', '--pack-destination', destination], dir).trim().split('\n');
    tarballs.set(name, printed[printed.length - 1]!);
  }
  decodeOnly = npmProject(root, 'decode-only', [tarballs.get('@adl/decode')!]);
  // @types/node: a TypeScript consumer on Node has it; our types use Node's (Buffer, streams).
  everything = npmProject(root, 'everything', [...tarballs.values(), '@types/node@20']);
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the packed tarballs installed with npm into an empty project', () => {
  it('packs every publishable package', () => {
    expect([...tarballs.keys()].sort()).toEqual(['@adl/backend', '@adl/cell', '@adl/cli', '@adl/data-cityscapes', '@adl/decode', '@adl/eval', '@adl/onednn', '@adl/ops', '@adl/search', '@adl/trellis']);
  });

  it('@adl/decode alone installs no TensorFlow.js and decodes', () => {
    expect(readdirSync(join(decodeOnly, 'node_modules')).sort()).toEqual(['.package-lock.json', '@adl']);
    expect(readdirSync(join(decodeOnly, 'node_modules', '@adl'))).toEqual(['decode']);
    // β of 3 layers that always prefers going down a level (k = 2), where the trellis allows it.
    const script = `import { decodePath } from '@adl/decode';
      const betas = Array.from({ length: 3 }, () => Array.from({ length: 4 }, () => [0, 0, 5]));
      console.log(JSON.stringify(decodePath(betas).path));`;
    expect(run(process.execPath, ['--input-type=module', '-e', script], decodeOnly).trim()).toBe('[1,2,3]');
  });

  it('every package loads through its ESM and its CJS entry', () => {
    for (const name of tarballs.keys()) {
      const esm = run(process.execPath, ['--input-type=module', '-e', `const m = await import('${name}'); console.log(Object.keys(m).length)`], everything);
      const cjs = run(process.execPath, ['-e', `console.log(Object.keys(require('${name}')).length)`], everything);
      expect(Number(esm), name).toBeGreaterThan(0);
      expect(cjs, name).toBe(esm);
    }
  });

  it('the installed adl command prints its help', () => {
    const help = run(join(everything, 'node_modules', '.bin', 'adl'), ['--help'], everything);
    for (const command of ['search', 'decode', 'retrain', 'eval', 'predict', 'export', 'report', 'summary', 'bench']) expect(help).toContain(command);
  });

  it('the installed adl exports a preset as ONNX (its protobuf dependency from the registry)', () => {
    const out = join(everything, 'model.onnx');
    const result = spawnSync(join(everything, 'node_modules', '.bin', 'adl'), ['export', '--preset', 'autodeeplab-s', '--height', '33', '--width', '65', '--out', out, '--backend', 'cpu'], { cwd: everything, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(out);
    expect(readFileSync(out).length).toBeGreaterThan(40e6);
  });

  it.runIf(ONEDNN_BUILT)('the addon builds from the tarball, and adl bench runs on the onednn backend', () => {
    expect(existsSync(join(everything, 'node_modules', '@adl', 'onednn', 'build', 'Release', 'adl_onednn.node'))).toBe(true);
    const result = spawnSync(join(everything, 'node_modules', '.bin', 'adl'), ['bench', '--preset', 'autodeeplab-s', '--height', '65', '--width', '129', '--runs', '1', '--warmup', '0', '--backend', 'onednn', '--json'], { cwd: everything, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.trim()).toBe('[adl] backend onednn, onednn kernels');
    expect(JSON.parse(result.stdout)).toMatchObject({ backend: 'onednn', runs: 1 });
  });

  it('a TypeScript consumer typechecks against the published types', () => {
    const consumer = join(everything, 'consumer.ts');
    writeFileSync(consumer, `import { decodeArchitecture, type DecodedPath } from '@adl/decode';
import { FixedNet, getPreset, type Architecture } from '@adl/trellis';
import { parseSearchConfig, type SearchConfig } from '@adl/search';
import { ConfusionMatrix } from '@adl/eval';
import { TRAIN_CLASS_NAMES } from '@adl/data-cityscapes';
import { PRIMITIVES } from '@adl/ops';
import { AUTO_DEEPLAB_GENOTYPE, MixedOp } from '@adl/cell';
import { selectBackend } from '@adl/backend';
import { createProgram } from '@adl/cli';

const path: DecodedPath['path'] = [0, 1];
const preset: Architecture = getPreset('autodeeplab-s');
const config: SearchConfig = parseSearchConfig({ dataRoot: 'd', outDir: 'o' });
const classes: number = new ConfusionMatrix(19).numClasses;
export const used = [decodeArchitecture, AUTO_DEEPLAB_GENOTYPE, FixedNet, preset, path, config, classes, TRAIN_CLASS_NAMES, PRIMITIVES, MixedOp, selectBackend, createProgram];
// @ts-expect-error: a wrong type is caught, so the types are real, not any
export const wrong: SearchConfig = 3;
`);
    writeFileSync(join(everything, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
      files: ['consumer.ts'],
    }));
    // Library checking stays on, so our own .d.ts files are checked too; tfjs's own declarations do
    // not pass it under strict settings (tfjs-layers' configs, tfjs-core's `Long`), so their errors
    // are the only ones let through.
    const result = spawnSync(process.execPath, [TSC, '-p', everything], { cwd: everything, encoding: 'utf8' });
    const errors = result.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors.filter((line) => !line.startsWith('node_modules/@tensorflow/'))).toEqual([]);
    expect(result.stdout).not.toContain('consumer.ts');
  });
});
