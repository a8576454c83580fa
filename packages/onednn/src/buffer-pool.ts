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
  private readonly free = new Map<number, Float32Array[]>();
  private readonly owned = new WeakSet<Float32Array>();
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes: number) {}

  /** An array of `length` floats; zeroed when `zeroed`, otherwise with arbitrary contents. */
  allocate(length: number, zeroed: boolean): Float32Array {
    const reused = this.free.get(length)?.pop();
    if (!reused) {
      const array = new Float32Array(length);
      this.owned.add(array);
      return array;
    }
    this.pooledBytes -= reused.byteLength;
    if (zeroed) reused.fill(0);
    return reused;
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
    if (!this.owns(array) || this.pooledBytes + array.byteLength > this.maxPooledBytes) return;
    const list = this.free.get(array.length);
    if (list) list.push(array);
    else this.free.set(array.length, [array]);
    this.pooledBytes += array.byteLength;
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

/** The pool's default cap: at the paper's retraining crop it holds the step's recurring buffers. */
export const DEFAULT_POOL_MEGABYTES = 2048;

/**
 * `ADL_ONEDNN_POOL_MB`, when set: the most megabytes of freed arrays the pool keeps for reuse (0: none).
 * Less memory for more time: a retraining step of autodeeplab-s at 769², batch 2, took 26.0 s and
 * 7.95 GB max RSS with the default, 39.2 s and 6.1 GB with 0 (fresh arrays cost zeroed pages and
 * garbage collections).
 */
export function poolMegabytesFromEnvironment(value: string | undefined = process.env.ADL_ONEDNN_POOL_MB): number {
  if (value === undefined || value === '') return DEFAULT_POOL_MEGABYTES;
  const megabytes = Number(value);
  if (!Number.isFinite(megabytes) || megabytes < 0) throw new RangeError(`ADL_ONEDNN_POOL_MB must be a number >= 0, got "${value}"`);
  return megabytes;
}
