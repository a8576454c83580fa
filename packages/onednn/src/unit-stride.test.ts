import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binding } from './binding.js';

// The three passes of 1×1 convolutions at stride 2 on even maps with few channels: oneDNN 2.6's
// AVX2 filter gradient for them wrote past a buffer of its own (valgrind: invalid writes; then
// "corrupted size vs. prev_size"), whatever instruction set the process runs on.
const CHILD = `
import { binding } from '@adl/onednn';
for (const [c, oc] of [[4, 2], [3, 8], [16, 16]]) {
  const params = Int32Array.from([2, 8, 8, c, 4, 4, oc, 1, 1, 1, 2, 2, 1, 1, 0, 0]);
  const x = new Float32Array(2 * 8 * 8 * c).fill(1), dy = new Float32Array(2 * 4 * 4 * oc).fill(1), w = new Float32Array(c * oc).fill(0.5);
  binding.conv(0, x, w, dy, params);
  binding.conv(1, dy, w, x, params);
  binding.conv(2, x, dy, w, params);
}
`;

describe.runIf(binding)('strided 1×1 convolutions', () => {
  it('reach oneDNN at unit stride only (ONEDNN_VERBOSE lists every primitive run)', () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], { cwd, encoding: 'utf8', env: { ...process.env, ONEDNN_VERBOSE: '1' } });
    expect(child.status, child.stderr).toBe(0);
    const convolutions = child.stdout.split('\n').filter((line) => line.startsWith('onednn_verbose,exec,cpu,convolution'));
    // Three shapes × three passes.
    expect(convolutions).toHaveLength(9);
    // A problem reads like mb2_ic4oc2_ih4oh4kh1sh1dh0ph0_iw4ow4kw1sw1dw0pw0.
    const strides = convolutions.map((line) => /kh1sh(\d+).*kw1sw(\d+)/.exec(line)?.slice(1).join('×'));
    expect(new Set(strides)).toEqual(new Set(['1×1']));
  });
});
