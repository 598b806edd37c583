/**
 * A minimal ONNX writer for the MLP family, with a hand-written protobuf encoder (no dependency,
 * browser-safe: it returns bytes and never touches files).
 *
 * The graph is: input "input" [N, inputDim] (N is a dynamic dimension "batch") -> for each dense
 * layer a Gemm (transB = 1, so a DenseLayer's out x in W is written exactly as it is) and an
 * optional Relu -> Softmax(axis = -1) named "probabilities". The output of the penultimate layer
 * (after its Relu) is also a graph output named "embedding", so an exported model answers both
 * halves of the Model contract. With a single layer (logistic regression) the embedding is the
 * input itself, through an Identity node. Opset 13, IR version 7.
 *
 * Only the protobuf fields needed are written; field numbers are from onnx/onnx.proto3.
 */
import { check, fail } from "../../core/errors.js";
import { checkDenseChain, type DenseLayer } from "../engine/dense-layer.js";
import { Sequential } from "../engine/network.js";
import { QuantizedNetwork } from "../int8/network.js";
import { dequantizeStack } from "../int8/quantize.js";
import type { Model } from "../types.js";

export interface OnnxExportOptions {
  /** Graph and producer names written into the file. */
  graphName?: string;
  producer?: string;
  /**
   * Index of the layer whose output is the embedding; default the penultimate layer
   * (layers.length - 2), or -1 (the input) for a single-layer model.
   */
  embeddingLayer?: number;
  /** A fixed batch size for the input and outputs; default a symbolic "batch" dimension. */
  batchSize?: number;
  /** Optional metadata_props (key/value strings), e.g. the native spec string. */
  metadata?: Record<string, string>;
}

export const ONNX_INPUT = "input";
export const ONNX_PROBABILITIES = "probabilities";
export const ONNX_EMBEDDING = "embedding";
export const ONNX_OPSET = 13;

// ---- protobuf wire format --------------------------------------------------------------------

/** Growable byte buffer with protobuf primitives (varint, length-delimited, fixed32). */
class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Unsigned varint; numbers up to 2^53 (ONNX dims and counts never need more). */
  varint(v: number): this {
    check(Number.isSafeInteger(v) && v >= 0, `protobuf varint: expected a non-negative integer, got ${v}`);
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, v, true);
    this.len += 4;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const msg = () => new ProtoWriter();

// ---- ONNX messages ---------------------------------------------------------------------------

const TENSOR_FLOAT = 1;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

/** TensorProto with float32 raw_data (little-endian, as the spec requires). */
function tensor(name: string, dims: number[], data: Float32Array): ProtoWriter {
  const t = msg();
  for (const d of dims) t.int(1, d);
  t.int(2, TENSOR_FLOAT).string(8, name);
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return t.bytes(9, raw);
}

/** ValueInfoProto of a float tensor [batch, width]; batch symbolic unless a size is given. */
function valueInfo(name: string, width: number, batch?: number): ProtoWriter {
  const batchDim = batch === undefined ? msg().string(2, "batch") : msg().int(1, batch);
  const shape = msg().message(1, batchDim).message(1, msg().int(1, width));
  const tensorType = msg().int(1, TENSOR_FLOAT).message(2, shape);
  return msg().string(1, name).message(2, msg().message(1, tensorType));
}

type Attr = { name: string; int?: number; float?: number };

function node(
  op: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attrs: Attr[] = [],
): ProtoWriter {
  const n = msg();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name).string(4, op);
  for (const a of attrs) {
    const p = msg().string(1, a.name);
    if (a.float !== undefined) p.float(2, a.float).int(20, ATTR_FLOAT);
    else p.int(3, a.int ?? 0).int(20, ATTR_INT);
    n.message(5, p);
  }
  return n;
}

/**
 * The dense layers of a float or int8 logreg / MLP, as the ONNX graph takes them: views of a
 * float network's own arrays, or the int8 layers dequantized (W = s_W · W̄, b = s_W · s_x · b̄).
 */
export function denseLayersOf(model: Model): DenseLayer[] {
  if (model instanceof QuantizedNetwork) return dequantizeStack(model.stack);
  if (model instanceof Sequential) return model.denseLayers("ONNX export");
  return fail(
    "UNSUPPORTED",
    `ONNX export supports logreg / MLP models and their int8 forms, not "${model.kind}" (${model.spec})`,
  );
}

/** Encodes an MLP as an ONNX ModelProto (the bytes of a .onnx file). */
export function exportMlpOnnx(layers: readonly DenseLayer[], options: OnnxExportOptions = {}): Uint8Array {
  checkDenseChain(layers, "ONNX export", "features");
  const last = layers.length - 1;
  const embLayer = options.embeddingLayer ?? (layers.length === 1 ? -1 : last - 1);
  check(
    Number.isInteger(embLayer) && embLayer >= -1 && embLayer < last,
    `ONNX export: embeddingLayer must be in [-1, ${last - 1}], got ${embLayer}`,
  );
  const graph = msg();
  let current = ONNX_INPUT;
  let embeddingTensor = embLayer === -1 ? ONNX_INPUT : "";
  const initializers: ProtoWriter[] = [];
  layers.forEach((l, i) => {
    const w = `layer${i}.W`;
    const b = `layer${i}.b`;
    initializers.push(tensor(w, [l.outDim, l.inDim], l.W), tensor(b, [l.outDim], l.b));
    const isLast = i === last;
    const gemmOut = isLast ? "logits" : `layer${i}.z`;
    graph.message(
      1,
      node(
        "Gemm",
        `layer${i}.gemm`,
        [current, w, b],
        [gemmOut],
        [
          { name: "alpha", float: 1 },
          { name: "beta", float: 1 },
          { name: "transB", int: 1 },
        ],
      ),
    );
    current = gemmOut;
    if (l.relu) {
      const reluOut = `layer${i}.a`;
      graph.message(1, node("Relu", `layer${i}.relu`, [current], [reluOut]));
      current = reluOut;
    }
    if (i === embLayer) embeddingTensor = current;
  });
  graph.message(1, node("Softmax", "softmax", [current], [ONNX_PROBABILITIES], [{ name: "axis", int: 1 }]));
  // Graph outputs need their own names; an Identity gives the embedding its public name.
  graph.message(1, node("Identity", "embedding", [embeddingTensor], [ONNX_EMBEDDING]));
  graph.string(2, options.graphName ?? "mammals_mlp");
  for (const t of initializers) graph.message(5, t);
  const batch = options.batchSize;
  check(
    batch === undefined || (Number.isInteger(batch) && batch > 0),
    `ONNX export: batchSize must be a positive integer, got ${batch}`,
  );
  graph.message(11, valueInfo(ONNX_INPUT, layers[0].inDim, batch));
  graph.message(12, valueInfo(ONNX_PROBABILITIES, layers[last].outDim, batch));
  const embWidth = embLayer === -1 ? layers[0].inDim : layers[embLayer].outDim;
  graph.message(12, valueInfo(ONNX_EMBEDDING, embWidth, batch));

  const model = msg()
    .int(1, 7) // ir_version 7 goes with opset 13
    .string(2, options.producer ?? "mammals")
    .string(3, "0.1.0")
    .message(7, graph)
    .message(8, msg().string(1, "").int(2, ONNX_OPSET));
  for (const [k, v] of Object.entries(options.metadata ?? {}))
    model.message(14, msg().string(1, k).string(2, v));
  return model.finish();
}
