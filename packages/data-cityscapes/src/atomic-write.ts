import { mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import writeFileAtomicWithFsync from 'write-file-atomic';

/**
 * Writes `path` whole or not at all (npm's write-file-atomic: a temporary file beside it, fsync,
 * rename), creating its folder first. Checkpoints, logs, PNGs and reports all go through here.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomicWithFsync(path, typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch (error) {
    throw new WriteError(path, error as NodeJS.ErrnoException);
  }
}

/**
 * A write that failed, said of the path asked for rather than of the temporary file beside it (the
 * system's message names that one): a folder where a file should go, a file where a folder should
 * be, a folder the user may not write.
 */
export class WriteError extends Error {
  override name = 'WriteError';
  readonly code: string | undefined;

  constructor(path: string, cause: NodeJS.ErrnoException) {
    const reasons: Record<string, string> = {
      EISDIR: 'is a folder; give a file name',
      ENOTDIR: 'cannot be written: part of its folder path is a file, not a folder',
      EEXIST: 'cannot be written: part of its folder path is a file, not a folder',
      EACCES: `cannot be written: no permission to write in ${dirname(path)}`,
      EPERM: `cannot be written: no permission to write in ${dirname(path)}`,
      EROFS: 'cannot be written: the file system is read-only',
      ENOSPC: 'cannot be written: no space left on the device',
    };
    super(`${path}: ${reasons[cause.code ?? ''] ?? `cannot be written (${cause.code ?? cause.message})`}`, { cause });
    this.code = cause.code;
  }
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
