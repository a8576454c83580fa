import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import writeFileAtomicWithFsync from 'write-file-atomic';

/**
 * Writes `path` whole or not at all (npm's write-file-atomic: a temporary file beside it, fsync,
 * rename), creating its folder first. Checkpoints, logs, PNGs and reports all go through here.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomicWithFsync(path, typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
}

/** The temporary file name write-file-atomic uses: the target's name, a dot, a decimal hash. */
const TEMPORARY = /\.(json|jsonl|bin|png|md|html)\.\d+$/;

/**
 * Removes the temporary files that writes killed mid-way left under `dir` (recursively); returns
 * their paths. Only names of the form `<file>.<ext>.<digits>` are touched.
 */
export async function removeWriteLeftovers(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && TEMPORARY.test(entry.name)) {
      const path = join(entry.parentPath, entry.name);
      await rm(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}
