import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKnownAnswerTask, KNOWN_ANSWER_LABEL_IDS, KNOWN_ANSWER_TASKS } from './known-answer-tasks.js';
import { listSplit } from './layout.js';
import { readPng } from './png.js';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'adl-known-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const ids = KNOWN_ANSWER_LABEL_IDS;
const labelsOf = async (dir: string) => Promise.all((await listSplit(dir, 'train')).map(async (s) => (await readPng(join(s.root, s.labelFile), 1)).data));

describe('known-answer tasks', () => {
  it('are written in the Cityscapes layout, the same bytes for a seed', async () => {
    for (const task of KNOWN_ANSWER_TASKS) {
      const [a, b] = [await tempDir(), await tempDir()];
      const files = await generateKnownAnswerTask({ task, dir: a, count: { train: 3, val: 1 }, size: 32, seed: 5 });
      await generateKnownAnswerTask({ task, dir: b, count: { train: 3, val: 1 }, size: 32, seed: 5 });
      expect(files).toHaveLength(12);
      for (const file of files) expect((await readFile(join(a, file))).equals(await readFile(join(b, file)))).toBe(true);
      expect(await listSplit(a, 'val')).toHaveLength(1);
    }
  });

  it('detail: thin lines of two classes on background; context: four squares of one class each; control: one class per image', async () => {
    const size = 32;
    const [detail, context, control] = [await tempDir(), await tempDir(), await tempDir()];
    await generateKnownAnswerTask({ task: 'detail', dir: detail, count: { train: 4 }, size });
    await generateKnownAnswerTask({ task: 'context', dir: context, count: { train: 4 }, size });
    await generateKnownAnswerTask({ task: 'control', dir: control, count: { train: 4 }, size });
    const detailLabels = await labelsOf(detail);
    for (const label of detailLabels) {
      // Thin lines: under a third of the pixels, and most line pixels have background two pixels away.
      const line = [...label.keys()].filter((i) => label[i] !== ids.background);
      expect(line.length).toBeLessThan(size * size / 3);
      const nearBackground = line.filter((i) => [-2 * size, 2 * size, -2, 2].some((d) => label[i + d] === ids.background));
      expect(nearBackground.length).toBeGreaterThan(0.8 * line.length);
    }
    expect(new Set(detailLabels.flatMap((label) => [...label]))).toEqual(new Set([ids.background, ids.first, ids.second]));
    for (const label of await labelsOf(context)) {
      for (const [qx, qy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const values = new Set<number>();
        for (let y = qy * 16; y < qy * 16 + 16; y++) for (let x = qx * 16; x < qx * 16 + 16; x++) values.add(label[y * size + x]);
        expect(values.size).toBe(1);
      }
    }
    for (const label of await labelsOf(control)) expect(new Set(label).size).toBe(1);
  });

  it('refuses an unknown task and an odd or tiny size', async () => {
    const dir = await tempDir();
    await expect(generateKnownAnswerTask({ task: 'texture' as never, dir, count: { train: 1 }, size: 32 })).rejects.toThrow(/unknown task "texture": one of detail, context, control/);
    await expect(generateKnownAnswerTask({ task: 'detail', dir, count: { train: 1 }, size: 15 })).rejects.toThrow(/size must be an even whole number from 16, got 15/);
  });
});
