import { readFile, readdir, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
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
  /** 2 adds `bytes` and `sha256`; version 1 checkpoints load without the checksum check. */
  readonly version: 1 | 2;
  /** The binary file beside the manifest holding every tensor as float32, in manifest order. */
  readonly data: string;
  readonly bytes?: number;
  /** SHA-256 of the data file, hex. */
  readonly sha256?: string;
  readonly tensors: TensorEntry[];
  readonly meta: Meta;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/**
 * The largest magnitude a checkpoint holds: beyond it a value's square overflows float32, so a batch
 * norm that sees it computes an infinite variance. Such a value means the run has diverged.
 */
export const MAX_MAGNITUDE = Math.sqrt(3.4028234663852886e38);

/** A variable held NaN, ±Infinity or a value beyond `MAX_MAGNITUDE` when a checkpoint was due: nothing was written. */
export class NonFiniteValueError extends Error {
  override name = 'NonFiniteValueError';
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The manifest of an earlier checkpoint kept beside the current one (`saveCheckpoint`'s `keep`), by its tag. */
export const keptManifestName = (tag: string) => `checkpoint-${tag}.json`;

const KEPT_MANIFEST = /^checkpoint-(.+)\.json$/;

export interface SaveCheckpointOptions {
  /**
   * Tags of the checkpoints to keep (this one's included): the manifest is also written as
   * `keptManifestName(tag)`, and kept manifests of other tags are removed with their data files. By
   * default only the current checkpoint is kept, and kept manifests are left alone.
   */
  readonly keep?: readonly string[];
}

/**
 * Saves every variable of `groups` and `meta` (JSON) to `dir`: the tensors go to a new binary file
 * (named by its tag and checksum, so never the file the current manifest names), then the manifest
 * naming it replaces the old one (both written atomically), then older checkpoints are removed: each
 * kept manifest first, then the data files no manifest names. A run killed at any point leaves the
 * previous or the new checkpoint whole, and every kept one whole. A variable holding a non-finite
 * value, or one beyond `MAX_MAGNITUDE`, throws `NonFiniteValueError` before anything is written.
 */
export async function saveCheckpoint<Meta>(dir: string, groups: VariableGroups, meta: Meta, tag: string, options: SaveCheckpointOptions = {}): Promise<void> {
  const tensors: TensorEntry[] = [];
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [group, variables] of Object.entries(groups)) {
    for (const [i, variable] of variables.entries()) {
      const values = (await variable.data()) as Float32Array;
      const bad = values.findIndex((v) => !(Math.abs(v) <= MAX_MAGNITUDE));
      if (bad >= 0) throw new NonFiniteValueError(`${group}[${i}] (${variable.name}) holds ${values[bad]} at index ${bad} (diverged: beyond ±1.8e19)`);
      tensors.push({ group, shape: variable.shape, offset });
      parts.push(values);
      offset += values.length;
    }
  }
  const buffer = new Float32Array(offset);
  parts.reduce((at, part) => (buffer.set(part, at), at + part.length), 0);
  const bytes = new Uint8Array(buffer.buffer);
  const checksum = sha256(bytes);
  const data = `checkpoint-${tag}-${checksum.slice(0, 12)}.bin`;
  await writeFileAtomic(join(dir, data), bytes);
  const manifest: CheckpointManifest<Meta> = { version: 2, data, bytes: bytes.byteLength, sha256: checksum, tensors, meta };
  const text = `${JSON.stringify(manifest)}\n`;
  if (options.keep) await writeFileAtomic(join(dir, keptManifestName(tag)), text);
  await writeFileAtomic(join(dir, CHECKPOINT_MANIFEST), text);
  await removeUnkept(dir, options.keep);
}

/** Removes kept manifests whose tag is not in `keep` (none when undefined), then the data files no remaining manifest names. */
async function removeUnkept(dir: string, keep: readonly string[] | undefined): Promise<void> {
  const named = new Set<string>();
  for (const file of await readdir(dir)) {
    const tag = KEPT_MANIFEST.exec(file)?.[1];
    if (tag === undefined && file !== CHECKPOINT_MANIFEST) continue;
    if (tag !== undefined && keep && !keep.includes(tag)) {
      await rm(join(dir, file), { force: true });
      continue;
    }
    const manifest = await readCheckpointManifest<unknown>(dir, file).catch(() => undefined);
    if (manifest) named.add(manifest.data);
  }
  for (const file of await readdir(dir)) {
    if (file.startsWith('checkpoint-') && file.endsWith('.bin') && !named.has(file)) await rm(join(dir, file), { force: true });
  }
}

/** Makes the kept checkpoint `tag` the current one again (after a divergence: the last good one), atomically. */
export async function restoreKeptCheckpoint(dir: string, tag: string): Promise<void> {
  const path = join(dir, keptManifestName(tag));
  const text = await readFile(path, 'utf8').catch(() => {
    throw new CheckpointError(`${path}: missing (the kept checkpoint of ${tag})`);
  });
  await writeFileAtomic(join(dir, CHECKPOINT_MANIFEST), text);
}

/** Reads the manifest of `dir` (or its file `name`), or undefined when there is no checkpoint. */
export async function readCheckpointManifest<Meta>(dir: string, name = CHECKPOINT_MANIFEST): Promise<CheckpointManifest<Meta> | undefined> {
  const path = join(dir, name);
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

/**
 * The manifest of `dir` and its tensors' values, after checking that the data file is a file of the
 * folder, has the size the tensors need and (version 2) the recorded checksum. Every error names the
 * file and the problem.
 */
export async function readCheckpoint<Meta>(dir: string): Promise<{ manifest: CheckpointManifest<Meta>; values: Float32Array; dataPath: string }> {
  const manifestPath = join(dir, CHECKPOINT_MANIFEST);
  const manifest = await readCheckpointManifest<Meta>(dir);
  if (!manifest) throw new CheckpointError(`${manifestPath}: no checkpoint here`);
  if (typeof manifest.data !== 'string' || manifest.data !== basename(manifest.data) || manifest.data.startsWith('.')) {
    throw new CheckpointError(`${manifestPath}: data file ${JSON.stringify(manifest.data)} is not a file of the checkpoint folder`);
  }
  if (!Array.isArray(manifest.tensors)) throw new CheckpointError(`${manifestPath}: no tensor list`);
  const dataPath = join(dir, manifest.data);
  const bytes = await readFile(dataPath).catch(() => {
    throw new CheckpointError(`${dataPath}: missing (named by ${CHECKPOINT_MANIFEST})`);
  });
  const needed = 4 * manifest.tensors.reduce((end, t) => Math.max(end, t.offset + t.shape.reduce((a, b) => a * b, 1)), 0);
  const expected = manifest.bytes ?? needed;
  if (bytes.byteLength !== expected || expected < needed) {
    throw new CheckpointError(`${dataPath}: ${bytes.byteLength} bytes, the manifest describes ${expected} (truncated or replaced)`);
  }
  if (manifest.sha256 !== undefined && sha256(bytes) !== manifest.sha256) {
    throw new CheckpointError(`${dataPath}: checksum differs from the manifest's (the file is damaged or was changed)`);
  }
  return { manifest, values: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), dataPath };
}

/** Assigns the saved values to `groups`, checking that every group has the same tensors and shapes. */
export async function restoreCheckpoint<Meta>(dir: string, groups: VariableGroups): Promise<Meta> {
  const { manifest, values, dataPath } = await readCheckpoint<Meta>(dir);
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
