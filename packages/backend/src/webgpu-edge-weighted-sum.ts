import * as tf from '@tensorflow/tfjs';
import { EDGE_WEIGHTED_SUM_KERNELS } from './fused-kernels.js';
import { dispatchGpuKernel, tensorsPerDispatch, type KernelArgs } from './gpu-dispatch.js';
import { edgeSumShape } from './weighted-sum.js';
import { assertFloat, elementwise, ELEMENTWISE_WORKGROUP, reduction, run, type Uniform } from './webgpu-programs.js';

/**
 * The weighted sums of the E search edges that read one state (`Kernels.edgeWeightedSum`) as one
 * dispatch forward and two backward (where the device binds K + 2 buffers), where broadcasting
 * elementwise ops take a multiply per term and a sum, and their gradients a multiply, a reduction and
 * a transpose per term. Terms of C channels (pools, skip) are shared by every edge; terms of E·C
 * channels hold one block per edge.
 */
type TensorInfo = tf.TensorInfo;

const termNames = (count: number) => Array.from({ length: count }, (_, k) => `T${k}`);

/** `shared[k]`: whether term k has C channels (one for every edge) rather than E·C; `pattern` names that in shader keys. */
function layout(terms: readonly TensorInfo[], weights: TensorInfo) {
  const { edges, channels, width } = edgeSumShape(terms, weights);
  const shared = terms.map((t) => t.shape[3] === channels && channels !== width);
  const pixels = terms[0].shape[0] * terms[0].shape[1] * terms[0].shape[2];
  return { edges, channels, width, shared, pixels, pattern: shared.map((s) => (s ? 's' : 'w')).join('') };
}

/** WGSL for (p, e, c) of the flat index `index` into `[P, E, C]`, with the uniforms struct named `u`. */
const coords = (index: string, u: string) => `let p = ${index} / (${u}.edges * ${u}.channels);
    let within = ${index} - p * ${u}.edges * ${u}.channels;
    let e = within / ${u}.channels;
    let c = within - e * ${u}.channels;`;

const SIZES = 'edges : i32, channels : i32,';
const int = (value: number): Uniform => ({ type: 'int32', data: [value] });
const sizes = (edges: number, channels: number): Uniform[] => [int(edges), int(channels)];

export function edgeWeightedSum({ inputs, backend }: KernelArgs): TensorInfo {
  const [weights, ...terms] = inputs as unknown as TensorInfo[];
  assertFloat(EDGE_WEIGHTED_SUM_KERNELS.forward, [weights, ...terms]);
  const { edges, channels, width, shared, pattern } = layout(terms, weights);
  const names = termNames(terms.length);
  const count = terms.length;
  const sum = names.map((name, k) => `W[e * ${count} + ${k}] * ${name}[${shared[k] ? 'p * uniforms.channels + c' : 'index'}]`).join(' + ');
  const [n, h, w] = terms[0].shape;
  return run(backend, elementwise(`adlEdgeWeightedSum_${pattern}`, [n, h, w, width], ['W', ...names], `${coords('index', 'uniforms')} result[index] = ${sum};`, SIZES), [weights, ...terms], sizes(edges, channels));
}

/** Whether the kernels take `terms` terms: each binds them all and two more buffers. */
export function edgeWeightedSumFits(terms: number): boolean {
  return terms + 2 <= tensorsPerDispatch(1);
}

/** `[dWeights, ...dTerms]` from `[dy, weights, ...terms]`. */
export function edgeWeightedSumGrad({ inputs, backend }: KernelArgs): TensorInfo[] {
  const [dy, weights, ...terms] = inputs as unknown as TensorInfo[];
  assertFloat(EDGE_WEIGHTED_SUM_KERNELS.gradient, [dy, weights, ...terms]);
  const { edges, channels, shared, pixels, pattern } = layout(terms, weights);
  const names = termNames(terms.length);
  const count = terms.length;
  // dWeights[e, k] = Σ_{p, c} dy[p, e, c] · term_k[p, (e,) c]: workgroup e·K + k reduces it.
  const pick = names.map((name, k) => `if (k == ${k}) { s = s + d * ${name}[${shared[k] ? 'p * uniforms.channels + c' : 'i'}]; }`).join(' else ');
  const dWeights = run(backend, reduction(`adlEdgeWeightedSumGradWeights_${pattern}`, [edges, count], edges * count, ['DY', ...names], ['s'], 'uniforms.rows', `
          let e = w / ${count};
          let k = w - e * ${count};
          let p = r / uniforms.channels;
          let c = r - p * uniforms.channels;
          let i = (p * uniforms.edges + e) * uniforms.channels + c;
          let d = DY[i];
          ${pick}`, 'result[w] = s;', `rows : i32, ${SIZES}`), [dy, ...terms], [int(pixels * channels), ...sizes(edges, channels)]);
  // dTerm_k = W[e, k] · dy for a term per edge; Σ_e W[e, k] · dy[p, e, c] for a shared term.
  // Threads over [P, E, C]; a shared term's gradient is written by the threads of edge 0.
  const writes = shared.map((s, k) => (s
    ? `if (e == 0) { var g${k} = 0.0; for (var f = 0; f < u.edges; f = f + 1) { g${k} = g${k} + W[f * ${count} + ${k}] * DY[(p * u.edges + f) * u.channels + c]; } out${k}[p * u.channels + c] = g${k}; }`
    : `out${k}[thread] = W[e * ${count} + ${k}] * DY[thread];`));
  const total = pixels * edges * channels;
  const dTerms = dispatchGpuKernel({
    name: 'adlEdgeWeightedSumGradTerms',
    inputs: [['W', weights], ['DY', dy]],
    outputs: terms.map((t) => t.shape),
    uniforms: [{ name: 'count', type: 'i32', value: total }, { name: 'edges', type: 'i32', value: edges }, { name: 'channels', type: 'i32', value: channels }],
    threads: ELEMENTWISE_WORKGROUP,
    workgroups: Math.ceil(total / ELEMENTWISE_WORKGROUP),
    loopLength: shared.some(Boolean) ? edges : undefined,
    body: `if (thread >= u.count) { return; }
      ${coords('thread', 'u')}
      ${writes.join('\n      ')}`,
  });
  return [dWeights, ...dTerms];
}
