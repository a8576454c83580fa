import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeWriteLeftovers } from '@adl/data-cityscapes';

export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

/**
 * Readies a run's output folder before any work: creates it, refuses one that already holds files
 * unless the run resumes it or `force` (which empties it first), checks that it can be written, and
 * removes temporary files that writes killed mid-way left. Errors name the folder.
 */
export async function prepareRunFolder(outDir: string, { resume = false, force = false, log }: { resume?: boolean; force?: boolean; log: (line: string) => void }): Promise<void> {
  await mkdir(outDir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new RunFolderError(`${outDir}: cannot create the output folder (${error.code})`);
  });
  const present = await readdir(outDir);
  if (present.length && !resume) {
    if (!force) {
      const shown = present.sort().slice(0, 4).join(', ') + (present.length > 4 ? ', …' : '');
      throw new RunFolderError(`${outDir}: holds ${present.length} file(s) of another run (${shown}); resume it (--resume), write elsewhere, or replace it (--force)`);
    }
    log(`[adl] --force: removing the ${present.length} entries of ${outDir}`);
    for (const entry of present) await rm(join(outDir, entry), { recursive: true, force: true });
  }
  const probe = join(outDir, `.adl-write-check-${process.pid}`);
  await writeFile(probe, '')
    .then(() => rm(probe))
    .catch((error: NodeJS.ErrnoException) => {
      throw new RunFolderError(`${outDir}: cannot write to the output folder (${error.code})`);
    });
  for (const path of await removeWriteLeftovers(outDir)) log(`[adl] removed ${path}, left by an interrupted write`);
}
