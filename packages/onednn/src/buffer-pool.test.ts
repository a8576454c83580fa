import { describe, expect, it } from 'vitest';
import { BufferPool, DEFAULT_POOL_MEGABYTES, poolMegabytesFromEnvironment } from './buffer-pool.js';

describe('BufferPool', () => {
  it('reuses a released array of the same length, up to its cap; 0 keeps none', () => {
    const pool = new BufferPool(64);
    const a = pool.allocate(8, false);
    pool.release(a);
    expect(pool.bytes).toBe(32);
    expect(pool.allocate(8, true)).toBe(a);
    const big = pool.allocate(32, false);
    pool.release(big); // 128 bytes: over the cap, dropped
    expect(pool.bytes).toBe(0);
    const none = new BufferPool(0);
    const b = none.allocate(4, false);
    none.release(b);
    expect(none.allocate(4, false)).not.toBe(b);
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
