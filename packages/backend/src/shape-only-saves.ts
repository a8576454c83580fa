import * as tf from '@tensorflow/tfjs';

/**
 * Ops whose registered gradients read only the shapes of the tensors tfjs saves for them (tfjs-core
 * 4.22's `Add`, `Sub`, `AddN`, `Reshape`, `Slice` and `Concat` gradients: broadcasting reductions,
 * reshapes back, pads and splits). tfjs still saves the tensors themselves, which keeps their data
 * alive until the backward pass ends: the sum of every mixed op and cell block, and every tensor
 * before a reshape, would stay in memory only so that its shape can be read.
 */
const SHAPE_ONLY_GRADIENTS: ReadonlySet<string> = new Set(['Add', 'Sub', 'AddN', 'Reshape', 'Slice', 'Concat']);

let installed = false;

/**
 * From now on, the tensors saved for those ops' gradients are released as soon as they are saved: a
 * released tensor keeps its shape, which is all the gradient reads, and its data goes once nothing
 * else holds it. Gradients are unchanged, bit for bit; a training step's peak memory falls.
 */
export function releaseShapeOnlySaves(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as {
    addTapeNode: (kernelName: string, inputs: unknown, outputs: unknown, gradient: unknown, saved: tf.Tensor[] | undefined, attrs: unknown) => void;
  };
  const addTapeNode = engine.addTapeNode.bind(engine);
  engine.addTapeNode = (kernelName, inputs, outputs, gradient, saved, attrs) => {
    addTapeNode(kernelName, inputs, outputs, gradient, saved, attrs);
    if (saved && SHAPE_ONLY_GRADIENTS.has(kernelName)) for (const tensor of saved) tensor.dispose();
  };
}
