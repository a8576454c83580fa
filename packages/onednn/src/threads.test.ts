import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binding } from './binding.js';
import { setThreads, threadCount, threadsFromEnvironment } from './threads.js';

describe('ADL_THREADS', () => {
  it('is read as an integer >= 1, unset or empty leaving OpenMP its default', () => {
    expect(threadsFromEnvironment('1')).toBe(1);
    expect(threadsFromEnvironment('16')).toBe(16);
    expect(threadsFromEnvironment(undefined)).toBeUndefined();
    expect(threadsFromEnvironment('')).toBeUndefined();
    for (const bad of ['0', '-2', '1.5', 'two']) expect(() => threadsFromEnvironment(bad)).toThrow(`ADL_THREADS must be an integer >= 1, got "${bad}"`);
  });
});

describe.runIf(binding)('oneDNN threads', () => {
  it('setThreads changes the count threadCount reports, and a 1-thread convolution equals a multi-thread one', () => {
    const before = threadCount()!;
    const [n, h, w, c, oc] = [1, 9, 9, 16, 16];
    const x = Float32Array.from({ length: n * h * w * c }, (_, i) => Math.sin(i));
    const filter = Float32Array.from({ length: 9 * c * oc }, (_, i) => Math.cos(i));
    const params = Int32Array.of(n, h, w, c, h, w, oc, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    const convolve = () => {
      const y = new Float32Array(n * h * w * oc);
      binding!.conv(0, x, filter, y, params);
      return y;
    };
    setThreads(2);
    const parallel = convolve();
    expect(setThreads(1)).toBe(1);
    expect(threadCount()).toBe(1);
    const single = convolve();
    single.forEach((v, i) => expect(v).toBeCloseTo(parallel[i], 4));
    setThreads(before);
    expect(() => setThreads(0)).toThrow('threads must be an integer >= 1, got 0');
  });

  it('importing the package applies ADL_THREADS', () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const script = "import('@adl/onednn').then((m) => console.log(m.threadCount()))";
    expect(execFileSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8', env: { ...process.env, ADL_THREADS: '1' } }).trim()).toBe('1');
  });
});
