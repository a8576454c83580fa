import * as tf from '@tensorflow/tfjs';
import { assignValues } from '@adl/ops';
import { perEdgeToBatched, SuperNet, type SuperNetOptions } from '@adl/trellis';
import { readCheckpointManifest, restoreCheckpoint, saveCheckpoint, type VariableGroups } from './checkpoint.js';
import { SgdMomentum } from './optimizers.js';

/** The variable groups of a search checkpoint. */
export interface SearchGroups extends VariableGroups {
  readonly weights: readonly tf.Variable[];
  readonly batchNorm: readonly tf.Variable[];
  readonly architecture: readonly tf.Variable[];
  readonly sgd: readonly tf.Variable[];
  readonly adam: readonly tf.Variable[];
}

/**
 * Rewrites the search checkpoint in `dir`, if it holds one mixed op per edge (the layout before the
 * edges reading a state were batched), in the layout of `net` (built with `options`), with the same
 * values: weights, BN statistics and SGD momentum are stacked state by state (`perEdgeToBatched`),
 * α, β and Adam's state are kept. Returns whether it rewrote it; a checkpoint of any other layout is
 * left for the loop to refuse by name. Written atomically, as every checkpoint.
 */
export async function upgradePerEdgeCheckpoint(dir: string, net: SuperNet, options: SuperNetOptions, groups: SearchGroups, log: (line: string) => void): Promise<boolean> {
  const manifest = await readCheckpointManifest<{ step?: number }>(dir);
  if (!manifest || !net.batchEdges) return false;
  const shapesOf = (group: string) => manifest.tensors.filter((t) => t.group === group).map((t) => t.shape.join('x')).join();
  const expected = (variables: readonly tf.Variable[]) => variables.map((v) => v.shape.join('x')).join();
  if (shapesOf('batchNorm') === expected(groups.batchNorm)) return false;
  const perEdge = new SuperNet({ ...options, batchEdges: false });
  const perEdgeSgd = new SgdMomentum(perEdge.weightVariables(), 0, 0);
  try {
    // Every tensor as the per-edge layout of this configuration has it; anything else (another
    // configuration) is the loop's to refuse, by the setting that differs.
    if (shapesOf('weights') !== expected(perEdge.weightVariables()) || shapesOf('batchNorm') !== expected(perEdge.stateVariables())) return false;
    const meta = await restoreCheckpoint<{ step?: number }>(dir, {
      weights: perEdge.weightVariables(),
      batchNorm: perEdge.stateVariables(),
      architecture: groups.architecture,
      sgd: perEdgeSgd.stateVariables(),
      adam: groups.adam,
    });
    assignValues(groups.weights, perEdgeToBatched(perEdge, net, perEdge.weightVariables(), 'weightVariables'));
    assignValues(groups.batchNorm, perEdgeToBatched(perEdge, net, perEdge.stateVariables(), 'stateVariables'));
    assignValues(groups.sgd, perEdgeToBatched(perEdge, net, perEdgeSgd.stateVariables(), 'weightVariables'));
    await saveCheckpoint(dir, groups, meta, String(meta.step ?? 'converted'));
    log(`[adl] ${dir}: checkpoint converted from one mixed op per edge to the edges of each state batched (same values)`);
    return true;
  } finally {
    perEdgeSgd.dispose();
    perEdge.dispose();
  }
}
