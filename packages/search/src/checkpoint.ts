import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '@adl/data-cityscapes';

export const CHECKPOINT_MANIFEST = 'checkpoint.json';

/** Named lists of variables saved together (weights, BN statistics, α/β, optimizer state). */
export type VariableGroups = Record<string, readonly tf.Variable[]>;

interface TensorEntry {
  readonly group: string;
  readonly shape: number[];
  readonly offset: number;
}

export interface CheckpointManifest<Meta> {
  readonly version: 1;
  /** The binary file holding every tensor as float32, in manifest order. */
  readonly data: string;
  readonly tensors: TensorEntry[];
  readonly meta: Meta;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/**
 * Saves every variable of `groups` and `meta` (JSON) to `dir`: the tensors go to a new binary file,
 * then the manifest naming it replaces the old one (both written atomically), then older binaries
 * are removed. A run killed at any point leaves the previous or the new checkpoint whole.
 */
export async function saveCheckpoint<Meta>(dir: string, groups: VariableGroups, meta: Meta, tag: string): Promise<void> {
  const tensors: TensorEntry[] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [group, variables] of Object.entries(groups)) {
    for (const variable of variables) {
      const values = (await variable.data()) as Float32Array;
      tensors.push({ group, shape: variable.shape, offset });
      parts.push(values);
      offset += values.length;
    }
  }
  const buffer = new Float32Array(offset);
  parts.reduce((at, part) => (buffer.set(part, at), at + part.length), 0);
  const data = `checkpoint-${tag}.bin`;
  await writeFileAtomic(join(dir, data), new Uint8Array(buffer.buffer));
  const manifest: CheckpointManifest<Meta> = { version: 1, data, tensors, meta };
  await writeFileAtomic(join(dir, CHECKPOINT_MANIFEST), `${JSON.stringify(manifest)}\n`);
  for (const file of await readdir(dir)) {
    if (file.startsWith('checkpoint-') && file.endsWith('.bin') && file !== data) await rm(join(dir, file), { force: true });
  }
}

/** Reads the manifest of `dir`, or undefined when there is no checkpoint. */
export async function readCheckpointManifest<Meta>(dir: string): Promise<CheckpointManifest<Meta> | undefined> {
  const path = join(dir, CHECKPOINT_MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as CheckpointManifest<Meta>;
  } catch (error) {
    throw new CheckpointError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Assigns the saved values to `groups`, checking that every group has the same tensors and shapes. */
export async function restoreCheckpoint<Meta>(dir: string, groups: VariableGroups): Promise<Meta> {
  const manifest = await readCheckpointManifest<Meta>(dir);
  if (!manifest) throw new CheckpointError(`${join(dir, CHECKPOINT_MANIFEST)}: no checkpoint to resume from`);
  const dataPath = join(dir, manifest.data);
  const bytes = await readFile(dataPath).catch(() => {
    throw new CheckpointError(`${dataPath}: missing (named by ${CHECKPOINT_MANIFEST})`);
  });
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  for (const [group, variables] of Object.entries(groups)) {
    const entries = manifest.tensors.filter((t) => t.group === group);
    if (entries.length !== variables.length) {
      throw new CheckpointError(`${dataPath}: group "${group}" holds ${entries.length} tensors, the model has ${variables.length}`);
    }
    variables.forEach((variable, i) => {
      const { shape, offset } = entries[i];
      if (shape.join('x') !== variable.shape.join('x')) {
        throw new CheckpointError(`${dataPath}: ${group}[${i}] has shape [${shape}], the model [${variable.shape}]`);
      }
      tf.tidy(() => variable.assign(tf.tensor(values.slice(offset, offset + variable.size), shape)));
    });
  }
  return manifest.meta;
}
