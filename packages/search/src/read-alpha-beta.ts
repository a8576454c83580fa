import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIMITIVES } from '@adl/ops';
import { CHECKPOINT_MANIFEST, readCheckpoint } from './checkpoint.js';

export interface AlphaBeta {
  readonly alpha: number[][];
  readonly beta: number[][][];
}

function nest(values: Float32Array, shape: number[]): unknown {
  if (shape.length === 1) return Array.from(values);
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return Array.from({ length: shape[0] }, (_, i) => nest(values.subarray(i * inner, (i + 1) * inner), shape.slice(1)));
}

/**
 * α and β from a search checkpoint folder (its `architecture` group) or from an α/β JSON file
 * (`alpha-beta/epoch-NNN.json`, or any `{ "alpha": …, "beta": … }`). No tfjs needed.
 */
export async function readAlphaBeta(path: string): Promise<AlphaBeta> {
  if ((await stat(path)).isDirectory()) {
    const { manifest, values } = await readCheckpoint(path);
    const entries = manifest.tensors.filter((t) => t.group === 'architecture');
    if (entries.length !== 2) throw new Error(`${join(path, CHECKPOINT_MANIFEST)}: expected α and β in the "architecture" group, found ${entries.length} tensors`);
    const [alpha, beta] = entries.map(({ shape, offset }) => nest(values.subarray(offset, offset + shape.reduce((a, b) => a * b, 1)), shape));
    return { alpha: alpha as number[][], beta: beta as number[][][] };
  }
  let data;
  try {
    // A byte-order mark (editors on Windows save one) is not part of the JSON.
    data = JSON.parse((await readFile(path, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(data?.alpha) || !Array.isArray(data?.beta)) throw new Error(`${path}: expected an object with "alpha" and "beta" arrays`);
  return { alpha: data.ops === undefined ? data.alpha : inOurOrder(data.alpha, data.ops, path), beta: data.beta };
}

/** α's columns reordered from the file's `ops` order to `PRIMITIVES`' (a file's columns follow its own list). */
function inOurOrder(alpha: unknown[], ops: unknown, path: string): number[][] {
  const names = Array.isArray(ops) ? ops : [];
  const columns = PRIMITIVES.map((op) => names.indexOf(op));
  if (names.length !== PRIMITIVES.length || columns.some((column) => column < 0)) {
    throw new Error(`${path}: ops ${JSON.stringify(ops)} are not the ${PRIMITIVES.length} candidate operations (${PRIMITIVES.join(', ')}) in some order`);
  }
  return alpha.map((row, edge) => {
    if (!Array.isArray(row) || row.length !== names.length) throw new Error(`${path}: alpha[${edge}] should hold ${names.length} numbers, one per op of "ops"`);
    return columns.map((column) => row[column] as number);
  });
}
