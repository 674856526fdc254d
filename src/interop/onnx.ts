// ONNX: encoder.onnx (x [, c] → z_mean, z_logvar) and decoder.onnx
// (z [, c] → x_mean [, x_log_sigma]), opset 13, IR version 8, batch
// dimension symbolic ("N"). Encoded and decoded with protobufjs (light build)
// and the ONNX project's own message definitions (onnx.proto, vendored with
// its Apache-2.0 license; onnx-schema.ts is its generated JSON descriptor).
//
// Graph: the computation of the README's nn.Module (NCHW images, PyTorch
// layouts): Concat(axis 1) of the inputs when the condition joins there (else
// at the condition layer); per layer the nodes of interopOf(l).onnx (the layer kind's module) (Gemm with
// transB = 1 on the (out, in) weight; Conv / ConvTranspose with TensorFlow's
// pads and output_padding; Flatten; Reshape and Transpose between NHWC and
// NCHW) and the activation's op (Relu, LeakyRelu, Tanh, Sigmoid, Softplus,
// Elu); then the heads: flat NHWC rows (Transpose, Reshape), Split (axis 1:
// columns, or NCHW channels of an image output) when there are two, and
// Sigmoid for Bernoulli means. Initializers carry the PyTorch names and
// layouts of safetensors.ts ("encoder.0.weight", …), float32 in raw_data.
// metadata_props carry wasm_vae_part and wasm_vae_config, so an import is exact.
// This module needs protobufjs (an optional peer dependency), so it is
// reached only through the "wasm-vae/onnx" entry point (src/onnx.ts), which
// imports protobufjs itself (a missing package gets a named error there) and
// hands it over with useProtobuf.
import type protobuf from "protobufjs/light.js";
import type { ResolvedConfig, VAEConfig } from "../model/config.js";
import { ArgumentError } from "../base/validate.js";
import {
  ACTS, checkFiniteTensor, configForPair, InteropFormatError, interopOf, networksOf, refuseLearnedPrior, onnxToOurs, paramsOf, CONFIG_ARGUMENT, type InteropSubject,
  type ModelContents, type ModelFiles, type Network, type OnnxConst, type OnnxNode, type OnnxPart,
} from "./network.js";
import { ONNX_SCHEMA } from "./onnx-schema.js";
import { f32FromBytes } from "./safetensors.js";
import { sameShape, size } from "../base/shape.js";

/** The ONNX opset the exported graphs declare (ai.onnx). */
export const OPSET = 13;
const IR_VERSION = 8;
const FLOAT = 1, INT64 = 7; // TensorProto.DataType
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_INTS = 7; // AttributeProto.AttributeType

let pb: typeof protobuf | null = null;
/** Gives this module protobufjs's light build (src/onnx.ts does, once). */
export function useProtobuf(module: typeof protobuf): void {
  pb = module;
}

let types: { Model: protobuf.Type } | null = null;
function onnxTypes(): { Model: protobuf.Type } {
  if (!pb) throw new Error("ONNX: protobufjs was not loaded (import the \"wasm-vae/onnx\" entry point)");
  if (!types) types = { Model: pb.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace).lookupType("onnx.ModelProto") };
  return types;
}

/** The nodes and constant initializers of one network. */
function graphOf(net: Network): { nodes: OnnxNode[]; consts: OnnxConst[] } {
  const nodes: OnnxNode[] = [];
  const consts: OnnxConst[] = [];
  let h = net.inputs[0].name;
  if (net.concatInputs) {
    h = `${net.part}/input`;
    nodes.push({ opType: "Concat", name: `${net.part}/Concat`, inputs: net.inputs.map((i) => i.name), outputs: [h], attributes: { axis: 1 } });
  }
  const add = (p: OnnxPart) => { nodes.push(...p.nodes); consts.push(...p.consts); h = p.output; };
  for (const l of net.layers) {
    add(interopOf(l).onnx(l, h));
    const act = ACTS[l.activation].onnx(l.alpha);
    if (act) {
      const out = `${l.name}/${l.activation}`;
      nodes.push({ opType: act.opType, name: `${l.name}/${act.opType}`, inputs: [h], outputs: [out], attributes: act.attributes, floats: act.floats });
      h = out;
    }
  }
  // the heads: flat rows in our (NHWC) order; an image's heads are its channel ranges
  const last = net.layers[net.layers.length - 1];
  const image = last.outShape.length === 3, t = last.torchOut;
  const n = size(last.outShape);
  const outs: string[] = [];
  const split = (input: string, sizes: number[]): string[] => {
    const name = `${net.part}/split`, pre = net.heads.map((hd) => `${hd.name}/part`);
    consts.push({ name, dims: [sizes.length], int64: sizes });
    nodes.push({ opType: "Split", name: `${net.part}/Split`, inputs: [input, name], outputs: pre, attributes: { axis: 1 } });
    return pre;
  };
  if (image) {
    // NCHW: split the channels, then each head to flat NHWC rows
    const parts = net.heads.length > 1 ? split(h, net.heads.map((hd) => hd.to - hd.from)) : [h];
    net.heads.forEach((hd, i) => {
      const p = onnxToOurs(hd.name, parts[i], t, hd.size, true);
      nodes.push(...p.nodes); consts.push(...p.consts); outs.push(p.output);
    });
  } else {
    const p = onnxToOurs(net.part, h, t, n, true);
    add(p);
    outs.push(...(net.heads.length > 1 ? split(h, net.heads.map((hd) => hd.to - hd.from)) : [h]));
  }
  net.heads.forEach((hd, i) => {
    if (hd.activation === "sigmoid") {
      nodes.push({ opType: "Sigmoid", name: `${hd.name}/Sigmoid`, inputs: [outs[i]], outputs: [hd.name] });
    } else {
      // rename the tensor that is this head (the output of the last node writing it)
      const node = [...nodes].reverse().find((nd) => nd.outputs.includes(outs[i]));
      if (!node) throw new Error(`onnx: the head ${hd.name} has no node (a bug)`);
      node.outputs = node.outputs.map((o) => o === outs[i] ? hd.name : o);
      for (const nd of nodes) nd.inputs = nd.inputs.map((x) => x === outs[i] ? hd.name : x);
    }
  });
  return { nodes, consts };
}

/** A ModelProto as a plain object (protobufjs `fromObject` input). */
function modelObject(net: Network, config: ResolvedConfig, weights: Record<string, Float32Array> | null) {
  const { nodes, consts } = graphOf(net);
  const valueInfo = (name: string, dim: number) => ({
    name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: "N" }, { dim_value: dim }] } } },
  });
  return {
    ir_version: IR_VERSION,
    opset_import: [{ domain: "", version: OPSET }],
    producer_name: "wasm-vae",
    graph: {
      name: net.part,
      node: nodes.map((n) => ({
        op_type: n.opType, name: n.name, input: n.inputs, output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([name, v]) => Array.isArray(v)
          ? { name, type: ATTR_INTS, ints: v }
          : n.floats?.includes(name) ? { name, type: ATTR_FLOAT, f: v } : { name, type: ATTR_INT, i: v }),
      })),
      initializer: [
        ...(weights ? paramsOf(net).map(({ name, map }) => ({ name, dims: map.torchShape, data_type: FLOAT, raw_data: leBytes(map.toTorch(weights[name])) })) : []),
        ...consts.map((c) => ({ name: c.name, dims: c.dims, data_type: INT64, int64_data: c.int64 })),
      ],
      input: net.inputs.map((i) => valueInfo(i.name, i.dim)),
      output: net.heads.map((hd) => valueInfo(hd.name, hd.size)),
    },
    metadata_props: [{ key: "wasm_vae_part", value: net.part }, { key: "wasm_vae_config", value: JSON.stringify(config) }],
  };
}

function leBytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(4 * a.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i], true);
  return out;
}

/** The model as encoder.onnx and decoder.onnx. */
export function exportOnnx(config: ResolvedConfig, weights: Record<string, Float32Array>, who: InteropSubject = CONFIG_ARGUMENT): ModelFiles {
  refuseLearnedPrior(config, "onnx", who); // [priors]
  const nets = networksOf(config, who);
  const { Model } = onnxTypes();
  const files: ModelFiles = {};
  for (const net of Object.values(nets)) {
    files[`${net.part}.onnx`] = Model.encode(Model.fromObject(modelObject(net, config, weights))).finish();
  }
  return files;
}

const TO_OBJECT = { longs: Number, bytes: Uint8Array, defaults: false, arrays: true } as const;

/** The parts of a graph that decide what it computes, each node and value as JSON. */
function essence(g: any): Record<"node" | "input" | "output", string[]> {
  const vi = (v: any) => JSON.stringify([v?.name, v?.type?.tensor_type?.elem_type, (v?.type?.tensor_type?.shape?.dim ?? []).map((d: any) => d?.dim_param ?? d?.dim_value)]);
  return {
    node: (g?.node ?? []).map((n: any) => JSON.stringify([n?.op_type, n?.domain ?? "", n?.input, n?.output,
      (n?.attribute ?? []).map((a: any) => [a?.name, a?.type, a?.i, a?.f, a?.ints])])),
    input: (g?.input ?? []).map(vi),
    output: (g?.output ?? []).map(vi),
  };
}

/** Reads config and parameters (our names and layouts) from encoder.onnx and
 *  decoder.onnx as exportOnnx writes them; checks everything first. */
export function importOnnx(files: ModelFiles, given?: VAEConfig): ModelContents {
  if (files === null || typeof files !== "object" || files instanceof Uint8Array) {
    throw new ArgumentError(`files: expected an object of file name → Uint8Array ("encoder.onnx", "decoder.onnx")`);
  }
  const { Model } = onnxTypes();
  const parts = (["encoder", "decoder"] as const).map((part) => {
    const file = `${part}.onnx`;
    const bad = (msg: string): never => { throw new InteropFormatError(`${file}: ${msg}`); };
    const bytes = files[file];
    if (!(bytes instanceof Uint8Array)) bad("missing (expected a Uint8Array under this name)");
    let m: any;
    try {
      m = Model.toObject(Model.decode(bytes), TO_OBJECT);
    } catch (e) {
      return bad(`not a valid ONNX ModelProto (${(e as Error).message})`);
    }
    const meta = new Map<string, string>((m.metadata_props ?? []).map((p: any) => [p.key, p.value]));
    if (meta.has("wasm_vae_part") && meta.get("wasm_vae_part") !== part) bad(`its metadata says it is the ${String(meta.get("wasm_vae_part")).slice(0, 20)}`);
    const opset = (m.opset_import ?? []).find((o: any) => (o.domain ?? "") === "")?.version;
    if (opset !== OPSET) bad(`default-domain opset is ${opset}; wasm-vae reads the opset ${OPSET} graphs it writes`);
    return { part, file, m, carried: meta.get("wasm_vae_config"), bad };
  });
  const { config, who } = configForPair(parts, given, (c, w) => refuseLearnedPrior(c, "onnx", w)); // [priors]
  const nets = networksOf(config, who);
  const weights: Record<string, Float32Array> = {};
  for (const { part, m, bad } of parts) {
    const net = nets[part];
    // through the wire format, so float attributes are float32 like the file's
    const want = Model.toObject(Model.decode(Model.encode(Model.fromObject(modelObject(net, config, null))).finish()), TO_OBJECT) as any;
    const [a, b] = [essence(m.graph), essence(want.graph)];
    for (const k of ["node", "input", "output"] as const) {
      const n = Math.max(a[k].length, b[k].length);
      for (let i = 0; i < n; i++) {
        if (a[k][i] !== b[k][i]) bad(`graph ${k} ${i} is ${(a[k][i] ?? "absent").slice(0, 120)}; this architecture exports ${(b[k][i] ?? "none").slice(0, 120)}`);
      }
    }
    const inits = new Map<string, any>();
    for (const t of m.graph.initializer ?? []) {
      if (inits.has(t.name)) bad(`initializer "${String(t.name).slice(0, 80)}" appears twice`);
      inits.set(t.name, t);
    }
    const params = paramsOf(net);
    const consts = new Map<string, any>((want.graph.initializer ?? []).map((t: any) => [t.name, t]));
    for (const name of inits.keys()) {
      if (!consts.has(name) && !params.some((p) => p.name === name)) bad(`unknown initializer "${String(name).slice(0, 80)}"`);
    }
    for (const [name, c] of consts) {
      if (JSON.stringify(inits.get(name)?.int64_data) !== JSON.stringify(c.int64_data)) bad(`constant "${name}" is not ${JSON.stringify(c.int64_data)}`);
    }
    for (const { name, map } of params) {
      const t = inits.get(name);
      if (!t) bad(`initializer "${name}" is missing`);
      if (t.data_type !== FLOAT) bad(`initializer "${name}" has data_type ${t.data_type}; wasm-vae reads FLOAT (1) only`);
      const dims = t.dims ?? [];
      if (!sameShape(dims, map.torchShape)) bad(`initializer "${name}" has dims [${dims.join(", ")}], expected [${map.torchShape.join(", ")}]`);
      const n = size(map.torchShape);
      if (t.data_location === 1) bad(`initializer "${name}" is stored externally; wasm-vae reads weights inside the file only`);
      let data: Float32Array;
      if (t.raw_data && t.raw_data.length > 0) {
        if (t.raw_data.length !== 4 * n) bad(`initializer "${name}" holds ${t.raw_data.length} bytes of raw_data, expected ${4 * n}`);
        data = f32FromBytes(t.raw_data);
      } else {
        if ((t.float_data ?? []).length !== n) bad(`initializer "${name}" holds ${(t.float_data ?? []).length} values, expected ${n}`);
        data = Float32Array.from(t.float_data);
      }
      checkFiniteTensor(`${part}.onnx`, name, data);
      weights[name] = map.fromTorch(data);
    }
  }
  return { config, weights };
}
