/** Test helpers for code that consumes Cityscapes data. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic } from './synthetic.js';

/** A tiny synthetic Cityscapes dataset in a fresh temporary folder: its root. */
export async function createFakeCityscapes({ train = 4, val = 2, height = 64, width = 128, seed = 0 } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adl-cityscapes-'));
  await generateSynthetic({ dir, count: { train, val }, height, width, seed });
  return dir;
}
