// TensorFlow.js layers format: for each network a model.json (a Keras
// functional topology plus a weightsManifest) and its weight shards, the
// files tf.loadLayersModel reads:
//
//   encoder/model.json, encoder/group1-shard1of1.bin   x [, c] → [z_mean, z_logvar]
//   decoder/model.json, decoder/group1-shard1of1.bin   z [, c] → x_mean [, x_log_sigma]
//
// Keras layers: InputLayer per input (x is flat rows: an image encoder's
// first layer is a Reshape to (H, W, C), Keras' channels_last = our NHWC),
// Concatenate when the condition joins at the input (else at the condition
// layer), then per layer the Keras layers of interopOf(l).keras (the layer kind's module) (Dense,
// Conv2D / Conv2DTranspose with kernels as ours, ZeroPadding2D / Cropping2D
// for explicit pads, Flatten, Reshape; weights named "encoder_0/kernel", …),
// the layer's activation as its `activation` (Dense, Conv2D, Conv2DTranspose,
// Activation), or, for leaky_relu or a Keras layer without an `activation`,
// a LeakyReLU / Activation layer after it (elu with α ≠ 1 is refused:
// tfjs-layers' ELU layer supports α = 1 only). The output layer
// (Network.output, by the output-layer rule) is split by
// columns (Dense) or filters (convolutions, then a Reshape to flat rows) into
// one Keras layer per head (z_mean, z_logvar; x_mean with sigmoid for
// Bernoulli means, x_log_sigma); with one head, reshapes after it end in a
// Reshape to flat rows named as the head.
// Shards are the float32 weights concatenated and cut every 4 MiB, as the
// tfjs converter does. model.json carries userDefinedMetadata.wasm_vae
// ({ part, config }) so an import is exact.
// Not here: training configs (the files load for inference), quantized or
// non-float32 weights (refused on import).
import type { ResolvedConfig, VAEConfig } from "../model/config.js";
import { ArgumentError } from "../base/validate.js";
import {
  ACTS, checkFiniteTensor, configForPair, InteropFormatError, interopOf, networksOf, refuse, refuseLearnedPrior, CONFIG_ARGUMENT, type InteropSubject,
  type KerasWeight, type ModelContents, type ModelFiles, type NetLayer, type Network,
} from "./network.js";
import { f32FromBytes } from "./safetensors.js";
import { sameShape, size } from "../base/shape.js";

const SHARD_BYTES = 4 * 1024 * 1024;

/** Keras classes that take an `activation` in their config. */
const KERAS_ACTIVATED = new Set(["Dense", "Conv2D", "Conv2DTranspose", "Activation"]);

interface KerasLayerJSON {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** Keras layer name of one of our layers: "encoder.0" → "encoder_0". */
const kerasName = (l: NetLayer) => l.name.replace(/\./g, "_");

/** Where one of our layers' weights go in Keras: the Keras layer name
 *  (prefix of its weight names) and the output columns it holds. */
interface KerasPart {
  layer: NetLayer;
  prefix: string;
  from: number;
  to: number;
}

/** The Keras topology of one network and where its weights go, in manifest order. */
function kerasNetwork(net: Network, who: InteropSubject): { layers: KerasLayerJSON[]; parts: KerasPart[] } {
  const layers: KerasLayerJSON[] = [];
  const parts: KerasPart[] = [];
  const add = (class_name: string, name: string, config: Record<string, unknown>, inputs: string[]) => {
    layers.push({ class_name, name, config: { name, trainable: true, dtype: "float32", ...config }, inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [] });
    return name;
  };
  for (const i of net.inputs) add("InputLayer", i.name, { batch_input_shape: [null, i.dim], sparse: false }, []);
  let h = net.concatInputs ? add("Concatenate", `${net.part}_input`, { axis: -1 }, net.inputs.map((i) => i.name)) : net.inputs[0].name;
  /** The Keras layers of one of ours (output channels [from, to)) after
   *  `input`, with `activation` (a Keras activation string) on the layer
   *  named `name` when its class takes one, else as an Activation layer
   *  `${name}_${activation}` after them. */
  const emit = (l: NetLayer, name: string, from: number, to: number, activation: string, input: string): string => {
    let x = input, placed = activation === "linear";
    for (const k of interopOf(l).keras.layers(l, name, from, to)) {
      const here = k.name === name && KERAS_ACTIVATED.has(k.className);
      x = add(k.className, k.name, here ? { ...k.config, activation } : k.config, [x, ...(k.also ?? [])]);
      placed ||= here;
    }
    if (!placed) x = add("Activation", `${name}_${activation}`, { activation }, [x]);
    if (interopOf(l).params(l).length > 0) parts.push({ layer: l, prefix: name, from, to });
    return x;
  };
  // the output layer is linear; only reshapes may follow it, and the heads split it
  const P = net.output;
  const out = net.layers[P], tail = net.layers.slice(P + 1);
  if (out.activation !== "identity") throw new Error(`tfjs-layers: the output layer ${out.name} must be linear`);
  for (const l of net.layers.slice(0, P)) {
    const act = ACTS[l.activation].keras(l.alpha);
    if (!act) {
      refuse(who, `its activation ${l.activation} with α = ${l.alpha} has no TensorFlow.js layers form (tfjs-layers supports ELU with α = 1 only); export it as safetensors or ONNX`);
    }
    const name = kerasName(l);
    h = emit(l, name, 0, l.outShape[l.outShape.length - 1], "activation" in act ? act.activation : "linear", h);
    if ("className" in act) h = add(act.className, `${name}_${l.activation}`, act.config, [h]);
  }
  const final = (tail.length ? tail[tail.length - 1] : out).outShape;
  const headAct = (hd: Network["heads"][number]) => hd.activation === "sigmoid" ? "sigmoid" : "linear";
  // only a layer with weights, each output channel from all inputs, can be cut into heads
  const splits = interopOf(out).params(out).length > 0 && !interopOf(out).keras.perChannel;
  if (!splits) {
    // e.g. an activation, dropout or batch_norm layer as the output: its Keras layers, then
    // flat rows and the head's activation in a layer named as the head
    if (net.heads.length > 1) {
      refuse(who, `its output layer ${out.name} (${out.kind}) cannot be split into ${net.heads.map((hd) => hd.name).join(" and ")} in TensorFlow.js layers; export it as safetensors or ONNX`);
    }
    const hd = net.heads[0];
    let x = emit(out, kerasName(out), 0, out.outShape[out.outShape.length - 1], "linear", h);
    for (const l of tail) x = emit(l, kerasName(l), 0, 0, "linear", x);
    if (headAct(hd) === "linear") add("Reshape", hd.name, { target_shape: [hd.size] }, [x]);
    else add("Activation", hd.name, { activation: headAct(hd) }, [final.length === 1 ? x : add("Reshape", `${hd.name}_flat`, { target_shape: [hd.size] }, [x])]);
  } else if (net.heads.length === 1 && tail.length === 0 && final.length === 1) {
    emit(out, net.heads[0].name, 0, final[0], headAct(net.heads[0]), h);
  } else if (net.heads.length === 1) {
    // the output layer, its reshapes, and flat rows named as the head
    let x = emit(out, kerasName(out), 0, out.outShape[out.outShape.length - 1], headAct(net.heads[0]), h);
    for (const l of tail) x = emit(l, kerasName(l), 0, 0, "linear", x);
    add("Reshape", net.heads[0].name, { target_shape: [net.heads[0].size] }, [x]);
  } else {
    if (tail.length > 0) {
      refuse(who, `its output layer ${out.name} is followed by ${tail.map((l) => l.name).join(", ")}, which TensorFlow.js layers cannot split into ${net.heads.map((hd) => hd.name).join(" and ")}; export it as safetensors or ONNX`);
    }
    for (const hd of net.heads) {
      if (final.length === 1) emit(out, hd.name, hd.from, hd.to, headAct(hd), h);
      else add("Reshape", hd.name, { target_shape: [hd.size] }, [emit(out, `${hd.name}_image`, hd.from, hd.to, headAct(hd), h)]);
    }
  }
  return { layers, parts };
}

function topology(net: Network, layers: KerasLayerJSON[]) {
  return {
    class_name: "Functional",
    config: {
      name: net.part, layers,
      input_layers: net.inputs.map((i) => [i.name, 0, 0]),
      output_layers: net.heads.map((h) => [h.name, 0, 0]),
    },
    keras_version: "2.15.0",
    backend: "tensorflow",
  };
}

/** The model as TensorFlow.js layers files (two model.json + shards). */
export function exportTfjs(config: ResolvedConfig, weights: Record<string, Float32Array>, who: InteropSubject = CONFIG_ARGUMENT): ModelFiles {
  checkTfjs(config, who);
  const files: ModelFiles = {};
  for (const net of Object.values(networksOf(config, who))) {
    const { layers, parts } = kerasNetwork(net, who);
    const tensors = parts.flatMap((p) => interopOf(p.layer).keras.weights(p.layer, weights, p.from, p.to)
      .map((w) => ({ ...w, suffix: `${p.prefix}/${w.suffix}` })));
    const floats = tensors.reduce((a, t) => a + t.data.length, 0);
    const all = new Uint8Array(4 * floats);
    const dv = new DataView(all.buffer);
    let o = 0;
    for (const t of tensors) for (let i = 0; i < t.data.length; i++, o += 4) dv.setFloat32(o, t.data[i], true);
    const n = Math.max(1, Math.ceil(all.length / SHARD_BYTES));
    const paths: string[] = [];
    for (let s = 0; s < n; s++) {
      const path = `group1-shard${s + 1}of${n}.bin`;
      paths.push(path);
      files[`${net.part}/${path}`] = all.slice(s * SHARD_BYTES, (s + 1) * SHARD_BYTES);
    }
    const json = {
      format: "layers-model",
      generatedBy: "wasm-vae",
      convertedBy: null,
      modelTopology: topology(net, layers),
      weightsManifest: [{ paths, weights: tensors.map((t) => ({ name: t.suffix, shape: t.shape, dtype: "float32" })) }],
      userDefinedMetadata: { wasm_vae: { part: net.part, config: JSON.stringify(config) } },
    };
    files[`${net.part}/model.json`] = new TextEncoder().encode(JSON.stringify(json));
  }
  return files;
}

/** Refuses, naming `who`, a model TensorFlow.js layers cannot hold: a learned
 *  prior's tensors, an activation or an output layer without a Keras form. */
function checkTfjs(config: ResolvedConfig, who: InteropSubject): void {
  refuseLearnedPrior(config, "tfjs", who); // [priors]
  for (const net of Object.values(networksOf(config, who))) kerasNetwork(net, who);
}

/** The fields of a Keras layer that decide what it computes. */
function essence(l: KerasLayerJSON): string {
  const c = (l?.config ?? {}) as Record<string, unknown>;
  return JSON.stringify([l?.class_name, l?.name, l?.inbound_nodes,
    [c.units, c.activation, c.use_bias, c.alpha, c.axis, c.batch_input_shape, c.filters, c.kernel_size, c.strides, c.padding,
      c.data_format, c.dilation_rate, c.target_shape, c.cropping]]);
}

/** Reads config and parameters (our names and layouts) from TensorFlow.js
 *  layers files as exportTfjs writes them; checks everything first. */
export function importTfjs(files: ModelFiles, given?: VAEConfig): ModelContents {
  if (files === null || typeof files !== "object" || files instanceof Uint8Array) {
    throw new ArgumentError(`files: expected an object of file name → Uint8Array ("encoder/model.json", "encoder/group1-shard1of1.bin", "decoder/…")`);
  }
  const parts = (["encoder", "decoder"] as const).map((part) => {
    const file = `${part}/model.json`;
    const bad = (msg: string): never => { throw new InteropFormatError(`${file}: ${msg}`); };
    const bytes = files[file];
    if (!(bytes instanceof Uint8Array)) bad("missing (expected a Uint8Array under this name)");
    let json: any;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      return bad(`not valid JSON (${(e as Error).message})`);
    }
    if (!json || json.format !== "layers-model" || !json.modelTopology) bad(`not a TensorFlow.js layers model (format "layers-model" with a modelTopology)`);
    const meta = json.userDefinedMetadata?.wasm_vae;
    if (meta !== undefined && (meta?.part !== part || typeof meta?.config !== "string")) bad(`userDefinedMetadata.wasm_vae is not { part: "${part}", config: <JSON> }`);
    return { part, file, json, carried: meta?.config as string | undefined, bad };
  });
  const { config, who } = configForPair(parts, given, checkTfjs);
  const nets = networksOf(config, who);
  const weights: Record<string, Float32Array> = {};
  for (const { part, json, bad } of parts) {
    const net = nets[part];
    const want = kerasNetwork(net, who);
    const got = json.modelTopology?.config;
    if (!got || !Array.isArray(got.layers)) bad("modelTopology.config.layers is missing");
    const expected = topology(net, want.layers).config;
    if (got.layers.length !== expected.layers.length) bad(`has ${got.layers.length} layers; this architecture has ${expected.layers.length}`);
    expected.layers.forEach((l, i) => {
      if (essence(got.layers[i]) !== essence(l)) bad(`layer ${i} (${JSON.stringify(got.layers[i]?.name)?.slice(0, 40)}) does not match the architecture: expected ${essence(l)}`);
    });
    for (const k of ["input_layers", "output_layers"] as const) {
      if (JSON.stringify(got[k]) !== JSON.stringify(expected[k])) bad(`modelTopology.config.${k} is ${JSON.stringify(got[k])?.slice(0, 80)}, expected ${JSON.stringify(expected[k])}`);
    }
    const tensors = readManifest(files, part, json.weightsManifest, bad);
    const shapes = new Map<string, number[]>();
    for (const p of want.parts) {
      for (const w of interopOf(p.layer).keras.shapes(p.layer, p.from, p.to)) shapes.set(`${p.prefix}/${w.suffix}`, w.shape);
    }
    for (const name of tensors.keys()) if (!shapes.has(name)) bad(`unknown weight "${name.slice(0, 80)}" (expected: ${[...shapes.keys()].join(", ")})`);
    const get = (name: string): KerasWeight => {
      const t = tensors.get(name);
      if (!t) return bad(`weight "${name}" is missing from the weightsManifest`);
      if (!sameShape(t.shape, shapes.get(name)!)) bad(`weight "${name}" has shape [${t.shape.join(", ")}], expected [${shapes.get(name)!.join(", ")}]`);
      checkFiniteTensor(`${part} weights`, name, t.data);
      return { suffix: name, shape: t.shape, data: t.data };
    };
    for (const l of net.layers) {
      const kind = interopOf(l).keras;
      const mine = want.parts.filter((p) => p.layer === l);
      Object.assign(weights, kind.read(l, mine.map((p) => ({
        from: p.from, to: p.to, weights: kind.shapes(l, p.from, p.to).map((w) => get(`${p.prefix}/${w.suffix}`)),
      }))));
    }
  }
  return { config, weights };
}

/** The weights of a weightsManifest: groups in order, each group's shards
 *  concatenated and cut into its weights in order. */
function readManifest(files: ModelFiles, dir: string, manifest: unknown, bad: (msg: string) => never): Map<string, { shape: number[]; data: Float32Array }> {
  if (!Array.isArray(manifest)) bad("weightsManifest is not a list of groups");
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  (manifest as { paths: unknown; weights: unknown }[]).forEach((g, gi) => {
    if (!g || !Array.isArray(g.paths) || !Array.isArray(g.weights)) bad(`weightsManifest[${gi}] lacks paths or weights`);
    const shards = (g.paths as unknown[]).map((p) => {
      const f = typeof p === "string" ? files[`${dir}/${p}`] : undefined;
      if (!(f instanceof Uint8Array)) bad(`weight shard ${JSON.stringify(p)?.slice(0, 60)} is missing (expected files["${dir}/${String(p).slice(0, 60)}"])`);
      return f!;
    });
    const total = shards.reduce((a, s) => a + s.length, 0);
    const data = new Uint8Array(total);
    let o = 0;
    for (const s of shards) { data.set(s, o); o += s.length; }
    o = 0;
    for (const w of g.weights as WeightSpec[]) {
      const name = typeof w?.name === "string" ? w.name : bad(`a weight of weightsManifest[${gi}] has no name`);
      if (w.dtype !== "float32" || "quantization" in w) bad(`weight "${name.slice(0, 80)}" is ${"quantization" in w ? "quantized" : w.dtype}; wasm-vae reads float32 weights only`);
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) bad(`weight "${name.slice(0, 80)}": shape is not a list of integers ≥ 0`);
      if (out.has(name)) bad(`weight "${name.slice(0, 80)}" is listed twice`);
      const n = 4 * size(w.shape);
      if (o + n > total) bad(`the weight shards of group ${gi} hold ${total} bytes, fewer than the manifest's weights need (truncated at "${name.slice(0, 80)}")`);
      out.set(name, { shape: w.shape, data: f32FromBytes(data.subarray(o, o + n)) });
      o += n;
    }
    if (o !== total) bad(`the weight shards of group ${gi} hold ${total} bytes but the manifest's weights need ${o}`);
  });
  return out;
}
