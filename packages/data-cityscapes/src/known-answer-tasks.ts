import { join } from 'node:path';
import { imageFileOf, instanceFileOf, labelFileOf, type Split } from './layout.js';
import { writePng } from './png.js';
import { SeededRandom } from './seeded-random.js';

/**
 * Synthetic segmentation tasks whose answer is known, for checking that an architecture search
 * searches (examples/search-validity). What each draws, and the path it was built to favour:
 * - `detail`: lines one or two pixels wide on a noisy background, solid ones of one class and dashed
 *   ones of another (the gaps belong to the line); built for the fine levels (stride 4–8).
 * - `context`: a 2 × 2 grid of noisy squares, each of one class, which only a small coloured marker
 *   somewhere inside the square tells (red or blue); built for the coarse levels (stride 16–32).
 * - `control`: every pixel of an image is of the class its tint tells (the whole image one class): any
 *   path does, and β should stay near where it started.
 * Which path a task favours is measured, not assumed: retrained on the fine and the coarse path at
 * equal cost (examples/search-validity, `pnpm paths`), at 64² the detail task favours the coarse path
 * and the context task the fine one, each by 10–20 points of mIoU.
 */
export type KnownAnswerTask = 'detail' | 'context' | 'control';

export const KNOWN_ANSWER_TASKS: readonly KnownAnswerTask[] = ['detail', 'context', 'control'];

/** The label ids drawn (train ids 0, 13 and 2: road, car, building), by role. */
export const KNOWN_ANSWER_LABEL_IDS = { first: 7, second: 26, background: 11 } as const;

export interface KnownAnswerOptions {
  readonly task: KnownAnswerTask;
  /** Dataset root; written in the Cityscapes layout. */
  readonly dir: string;
  readonly count: Partial<Record<Split, number>>;
  /** Images are `size × size`; the context task's squares are `size / 2`. */
  readonly size: number;
  readonly seed?: number;
}

interface Drawn {
  readonly label: Uint8Array;
  readonly pixels: Uint8Array;
}

/** Grey noise around `mean`: the texture every task draws on, so that no class is told by its texture alone. */
function noise(size: number, random: SeededRandom, mean = 128): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const grey = mean + (random.next() - 0.5) * 80;
    for (let c = 0; c < 3; c++) pixels[i * 3 + c] = Math.max(0, Math.min(255, Math.round(grey + (random.next() - 0.5) * 20)));
  }
  return pixels;
}

function setPixel(pixels: Uint8Array, size: number, x: number, y: number, rgb: readonly number[]): void {
  for (let c = 0; c < 3; c++) pixels[(y * size + x) * 3 + c] = rgb[c];
}

function drawDetail(size: number, random: SeededRandom): Drawn {
  const ids = KNOWN_ANSWER_LABEL_IDS;
  const label = new Uint8Array(size * size).fill(ids.background);
  const pixels = noise(size, random, 100);
  const lines = 3 + random.int(4);
  for (let l = 0; l < lines; l++) {
    const dashed = random.next() < 0.5;
    const horizontal = random.next() < 0.5;
    const width = 1 + random.int(2);
    const at = random.int(size - width);
    const from = random.int(size / 2);
    const to = size / 2 + random.int(size / 2);
    for (let t = from; t < to; t++) {
      for (let w = 0; w < width; w++) {
        const [x, y] = horizontal ? [t, at + w] : [at + w, t];
        label[y * size + x] = dashed ? ids.second : ids.first;
        // Dashes of 2 on, 2 off: the gaps look like background and belong to the line.
        if (!dashed || (t >> 1) % 2 === 0) setPixel(pixels, size, x, y, [230, 230, 230]);
      }
    }
  }
  return { label, pixels };
}

function drawContext(size: number, random: SeededRandom): Drawn {
  const ids = KNOWN_ANSWER_LABEL_IDS;
  const label = new Uint8Array(size * size);
  const pixels = noise(size, random);
  const half = size / 2;
  const marker = Math.max(3, Math.round(size / 16));
  for (const [qx, qy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    const second = random.next() < 0.5;
    for (let y = qy * half; y < (qy + 1) * half; y++) label.fill(second ? ids.second : ids.first, y * size + qx * half, y * size + (qx + 1) * half);
    // The marker anywhere in the square, one pixel from its edges.
    const mx = qx * half + 1 + random.int(half - marker - 2);
    const my = qy * half + 1 + random.int(half - marker - 2);
    for (let y = my; y < my + marker; y++) for (let x = mx; x < mx + marker; x++) setPixel(pixels, size, x, y, second ? [40, 60, 230] : [230, 50, 40]);
  }
  return { label, pixels };
}

function drawControl(size: number, random: SeededRandom): Drawn {
  const ids = KNOWN_ANSWER_LABEL_IDS;
  const second = random.next() < 0.5;
  const label = new Uint8Array(size * size).fill(second ? ids.second : ids.first);
  const pixels = noise(size, random);
  const tint = second ? [-30, 0, 30] : [30, 0, -30];
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) pixels[i * 3 + c] = Math.max(0, Math.min(255, pixels[i * 3 + c] + tint[c]));
  return { label, pixels };
}

const DRAW: Record<KnownAnswerTask, (size: number, random: SeededRandom) => Drawn> = { detail: drawDetail, context: drawContext, control: drawControl };

/**
 * Writes a known-answer task (see `KnownAnswerTask`) in the Cityscapes layout, as `generateSynthetic`
 * does its scenes. Deterministic for a seed; returns the files written, relative to `dir`.
 */
export async function generateKnownAnswerTask({ task, dir, count, size, seed = 0 }: KnownAnswerOptions): Promise<string[]> {
  const draw = DRAW[task];
  if (!draw) throw new RangeError(`unknown task "${task}": one of ${KNOWN_ANSWER_TASKS.join(', ')}`);
  if (!Number.isInteger(size) || size < 16 || size % 2 !== 0) throw new RangeError(`size must be an even whole number from 16, got ${size}`);
  const written: string[] = [];
  let sequence = 0;
  const city = task;
  for (const [split, n] of Object.entries(count) as [Split, number][]) {
    for (let i = 0; i < n; i++, sequence++) {
      const { label, pixels } = draw(size, new SeededRandom(seed * 100_003 + sequence));
      const name = `${city}_${String(sequence).padStart(6, '0')}_000019`;
      const files = [imageFileOf(split, city, name), labelFileOf(split, city, name), instanceFileOf(split, city, name)];
      await writePng(join(dir, files[0]), { width: size, height: size, channels: 3, data: pixels });
      await writePng(join(dir, files[1]), { width: size, height: size, channels: 1, data: label });
      await writePng(join(dir, files[2]), { width: size, height: size, channels: 1, data: label });
      written.push(...files);
    }
  }
  return written;
}
