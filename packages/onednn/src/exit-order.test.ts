import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { binding } from './binding.js';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));

// A convolution (all three passes, one through a weight reorder) and a matrix product, then a
// normal exit: the primitives stay in the addon's caches until the process ends.
const CHILD = `
import { binding } from '@adl/onednn';
const params = Int32Array.from([2, 16, 16, 8, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
const x = new Float32Array(2 * 16 * 16 * 8).fill(1), w = new Float32Array(9 * 64).fill(0.1), y = new Float32Array(x.length);
binding.conv(0, x, w, y, params);
binding.conv(1, y, w, x, params);
binding.conv(2, x, y, w, params);
binding.matMul(new Float32Array(64).fill(1), new Float32Array(64).fill(1), new Float32Array(64), Int32Array.from([1, 1, 8, 8, 8, 0, 0]));
console.log('done');
`;

describe.runIf(binding && process.platform === 'linux')('the addon at exit', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'adl-exit-order-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('destroys no oneDNN primitive after its engine (the shim in test/destroy-order.c ends the process otherwise)', () => {
    const shim = join(scratch, 'destroy-order.so');
    const compiled = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', shim, join(packageRoot, 'test', 'destroy-order.c'), '-ldl'], { encoding: 'utf8' });
    expect(compiled.status, compiled.stderr).toBe(0);
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd: packageRoot, encoding: 'utf8', env: { ...process.env, LD_PRELOAD: shim } });
    // With the engine a function-local static and the caches globals, the engine was destroyed first: status 70.
    expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    expect(child.stdout).toBe('done\n');
  });
});
