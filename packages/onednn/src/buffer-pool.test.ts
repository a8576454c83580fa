import { describe, expect, it } from 'vitest';
import { BufferPool, DEFAULT_POOL_MEGABYTES, poolMegabytesFromEnvironment, sizeClass } from './buffer-pool.js';

describe('BufferPool', () => {
  it('reuses a released buffer for an array of a length in the same size class, up to its cap; 0 keeps none', () => {
    const pool = new BufferPool(256);
    const a = pool.allocate(20, false);
    expect(a.length).toBe(20);
    expect(a.buffer.byteLength).toBe(4 * sizeClass(20));
    pool.release(a);
    expect(pool.bytes).toBe(4 * sizeClass(20));
    const b = pool.allocate(19, true);
    expect(b.buffer).toBe(a.buffer);
    expect([b.length, ...new Set(b)]).toEqual([19, 0]);
    expect(pool.bytes).toBe(0);
    // A released array is taken back once.
    pool.release(b);
    pool.release(b);
    expect(pool.bytes).toBe(4 * sizeClass(20));
    const big = pool.allocate(100, false);
    pool.release(big); // 416 bytes: over the cap, dropped
    expect(pool.bytes).toBe(4 * sizeClass(20));
    const none = new BufferPool(0);
    const c = none.allocate(4, false);
    none.release(c);
    expect(none.allocate(4, false).buffer).not.toBe(c.buffer);
  });

  it('never reuses a pinned array', () => {
    const pool = new BufferPool(1024);
    const a = pool.allocate(40, false);
    pool.pin(a);
    pool.release(a);
    expect(pool.bytes).toBe(0);
    expect(pool.allocate(40, false).buffer).not.toBe(a.buffer);
  });

  it('size classes: exact up to 16 floats, then m · 2^k with m in 8..15 (at most 12.5% more)', () => {
    expect([0, 1, 16, 17, 18, 19, 20, 31, 32, 33, 100, 1000].map(sizeClass)).toEqual([1, 1, 16, 18, 18, 20, 20, 32, 32, 36, 104, 1024]);
    for (let length = 17; length < 5000; length += 7) {
      expect(sizeClass(length)).toBeGreaterThanOrEqual(length);
      expect(sizeClass(length)).toBeLessThanOrEqual(length * 1.125);
    }
  });
});

describe('ADL_ONEDNN_POOL_MB', () => {
  it('defaults to 2048; takes any number >= 0; names a bad value', () => {
    expect(poolMegabytesFromEnvironment(undefined)).toBe(DEFAULT_POOL_MEGABYTES);
    expect(DEFAULT_POOL_MEGABYTES).toBe(2048);
    expect(poolMegabytesFromEnvironment('0')).toBe(0);
    expect(poolMegabytesFromEnvironment('512.5')).toBe(512.5);
    for (const bad of ['-1', 'lots', 'Infinity']) expect(() => poolMegabytesFromEnvironment(bad)).toThrow(`ADL_ONEDNN_POOL_MB must be a number >= 0, got "${bad}"`);
  });
});
