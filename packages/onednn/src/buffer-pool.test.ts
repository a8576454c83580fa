import { describe, expect, it } from 'vitest';
import { totalmem } from 'node:os';
import { BufferPool, DEFAULT_POOL_MEGABYTES, defaultPoolMegabytes, POOL_HEADROOM, poolMegabytesFromEnvironment, sizeClass, type BufferSource } from './buffer-pool.js';

/** Plain buffers, recording which ones the pool discards (each may be used again). */
function recordingSource(): BufferSource & { discarded: ArrayBuffer[] } {
  const discarded: ArrayBuffer[] = [];
  return { allocate: (bytes) => new ArrayBuffer(bytes), discard: (buffer) => discarded.push(buffer) > 0, discarded };
}

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

  it('keeps what is in use plus what is kept within twice the peak in use by default', () => {
    expect(POOL_HEADROOM).toBe(1);
    const pool = new BufferPool(2 ** 30, recordingSource());
    const first = Array.from({ length: 4 }, () => pool.allocate(1024, false));
    first.forEach((array) => pool.release(array));
    // 16 KiB kept, peak 16 KiB: a fresh 4,096-float array (16 KiB) fits the 32 KiB budget, nothing dropped.
    pool.allocate(4096, false);
    expect([pool.bytes, pool.inUse.bytes]).toEqual([16384, 16384]);
  });

  it('keeps what is in use plus what is kept within its headroom above the peak in use, dropping the oldest kept first', () => {
    const source = recordingSource();
    const pool = new BufferPool(2 ** 30, source, 0.25);
    // Peak in use: 4 arrays of 1,024 floats = 16 KiB; budget 20 KiB.
    const first = Array.from({ length: 4 }, () => pool.allocate(1024, false));
    expect(pool.inUse).toEqual({ bytes: 16384, peakBytes: 16384 });
    first.forEach((array) => pool.release(array));
    expect([pool.bytes, pool.inUse.bytes, source.discarded.length]).toEqual([16384, 0, 0]);
    // Another size: each fresh 2,048-float array first drops the oldest kept buffers that would exceed the budget.
    const wide = pool.allocate(2048, false); // 8 KiB in use + 16 kept > 20: drops one (the oldest)
    expect(source.discarded).toEqual([first[0]!.buffer]);
    expect(pool.bytes + pool.inUse.bytes).toBeLessThanOrEqual(1.25 * pool.inUse.peakBytes);
    const wide2 = pool.allocate(2048, false); // 16 in use: peak 16 KiB, 4 KiB may stay kept
    expect(source.discarded).toEqual([first[0]!.buffer, first[1]!.buffer, first[2]!.buffer]);
    expect([pool.bytes, pool.inUse.bytes]).toEqual([4096, 16384]);
    // Releasing keeps the total: both are kept, and reused.
    pool.release(wide);
    pool.release(wide2);
    expect([pool.bytes, source.discarded.length]).toEqual([20480, 3]);
    expect(pool.allocate(2048, false).buffer).toBe(wide2.buffer);
    // clear() drops everything kept.
    pool.clear();
    expect(pool.bytes).toBe(0);
    expect(source.discarded.slice(3)).toEqual([first[3]!.buffer, wide.buffer]);
  });

  it('uses a dropped buffer whose memory was given back again before making a new one; one left to the collector, never', () => {
    const source = recordingSource();
    const made: ArrayBuffer[] = [];
    const pool = new BufferPool(0, { allocate: (bytes) => made[made.push(source.allocate(bytes)) - 1]!, discard: source.discard });
    const a = pool.allocate(1000, false);
    a.fill(7);
    pool.release(a); // nothing is kept (cap 0): discarded, and emptied
    expect(source.discarded).toEqual([a.buffer]);
    const b = pool.allocate(1000, true);
    expect(b.buffer).toBe(a.buffer);
    expect([...new Set(b)]).toEqual([0]);
    expect(made).toHaveLength(1);
    const gone = new BufferPool(0, { allocate: (bytes) => new ArrayBuffer(bytes), discard: () => false });
    const c = gone.allocate(1000, false);
    gone.release(c);
    expect(gone.allocate(1000, false).buffer).not.toBe(c.buffer);
  });

  it('reuses a kept buffer up to half as large again as a request needs, not larger', () => {
    const pool = new BufferPool(2 ** 30);
    pool.allocate(10_000, false); // in use throughout: a peak the kept buffers fit under
    const big = pool.allocate(1500, false);
    pool.release(big);
    const smaller = pool.allocate(1000, true);
    expect(smaller.buffer).toBe(big.buffer);
    expect([smaller.length, ...new Set(smaller)]).toEqual([1000, 0]);
    pool.release(smaller);
    expect(pool.allocate(900, false).buffer).not.toBe(big.buffer);
    expect(pool.bytes).toBe(big.buffer.byteLength);
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
  it('defaults to a quarter of the memory, at most 4096; takes any number >= 0; names a bad value', () => {
    expect(poolMegabytesFromEnvironment(undefined)).toBe(DEFAULT_POOL_MEGABYTES);
    expect(DEFAULT_POOL_MEGABYTES).toBe(defaultPoolMegabytes(totalmem()));
    expect(defaultPoolMegabytes(24 * 2 ** 30)).toBe(4096);
    expect(defaultPoolMegabytes(8 * 2 ** 30)).toBe(2048);
    expect(poolMegabytesFromEnvironment('0')).toBe(0);
    expect(poolMegabytesFromEnvironment('512.5')).toBe(512.5);
    for (const bad of ['-1', 'lots', 'Infinity']) expect(() => poolMegabytesFromEnvironment(bad)).toThrow(`ADL_ONEDNN_POOL_MB must be a number >= 0, got "${bad}"`);
  });
});
