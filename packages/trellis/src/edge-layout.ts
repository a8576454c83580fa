import * as tf from '@tensorflow/tfjs';
import { batchedCellValues, SearchCell } from '@adl/cell';
import type { SuperNet } from './supernet.js';

/** Which variables of a supernet a list of values follows: its weights (SGD's momentum follows them too), or its BN statistics. */
export type SuperNetList = 'weightVariables' | 'stateVariables';

/**
 * Values laid out for a supernet with one mixed op per edge (`batchEdges: false`: the layout of
 * search checkpoints before edges were batched by state) → the same values for `batched`, a supernet
 * of the same options with its edges batched. Everything outside the cells keeps its place; each
 * cell's edges are stacked state by state (`batchedCellValues`). New tensors, the caller's to dispose.
 */
export function perEdgeToBatched(perEdge: SuperNet, batched: SuperNet, values: readonly tf.Tensor[], list: SuperNetList): tf.Tensor[] {
  if (perEdge.batchEdges || !batched.batchEdges) throw new RangeError('perEdgeToBatched converts a per-edge supernet to a batched one');
  const source = perEdge[list]();
  if (values.length !== source.length) throw new RangeError(`${values.length} values for the ${source.length} tensors of the supernet's ${list}`);
  const kind = list === 'weightVariables' ? 'trainableVariables' : 'stateVariables';
  const cellsOf = (net: SuperNet) => [...net.modules()].filter((m): m is SearchCell => m instanceof SearchCell);
  const [from, to] = [cellsOf(perEdge), cellsOf(batched)];
  const valueOf = new Map(source.map((v, i) => [v, values[i]]));
  const inCells = new Set<tf.Variable>();
  const converted = new Map<tf.Variable, tf.Tensor>();
  from.forEach((cell, c) => {
    const variables = cell[kind]();
    variables.forEach((v) => inCells.add(v));
    const out = batchedCellValues(cell, to[c], variables.map((v) => valueOf.get(v)!), kind);
    to[c][kind]().forEach((v, i) => converted.set(v, out[i]));
  });
  const outside = source.filter((v) => !inCells.has(v));
  let next = 0;
  return batched[list]().map((v) => converted.get(v) ?? tf.clone(valueOf.get(outside[next++])!));
}
