import { totalmem } from 'node:os';

/** Where the pool's buffers come from, and how the memory of one it drops is given back. */
export interface BufferSource {
  allocate(bytes: number): ArrayBuffer;
  /**
   * Gives back the memory of a buffer the pool no longer keeps. true: done, and the buffer may be used
   * again (its memory then comes back as zeroed pages); false: the buffer is left to the garbage collector.
   */
  discard(buffer: ArrayBuffer): boolean;
}

/** Plain ArrayBuffers, freed by the garbage collector. */
export const JS_BUFFERS: BufferSource = { allocate: (bytes) => new ArrayBuffer(bytes), discard: () => false };

/**
 * Kept buffers may add this fraction of the peak in use: in use and kept together stay within twice
 * the peak. A dropped buffer costs its pages again when it is next needed (the system zeroes them).
 * Measured, retraining step of autodeeplab-s at 769², batch 2, recomputing cells, cap 4096 MB,
 * medians of 3 steps (node packages/trellis/bench/fixed-net.mjs retrain-step --size 769 --runs 3):
 * 0.25, 0.5, 1 gave 10.1, 9.9, 9.3 s and 3.10, 3.41, 4.06 GB max RSS with oneDNN capped at AVX2;
 * 9.6, 8.8, 8.7 s and 2.82, 3.08, 3.80 GB natively (AVX-512).
 */
export const POOL_HEADROOM = 1;
/**
 * A request may take a kept buffer up to this much larger than it needs: fewer misses, so fewer fresh
 * buffers and drops (at 385², 0.2 GB dropped a step instead of 1.4).
 */
const REUSE_FACTOR = 1.5;

/**
 * Float32Arrays of freed tensors, kept for reuse by the onednn backend's kernels. A fresh typed
 * array costs a zeroed allocation outside the V8 heap and, in bulk, frequent garbage collections
 * (measured: a ReLU of 46k floats took 65 µs on the cpu storage against 16 µs on wasm).
 *
 * Memory: the arrays in use plus those kept stay within a quarter above the most that was ever in use
 * at once (so at a training step's peak little is kept), and at most `maxPooledBytes` are kept. An array
 * the pool lets go of is handed to its source's `discard`, which can give its memory back at once: a
 * dropped ArrayBuffer is otherwise freed only when the garbage collector gets to it (measured: 3.7 GB
 * of them waiting at the end of a 769² retraining step). An emptied buffer is kept, taking no memory,
 * and used again before a new one is made: the collector, which does not see the memory of the
 * addon's buffers, would otherwise leave their mappings behind (64 more a step at 385²).
 *
 * Safety: only arrays this pool handed out are ever reused or discarded; `release` is called only
 * when the backend deletes a tensor's data; arrays that something else may still see (a view made by
 * a cpu kernel, a `dataSync()` result) are `pin`ned and never reused.
 */
export class BufferPool {
  /** Free buffers by size class (bytes). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** The same free buffers, oldest release first: the order in which they are dropped. */
  private readonly byAge = new Set<ArrayBuffer>();
  /** Dropped buffers whose memory was given back, by size class: reused before new ones are made. */
  private readonly emptied = new Map<number, ArrayBuffer[]>();
  private readonly owned = new WeakSet<Float32Array>();
  private pooledBytes = 0;
  /** Bytes of the owned arrays handed out and not yet released or pinned, and their maximum. */
  private liveBytes = 0;
  private peakLiveBytes = 0;

  constructor(
    private readonly maxPooledBytes: number,
    private readonly source: BufferSource = JS_BUFFERS,
    private readonly headroom: number = POOL_HEADROOM,
  ) {}

  /** An array of `length` floats; zeroed when `zeroed`, otherwise with arbitrary contents. */
  allocate(length: number, zeroed: boolean): Float32Array {
    let buffer = takeFitting(this.free, length);
    let recycled = buffer !== undefined;
    if (buffer) {
      this.byAge.delete(buffer);
      this.pooledBytes -= buffer.byteLength;
    } else {
      const bytes = 4 * sizeClass(length);
      this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes + bytes);
      this.dropOldest(this.liveBytes + bytes + this.pooledBytes - this.budget());
      buffer = takeFitting(this.emptied, length);
      recycled = buffer !== undefined;
      buffer ??= this.source.allocate(bytes);
    }
    const array = new Float32Array(buffer, 0, length);
    this.owned.add(array);
    this.liveBytes += buffer.byteLength;
    // A new buffer is zeroed; a recycled one holds earlier values (an emptied one in its last partial page).
    if (recycled && zeroed) array.fill(0);
    return array;
  }

  /** Whether the pool handed out `array` and may take it back. */
  owns(array: unknown): array is Float32Array {
    return array instanceof Float32Array && this.owned.has(array);
  }

  /** Never reuse `array` (something outside the backend's bookkeeping can see it). */
  pin(array: unknown): void {
    if (!this.owns(array)) return;
    this.owned.delete(array);
    this.liveBytes -= array.buffer.byteLength;
  }

  /** Takes back an array whose tensor data was deleted. */
  release(array: unknown): void {
    if (!this.owns(array)) return;
    this.owned.delete(array);
    const buffer = array.buffer as ArrayBuffer;
    this.liveBytes -= buffer.byteLength;
    // Releasing moves bytes from in use to kept, so only a fresh allocation can exceed the budget.
    if (this.pooledBytes + buffer.byteLength > this.maxPooledBytes) {
      this.drop(buffer);
      return;
    }
    push(this.free, buffer);
    this.byAge.add(buffer);
    this.pooledBytes += buffer.byteLength;
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.pooledBytes;
  }

  /** Bytes of the arrays handed out and still in use, now and at most. */
  get inUse(): { bytes: number; peakBytes: number } {
    return { bytes: this.liveBytes, peakBytes: this.peakLiveBytes };
  }

  clear(): void {
    this.dropOldest(this.pooledBytes);
    this.emptied.clear();
  }

  /** The most bytes in use and kept together: the peak in use plus its headroom. */
  private budget(): number {
    return this.peakLiveBytes * (1 + this.headroom);
  }

  /** Drops free buffers, oldest first, until at least `bytes` are let go. */
  private dropOldest(bytes: number): void {
    for (const buffer of this.byAge) {
      if (bytes <= 0) break;
      this.byAge.delete(buffer);
      const list = this.free.get(buffer.byteLength)!;
      list.splice(list.indexOf(buffer), 1);
      this.pooledBytes -= buffer.byteLength;
      bytes -= buffer.byteLength;
      this.drop(buffer);
    }
  }

  private drop(buffer: ArrayBuffer): void {
    if (this.source.discard(buffer)) push(this.emptied, buffer);
  }
}

function push(lists: Map<number, ArrayBuffer[]>, buffer: ArrayBuffer): void {
  const list = lists.get(buffer.byteLength);
  if (list) list.push(buffer);
  else lists.set(buffer.byteLength, [buffer]);
}

/** A buffer for `length` floats from `lists`: of its size class or, failing that, of a class up to REUSE_FACTOR larger. */
function takeFitting(lists: Map<number, ArrayBuffer[]>, length: number): ArrayBuffer | undefined {
  const limit = 4 * length * REUSE_FACTOR;
  for (let bytes = 4 * sizeClass(length); ; bytes = 4 * sizeClass(bytes / 4 + 1)) {
    const buffer = lists.get(bytes)?.pop();
    if (buffer || bytes >= limit) return buffer;
  }
}

/**
 * The buffer length for an array of `length` floats: rounded up to m · 2^k with m in 8..15 (at most
 * 12.5% more), so that arrays of nearby sizes share buffers.
 */
export function sizeClass(length: number): number {
  if (length <= 16) return Math.max(length, 1);
  const step = 2 ** (Math.floor(Math.log2(length)) - 3);
  return Math.ceil(length / step) * step;
}

/**
 * The pool's default cap on what it keeps: a quarter of the machine's memory, at most 4096 MB (its
 * budget, twice the peak in use, binds first at most sizes; at 769² the former cap of 2048 MB bound,
 * and cost 0.3–0.8 s a retraining step).
 */
export function defaultPoolMegabytes(totalBytes: number = totalmem()): number {
  return Math.min(4096, Math.floor(totalBytes / 4 / 2 ** 20));
}

export const DEFAULT_POOL_MEGABYTES = defaultPoolMegabytes();

/**
 * `ADL_ONEDNN_POOL_MB`, when set: the most megabytes of freed arrays the pool keeps for reuse (0: none).
 * Less memory for more time: a retraining step of autodeeplab-s at 769², batch 2, took 10.0 s and
 * 3.9 GB max RSS with 2048, 13.8 s and 3.6 GB with 512, 22.0 s and 3.3 GB with 0 (2026-12-01; fresh
 * pages cost time to touch, and small arrays garbage collections).
 */
export function poolMegabytesFromEnvironment(value: string | undefined = process.env.ADL_ONEDNN_POOL_MB): number {
  if (value === undefined || value === '') return DEFAULT_POOL_MEGABYTES;
  const megabytes = Number(value);
  if (!Number.isFinite(megabytes) || megabytes < 0) throw new RangeError(`ADL_ONEDNN_POOL_MB must be a number >= 0, got "${value}"`);
  return megabytes;
}
