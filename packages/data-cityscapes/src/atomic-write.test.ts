import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeWriteLeftovers, writeFileAtomic, WriteError } from './atomic-write.js';

describe('atomic writes', () => {
  it('leave the whole file only; the temporaries of killed writes are found and removed, nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-atomic-'));
    try {
      await writeFileAtomic(join(dir, 'best', 'checkpoint.json'), '{}\n');
      expect(await readdir(join(dir, 'best'))).toEqual(['checkpoint.json']);
      // What a kill between write and rename leaves (write-file-atomic's naming), and files to keep.
      await writeFile(join(dir, 'best', 'checkpoint.json.2084301727'), '{');
      await writeFile(join(dir, 'search-log.jsonl.17'), '');
      await mkdir(join(dir, 'alpha-beta'));
      await writeFile(join(dir, 'alpha-beta', 'epoch-001.json.355'), '');
      await writeFile(join(dir, 'notes.txt.1'), 'kept');
      await writeFile(join(dir, 'epoch-001.json'), 'kept');
      const removed = await removeWriteLeftovers(dir);
      expect(removed.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['alpha-beta/epoch-001.json.355', 'best/checkpoint.json.2084301727', 'search-log.jsonl.17']);
      expect((await readdir(dir)).sort()).toEqual(['alpha-beta', 'best', 'epoch-001.json', 'notes.txt.1']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('that fail name the path asked for and what is wrong with it, not the temporary file beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adl-atomic-'));
    try {
      await mkdir(join(dir, 'model.onnx'));
      const error = await writeFileAtomic(join(dir, 'model.onnx'), 'x').catch((e) => e);
      expect(error).toBeInstanceOf(WriteError);
      expect(error.message).toBe(`${join(dir, 'model.onnx')}: is a folder; give a file name`);
      await writeFile(join(dir, 'predictions'), 'a file');
      await expect(writeFileAtomic(join(dir, 'predictions', 'a_labelIds.png'), 'x')).rejects.toThrow(
        `${join(dir, 'predictions', 'a_labelIds.png')}: cannot be written: part of its folder path is a file, not a folder`,
      );
      expect((await readdir(dir)).sort()).toEqual(['model.onnx', 'predictions']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
