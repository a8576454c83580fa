import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binding } from './binding.js';

// The input and filter gradients of a 3×3 convolution with dilation 24 on a 17×17 map (ASPP's at a
// 129² crop), which oneDNN 2.6 computes with its gemm-based implementation, in a loop for 1.5 s after
// a SIGUSR2 handler is installed.
const CHILD = `
import { binding } from '@adl/onednn';
process.on('SIGUSR2', () => {});
const [n, h, w, c, oc, k, d] = [2, 17, 17, 200, 256, 3, 24];
const params = Int32Array.from([n, h, w, c, h, w, oc, k, k, 1, 1, 1, d, d, d, d]);
const x = new Float32Array(n * h * w * c).fill(0.5), dy = new Float32Array(n * h * w * oc).fill(0.25), filter = new Float32Array(k * k * c * oc).fill(0.1);
console.log('ready');
const end = Date.now() + 1500;
for (let i = 0; Date.now() < end; i++) {
  binding.conv(1, dy, filter, x, params);
  binding.conv(2, x, dy, filter, params);
  if (i % 10 === 0) new Float32Array(1000 + (i % 7) * 100); // small garbage beside the primitives' own buffers
}
console.log('done');
// Exit only once the parent has stopped signalling (it closes stdin then): a signal that arrived while
// Node tears down, after its handlers are gone, would end the process by that signal.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

describe.runIf(binding)('signals during oneDNN primitives', () => {
  it('a process receiving signals while dilated convolution gradients run keeps a sound heap', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signals = 0;
    let flood: NodeJS.Timeout | undefined;
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (flood === undefined && stdout.includes('ready')) {
        flood = setInterval(() => {
          if (child.exitCode === null && !stdout.includes('done') && child.kill('SIGUSR2')) signals++;
        }, 1);
      }
      if (stdout.includes('done')) {
        clearInterval(flood);
        child.stdin.end();
      }
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearInterval(flood);
    // Before the signals were held, the child died within a second ("corrupted size vs. prev_size", or SIGSEGV).
    expect({ code, signal, stderr: stderr.slice(-300) }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(stdout).toContain('done');
    expect(signals).toBeGreaterThan(50);
  }, 30_000);
});
