import { join } from 'node:path';
import { CITYSCAPES_LABELS } from './labels.js';
import { imageFileOf, instanceFileOf, labelFileOf, type Split } from './layout.js';
import { writePng } from './png.js';
import { SeededRandom } from './seeded-random.js';

export interface SyntheticOptions {
  /** Dataset root; written in the Cityscapes layout. */
  readonly dir: string;
  /** Images per split (a number means train only). */
  readonly count: number | Partial<Record<Split, number>>;
  readonly height: number;
  readonly width: number;
  readonly seed?: number;
  /** City folder name (the file names follow `<city>_<sequence>_<frame>`). */
  readonly city?: string;
}

/** The label ids drawn: road, sidewalk, building, pole, traffic sign, vegetation, terrain, sky, person, car, and ego vehicle (ignored). */
export const SYNTHETIC_LABEL_IDS = { road: 7, sidewalk: 8, building: 11, pole: 17, sign: 20, vegetation: 21, terrain: 22, sky: 23, person: 24, car: 26, ego: 1 } as const;

const colorOf = (id: number) => CITYSCAPES_LABELS[id].color;

/** A street-like scene as a label map: painter's algorithm, far to near. */
function drawScene(height: number, width: number, random: SeededRandom): Uint8Array {
  const ids = SYNTHETIC_LABEL_IDS;
  const label = new Uint8Array(height * width);
  const fill = (x0: number, y0: number, x1: number, y1: number, id: number) => {
    for (let y = Math.max(0, Math.floor(y0)); y < Math.min(height, Math.ceil(y1)); y++) {
      for (let x = Math.max(0, Math.floor(x0)); x < Math.min(width, Math.ceil(x1)); x++) label[y * width + x] = id;
    }
  };
  const ellipse = (cx: number, cy: number, rx: number, ry: number, id: number) => {
    for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(height, Math.ceil(cy + ry)); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(width, Math.ceil(cx + rx)); x++) {
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) label[y * width + x] = id;
      }
    }
  };
  const horizon = height * random.uniform(0.35, 0.5);
  fill(0, 0, width, horizon, ids.sky);
  // Buildings along the horizon, trees in front of some.
  for (let x = 0; x < width; ) {
    const w = width * random.uniform(0.08, 0.25);
    if (random.next() < 0.8) fill(x, horizon - height * random.uniform(0.1, 0.35), x + w, horizon, ids.building);
    x += w;
  }
  for (let t = random.int(4); t > 0; t--) {
    ellipse(random.uniform(0, width), horizon - height * 0.05, width * random.uniform(0.04, 0.09), height * random.uniform(0.06, 0.12), ids.vegetation);
  }
  // Ground: terrain, then a road in perspective with sidewalks on both sides.
  fill(0, horizon, width, height, ids.terrain);
  const vanishing = width * random.uniform(0.4, 0.6);
  for (let y = Math.floor(horizon); y < height; y++) {
    const depth = (y - horizon) / (height - horizon);
    const roadHalf = width * (0.05 + 0.45 * depth);
    const walk = width * (0.02 + 0.12 * depth);
    fill(vanishing - roadHalf - walk, y, vanishing + roadHalf + walk, y + 1, ids.sidewalk);
    fill(vanishing - roadHalf, y, vanishing + roadHalf, y + 1, ids.road);
  }
  // Poles with signs, people on the sidewalks, cars on the road (nearer ones larger).
  for (let p = 1 + random.int(3); p > 0; p--) {
    const x = random.uniform(0, width);
    const top = horizon - height * random.uniform(0.05, 0.2);
    fill(x, top, x + Math.max(2, width * 0.008), horizon + height * 0.15, ids.pole);
    const size = Math.max(4, width * 0.03);
    fill(x - size / 2, top, x + size / 2, top + size, ids.sign);
  }
  for (let p = random.int(4); p > 0; p--) {
    const y = horizon + (height - horizon) * random.uniform(0.2, 0.8);
    const scale = (y - horizon) / (height - horizon);
    const side = random.next() < 0.5 ? -1 : 1;
    const x = vanishing + side * width * (0.05 + 0.5 * scale);
    ellipse(x, y - height * 0.08 * scale, width * 0.012 * (0.5 + scale), height * 0.08 * scale + 2, ids.person);
  }
  for (let c = random.int(4); c > 0; c--) {
    const y = horizon + (height - horizon) * random.uniform(0.15, 0.9);
    const scale = (y - horizon) / (height - horizon);
    const x = vanishing + width * 0.4 * scale * random.uniform(-0.8, 0.8);
    const w = width * 0.12 * scale + 4;
    fill(x - w / 2, y - w * 0.45, x + w / 2, y, ids.car);
  }
  // The bottom rows show the ego vehicle, which evaluation ignores.
  fill(0, height * 0.95, width, height, ids.ego);
  return label;
}

/** Colours a label map: each class has its own hue, with shading and noise. */
function paint(label: Uint8Array, height: number, width: number, random: SeededRandom): Uint8Array {
  const pixels = new Uint8Array(height * width * 3);
  const light = random.uniform(0.8, 1.15);
  for (let i = 0; i < label.length; i++) {
    const [r, g, b] = colorOf(label[i]);
    const shade = light * (0.9 + 0.2 * (Math.floor(i / width) / height));
    for (let c = 0; c < 3; c++) {
      const value = [r, g, b][c] * shade + (random.next() - 0.5) * 40;
      pixels[i * 3 + c] = Math.max(0, Math.min(255, Math.round(value)));
    }
  }
  return pixels;
}

/**
 * Writes a synthetic dataset in the Cityscapes layout (`leftImg8bit/<split>/<city>/…_leftImg8bit.png`,
 * `gtFine/<split>/<city>/…_gtFine_labelIds.png` and `…_gtFine_instanceIds.png`) with label ids, of procedurally drawn street scenes
 * with 10 of the 19 training classes, learnable from colour and shape. Deterministic for a seed.
 * Returns the files written, relative to `dir`.
 */
export async function generateSynthetic({ dir, count, height, width, seed = 0, city = 'synthcity' }: SyntheticOptions): Promise<string[]> {
  const counts: Partial<Record<Split, number>> = typeof count === 'number' ? { train: count } : count;
  const written: string[] = [];
  let sequence = 0;
  for (const [split, n] of Object.entries(counts) as [Split, number][]) {
    for (let i = 0; i < n; i++, sequence++) {
      const random = new SeededRandom(seed * 100_003 + sequence);
      const name = `${city}_${String(sequence).padStart(6, '0')}_000019`;
      const label = drawScene(height, width, random);
      const pixels = paint(label, height, width, random);
      const imageFile = imageFileOf(split, city, name);
      const labelFile = labelFileOf(split, city, name);
      await writePng(join(dir, imageFile), { width, height, channels: 3, data: pixels });
      await writePng(join(dir, labelFile), { width, height, channels: 1, data: label });
      // The official evaluation script also reads instance ids; ids below 1000 mark regions without
      // instances (Cityscapes' convention), so the label ids themselves serve.
      const instanceFile = instanceFileOf(split, city, name);
      await writePng(join(dir, instanceFile), { width, height, channels: 1, data: label });
      written.push(imageFile, labelFile, instanceFile);
    }
  }
  return written;
}
