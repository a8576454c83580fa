/**
 * Float32Arrays of freed tensors, kept for reuse by the onednn backend's kernels. A fresh typed
 * array costs a zeroed allocation outside the V8 heap and, in bulk, frequent garbage collections
 * (measured: a ReLU of 46k floats took 65 µs on the cpu storage against 16 µs on wasm).
 *
 * Safety: only arrays this pool handed out are ever reused; `release` is called only when the
 * backend deletes a tensor's data; arrays that something else may still see (a view made by a
 * cpu kernel, a `dataSync()` result) are `pin`ned and never reused.
 */
export class BufferPool {
  /** Free buffers by size class (bytes). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly owned = new WeakSet<Float32Array>();
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes: number) {}

  /** An array of `length` floats; zeroed when `zeroed`, otherwise with arbitrary contents. */
  allocate(length: number, zeroed: boolean): Float32Array {
    const bytes = 4 * sizeClass(length);
    const reused = this.free.get(bytes)?.pop();
    const array = new Float32Array(reused ?? new ArrayBuffer(bytes), 0, length);
    this.owned.add(array);
    if (reused) {
      this.pooledBytes -= bytes;
      if (zeroed) array.fill(0);
    }
    return array;
  }

  /** Whether the pool handed out `array` and may take it back. */
  owns(array: unknown): array is Float32Array {
    return array instanceof Float32Array && this.owned.has(array);
  }

  /** Never reuse `array` (something outside the backend's bookkeeping can see it). */
  pin(array: unknown): void {
    if (array instanceof Float32Array) this.owned.delete(array);
  }

  /** Takes back an array whose tensor data was deleted. */
  release(array: unknown): void {
    if (!this.owns(array)) return;
    this.owned.delete(array);
    const buffer = array.buffer as ArrayBuffer;
    if (this.pooledBytes + buffer.byteLength > this.maxPooledBytes) return;
    const list = this.free.get(buffer.byteLength);
    if (list) list.push(buffer);
    else this.free.set(buffer.byteLength, [buffer]);
    this.pooledBytes += buffer.byteLength;
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.pooledBytes;
  }

  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
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

/** The pool's default cap: at the paper's retraining crop it holds the step's recurring buffers. */
export const DEFAULT_POOL_MEGABYTES = 2048;

/**
 * `ADL_ONEDNN_POOL_MB`, when set: the most megabytes of freed arrays the pool keeps for reuse (0: none).
 * Less memory for more time: a retraining step of autodeeplab-s at 769², batch 2, took 18.5–20.2 s and
 * 7.3 GB max RSS with the default, 39.2 s and 6.1 GB with 0 (fresh arrays cost zeroed pages and
 * garbage collections).
 */
export function poolMegabytesFromEnvironment(value: string | undefined = process.env.ADL_ONEDNN_POOL_MB): number {
  if (value === undefined || value === '') return DEFAULT_POOL_MEGABYTES;
  const megabytes = Number(value);
  if (!Number.isFinite(megabytes) || megabytes < 0) throw new RangeError(`ADL_ONEDNN_POOL_MB must be a number >= 0, got "${value}"`);
  return megabytes;
}
