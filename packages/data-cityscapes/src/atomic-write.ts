import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomicWithFsync from 'write-file-atomic';

/**
 * Writes `path` whole or not at all (npm's write-file-atomic: a temporary file beside it, fsync,
 * rename), creating its folder first. Checkpoints, logs, PNGs and reports all go through here.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomicWithFsync(path, typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}
