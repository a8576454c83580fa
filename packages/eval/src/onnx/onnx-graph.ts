import onnxProto, { type onnx as Onnx } from 'onnx-proto';

// A CommonJS module: its namespace is a property of the default export.
const { onnx } = onnxProto;

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

export type Attribute = Onnx.IAttributeProto;

export const intAttribute = (name: string, i: number): Attribute => ({ name, type: AttributeType.INT, i });
export const intsAttribute = (name: string, ints: readonly number[]): Attribute => ({ name, type: AttributeType.INTS, ints: [...ints] });

/** Nodes and initializers of an ONNX graph under construction, and the operator types it uses. */
export class OnnxGraph {
  readonly nodes: Onnx.INodeProto[] = [];
  readonly initializers: Onnx.ITensorProto[] = [];
  readonly opTypes = new Set<string>();
  private names = 0;

  /** A name not used before, for an intermediate value. */
  fresh(hint: string): string {
    return `${hint}_${this.names++}`;
  }

  /** Adds a node; returns its (first) output. */
  node(opType: string, inputs: readonly string[], outputs: readonly string[] = [this.fresh(opType)], attribute: readonly Attribute[] = []): string {
    this.opTypes.add(opType);
    this.nodes.push({ opType, input: [...inputs], output: [...outputs], attribute: [...attribute], name: `${opType}_${this.nodes.length}` });
    return outputs[0];
  }

  /** A float32 initializer. */
  floats(values: Float32Array, dims: readonly number[], name = this.fresh('const')): string {
    this.initializers.push({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
    return name;
  }

  /** An int64 initializer (shapes, axes, pads). */
  int64s(values: readonly number[], dims: readonly number[] = [values.length], name = this.fresh('ints')): string {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dims: [...dims], dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }
}

/** A float tensor's type and shape for the graph's inputs and outputs. */
export function tensorValueInfo(name: string, elemType: 'float' | 'int64', shape: readonly number[]): Onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: elemType === 'float' ? DataType.FLOAT : DataType.INT64, shape: { dim: shape.map((dimValue) => ({ dimValue })) } } },
  };
}

/** Serialises a graph as an ONNX model of the default operator set `opset`. */
export function encodeModel(graph: Onnx.IGraphProto, opset: number, producerVersion: string): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: '@adl/eval',
    producerVersion,
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
