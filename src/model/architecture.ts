// The networks a config implies, as lists of resolved layers (pure; no wasm):
//   encoder network → Gaussian head → sampler → decoder network → output layer
// - Encoder: the config's list from inputShape, then the head "encoder.<n>", a
//   dense layer of 2·latentDim units, identity (it outputs [μ | log σ²]). Its
//   input must be flat.
// - Decoder: the config's list from the decoder input [z | c] (L + C), then,
//   by the output-layer rule below, an appended dense output layer
//   "decoder.<m>" (identity) or none.
// - Each entry of a list is one layer named "<encoder|decoder>.<its index in
//   the list>"; a bare number n is { type: "dense", units: n }. A layer's
//   activation is its own `activation`, else the config's; heads and output
//   layers are identity.
//
// The output-layer rule. The likelihood's output per row is
//   bernoulli: logits like x;  gaussian: means like x;
//   gaussian_learned: means and log σ: twice x's values,
// in either of two layouts: flat (D) / (2·D) as [means | log σ] (what a dense
// layer gives), or, for image data (H, W, C), the image (H, W, C) / (H, W, 2·C)
// with the means in channels [0, C) and log σ in channels [C, 2·C).
// - The decoder list ends in a bare number: a dense output layer of D (or 2·D)
//   units is appended (the MLP of every existing config).
// - It ends in a layer object whose output has one of those shapes: the list's
//   last layer IS the output layer, whatever its kind (a flatten or reshape
//   there only views the memory of the layer before it, which is then the one
//   computing the output). Its activation is identity; an explicit other one
//   is refused by name, so nothing after the logits can change them unseen.
// - It ends in a layer object with another flat output: a dense output layer
//   is appended, as after a bare number. Any other output shape is refused,
//   naming the list's last entry.
// Conditions (conditionDim C > 0): the decoder input is [z | c]. In the
// encoder, c joins the input of the first dense layer (the head at the
// latest): on flat data whose first layer is dense, the rows are loaded as
// [x | c] (as the MLP always did); otherwise an internal "condition" layer
// concatenates c to the flat activation there (convolutions see the image only).
import type { LayerEntry, ResolvedConfig } from "./config.js";
import { kindOf, type LayerSpec } from "../layers/index.js";
import { latentOf, priorOf } from "../objectives/index.js";
import type { Activation } from "../kernels/wasm.js";
import { ArgumentError, fail } from "../base/validate.js";
import { sameShape, size } from "../base/shape.js";

/** Stochastic layer i ≥ 2 (hierarchy.ts): q(z_i | z_{i−1}) and p(z_{i−1} | z_i). */
export interface LevelArch {
  /** From z_{i−1} (width `below`) to the Gaussian head "level<i>.encoder.<n>"
   *  (2·size units, identity: [μ | log σ²] of q(z_i | z_{i−1})). */
  encoder: LayerSpec[];
  /** From z_i to the Gaussian head "level<i>.decoder.<m>" (2·below units,
   *  identity: [μ | log σ²] of p(z_{i−1} | z_i)). */
  decoder: LayerSpec[];
  /** Width of z_i. */
  size: number;
  /** Width of z_{i−1}. */
  below: number;
}

/** The networks a config implies (architectureOf), as resolved layers. */
export interface Architecture {
  /** The encoder's layers, ending in the Gaussian head "encoder.<n>" (dense,
   *  2·latentDim units, identity: rows [μ | log σ²]); an internal
   *  "encoder.condition" layer where a conditional model's condition joins. */
  encoder: LayerSpec[];
  /** The decoder's layers from the input [z | condition], ending in the
   *  output layer (appended as a dense "decoder.<m>", or the list's own last
   *  layer when its output already has the likelihood's shape). */
  decoder: LayerSpec[];
  /** Index in `decoder` of the output layer: the last layer, or the last one
   *  before a trailing flatten / reshape (views of its output). */
  outputLayer: number;
  /** Parameter-only layers outside the two networks: the prior's learned
   *  parameters ("prior", none for N(0, I)); laid out after the decoder's. */
  extra: LayerSpec[];
  /** Encoder head outputs per row (the latent family's head: Gaussian [μ | log σ²]). */
  headWidth: number;
  /** Encoder rows a learned prior adds after the data rows (the VampPrior's
   *  pseudo-inputs; 0 for none: then the encoder's input gets no gradient). */
  priorRows: number;
  /** A learned prior's per-row arena buffers [name, floats per row]. */
  priorBuffers: [string, number][];
  /** A learned prior's fixed-size arena buffers [name, floats]. */
  priorFixed: [string, number][];
  /** The stochastic layers above the first (config.latents[1…]; none for a
   *  one-level model), laid out after the decoder. */
  levels: LevelArch[];
  /** The encoder input rows hold [x | c] (flat data, first layer dense). */
  conditionAtInput: boolean;
  /** Shape the decoder outputs (one of the likelihood's layouts). */
  outputShape: number[];
  /** The output is an image whose channels [C, 2C) hold log σ: the
   *  likelihood reads a planar [means | log σ] copy of it. */
  channelSplit: boolean;
}

const isDense = (e: LayerEntry | undefined) => typeof e === "number" || e?.type === "dense";

function entryParts(e: LayerEntry): { type: string; settings: Record<string, unknown>; activation?: Activation } {
  if (typeof e === "number") return { type: "dense", settings: { units: e } };
  const { type, activation, ...settings } = e as unknown as Record<string, unknown>;
  return { type: type as string, settings, activation: activation as Activation | undefined };
}

function makeLayer(kindName: string, name: string, inShape: number[], settings: Record<string, unknown>,
                   activation: Activation, at: string): LayerSpec {
  const kind = kindOf(kindName);
  const outShape = kind.outputShape(inShape, settings, at);
  const base = { kind: kindName, name, inShape, outShape, settings, activation: kind.activates ? activation : "identity" as Activation,
    derived: kind.derive?.(inShape, settings, at) };
  const buffers = kind.buffers?.(base);
  return { ...base, params: kind.params(base), ...(buffers ? { buffers } : {}), alias: kind.alias };
}

const shapeText = (s: readonly number[]) => `(${s.join(", ")})`;

/** Resolves the encoder and decoder of a checked config (pure: no wasm):
 *  every layer's shapes, settings, activation and parameters. Throws an
 *  ArgumentError naming the config entry whose shapes do not fit (e.g. a
 *  dense layer on an image without a flatten before it). */
export function architectureOf(c: ResolvedConfig): Architecture {
  const C = c.conditionDim, L = c.latentDim, D = c.inputDim, hidden = c.activation;
  // ---- encoder
  const conditionAtInput = C > 0 && c.inputShape.length === 1 && isDense(c.encoder[0] ?? 400);
  let shape = conditionAtInput ? [D + C] : [...c.inputShape];
  let pending = C > 0 && !conditionAtInput;
  const encoder: LayerSpec[] = [];
  const join = (at: string) => {
    if (shape.length !== 1) fail(at, `a flat input for the dense layer where the condition joins (add { type: "flatten" } before it)`, `shape ${shapeText(shape)}`);
    encoder.push(makeLayer("condition", "encoder.condition", shape, { conditionDim: C }, "identity", at));
    shape = encoder[encoder.length - 1].outShape;
    pending = false;
  };
  c.encoder.forEach((e, i) => {
    const at = `config.encoder[${i}]`, p = entryParts(e);
    if (pending && p.type === "dense") join(at);
    const l = makeLayer(p.type, `encoder.${i}`, shape, p.settings, p.activation ?? hidden, at);
    encoder.push(l);
    shape = l.outShape;
  });
  const headAt = "config.encoder (its output, the input of the Gaussian head)";
  if (pending) join(headAt);
  if (shape.length !== 1) fail(headAt, `a flat output (end the encoder with { type: "flatten" } or a dense layer)`, `shape ${shapeText(shape)}`);
  const headWidth = latentOf(c.latent.type).headWidth(L, c.latent);
  encoder.push(makeLayer("dense", `encoder.${c.encoder.length}`, shape, { units: headWidth }, "identity", headAt));

  // ---- decoder
  const learned = c.likelihood === "gaussian_learned";
  const flatOut = [learned ? 2 * D : D];
  const image = c.inputShape.length === 3;
  const imageOut = image ? [c.inputShape[0], c.inputShape[1], (learned ? 2 : 1) * c.inputShape[2]] : null;
  shape = [L + C];
  const decoder: LayerSpec[] = [];
  c.decoder.forEach((e, i) => {
    const at = `config.decoder[${i}]`, p = entryParts(e);
    const l = makeLayer(p.type, `decoder.${i}`, shape, p.settings, p.activation ?? hidden, at);
    decoder.push(l);
    shape = l.outShape;
  });
  const last = c.decoder[c.decoder.length - 1];
  const matches = sameShape(shape, flatOut) || (imageOut !== null && sameShape(shape, imageOut));
  let outputLayer: number;
  if (last !== undefined && typeof last !== "number" && matches) {
    // the list's last layer is the output layer (a trailing flatten / reshape: the layer it views)
    const lastAt = `config.decoder[${c.decoder.length - 1}]`;
    let i = decoder.length - 1;
    while (i >= 0 && decoder[i].alias) i--;
    if (i < 0 || !decoder.slice(0, i + 1).some((l) => l.params.length > 0)) {
      fail(lastAt, "a decoder with a layer with parameters, its last layer computing the output", last);
    }
    const out = decoder[i], entry = c.decoder[i];
    if (typeof entry !== "number" && (entry as { activation?: string }).activation !== undefined && out.activation !== "identity") {
      throw new ArgumentError(`config.decoder[${i}].activation: expected "identity" or nothing: this layer is the output layer (its output ${shapeText(shape)} is the likelihood's), got "${out.activation}"`);
    }
    out.activation = "identity";
    outputLayer = i;
  } else {
    const at = last !== undefined && typeof last !== "number"
      ? `config.decoder[${c.decoder.length - 1}] (its output, the input of the appended output layer)`
      : "config.decoder (its output, the input of the output layer)";
    if (shape.length !== 1) {
      fail(at, `a flat output (end the decoder with { type: "flatten" }), or an output of the likelihood's shape ${shapeText(imageOut ?? flatOut)}${imageOut ? ` or ${shapeText(flatOut)}` : ""}`, `shape ${shapeText(shape)}`);
    }
    decoder.push(makeLayer("dense", `decoder.${c.decoder.length}`, shape, { units: flatOut[0] }, "identity", at));
    shape = flatOut;
    outputLayer = decoder.length - 1;
  }
  const priorKind = priorOf(c.prior.type);
  const priorParams = priorKind.params(L, D, c.prior);
  const priorRows = priorKind.encoderRows?.(c.prior) ?? 0, priorBuffers = priorKind.buffers?.(L, c.prior) ?? [];
  const priorFixed = priorKind.fixedBuffers?.(L, c.prior) ?? [];
  // a layer with batch statistics sees one batch: not the encoder that also runs the prior's rows
  const batchWide = encoder.findIndex((l) => kindOf(l.kind).batchStatistics);
  if (priorRows > 0 && batchWide >= 0) fail(`config.encoder[${encoder[batchWide].name.split(".")[1]}]`, `no ${encoder[batchWide].kind} layer in the encoder with the "${c.prior.type}" prior (it runs the encoder on its learned inputs in the same pass, which would join the batch's statistics)`, encoder[batchWide].kind);
  if (priorRows > 0 && C > 0) fail("config.prior", `a prior without encoder rows of its own when conditionDim > 0 (the "${c.prior.type}" prior runs the encoder on learned inputs, which have no condition)`, c.prior.type);
  const extra: LayerSpec[] = priorParams.length === 0 ? [] : [{
    kind: "params", name: "prior", inShape: [1], outShape: [1], settings: {}, activation: "identity", params: priorParams, alias: true,
  }];
  return { encoder, decoder, outputLayer, extra, headWidth, priorRows, priorBuffers, priorFixed, conditionAtInput, outputShape: shape, channelSplit: learned && shape.length === 3, levels: levelsOf(c) };
}

/** The stochastic layers above the first: each an MLP with a Gaussian head
 *  on either side (names "level<i>.encoder.<n>", "level<i>.decoder.<n>"). */
function levelsOf(c: ResolvedConfig): LevelArch[] {
  const ls = c.latents ?? [];
  const out: LevelArch[] = [];
  for (let i = 1; i < ls.length; i++) {
    const below = ls[i - 1].size, size = ls[i].size, at = `config.latents[${i}]`;
    const net = (list: ResolvedConfig["encoder"], side: "encoder" | "decoder", inW: number, headW: number) => {
      let shape = [inW];
      const layers: LayerSpec[] = [];
      list.forEach((e, j) => {
        const p = entryParts(e);
        if (kindOf(p.type).batchStatistics) fail(`${at}.${side}[${j}].type`, "a layer kind without batch statistics (batch_norm goes in config.encoder and config.decoder only)", p.type);
        const l = makeLayer(p.type, `level${i + 1}.${side}.${j}`, shape, p.settings, p.activation ?? c.activation, `${at}.${side}[${j}]`);
        layers.push(l);
        shape = l.outShape;
      });
      const headAt = `${at}.${side} (its output, the input of the Gaussian head)`;
      if (shape.length !== 1) fail(headAt, "a flat output", `shape ${shapeText(shape)}`);
      layers.push(makeLayer("dense", `level${i + 1}.${side}.${list.length}`, shape, { units: headW }, "identity", headAt));
      return layers;
    };
    out.push({ encoder: net(ls[i].encoder, "encoder", below, 2 * size), decoder: net(ls[i].decoder, "decoder", size, 2 * below), size, below });
  }
  return out;
}

/** Every layer of the stochastic layers above the first, in arena order. */
export const levelLayers = (a: Architecture): LayerSpec[] => a.levels.flatMap((l) => [...l.encoder, ...l.decoder]);

/** Every parameter's name and shape, in arena order. */
export function parameterShapesOf(a: Architecture): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const l of [...a.encoder, ...a.decoder, ...levelLayers(a), ...a.extra]) for (const p of l.params) out[p.name] = [...p.shape];
  return out;
}

/** Every saved buffer's (non-trainable tensor's: batch_norm's running
 *  statistics) name and shape, in arena order; empty for most models. */
export function bufferShapesOf(a: Architecture): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const l of [...a.encoder, ...a.decoder, ...levelLayers(a), ...a.extra]) for (const b of l.buffers ?? []) if (b.saved) out[b.name] = [...b.shape];
  return out;
}

/** What must agree for a file's weights to fit a model (the layers with
 *  their shapes, settings and activations; the likelihood; the condition). */
export function architectureKey(c: ResolvedConfig): string {
  const a = architectureOf(c);
  const layers = [...a.encoder, ...a.decoder, ...levelLayers(a)].map((l) => [l.kind, l.name, l.inShape, l.outShape, l.settings, l.activation]);
  const key: unknown[] = [c.inputShape, layers, c.activationAlpha, c.likelihood, c.sigma, c.conditionDim];
  // the latent family and prior shape the weights too (N(0, I) Gaussian: the key of every earlier file)
  if (c.latent.type !== "gaussian" || c.prior.type !== "normal") {
    // issue 18: settings that only drive training (a temperature schedule) do not shape the weights
    const skip = latentOf(c.latent.type).trainingSettings ?? [];
    key.push(Object.fromEntries(Object.entries(c.latent).filter(([k]) => !skip.includes(k))), c.prior);
  }
  return JSON.stringify(key);
}

/** "784-400-8×2 | 8-400-784, relu, bernoulli" for an MLP; layer lists name
 *  kinds; then whatever else architectureKey compares (σ, the condition, a
 *  non-default latent family or prior), so two different keys never read alike. */
export function describeArchitecture(c: ResolvedConfig): string {
  const a = architectureOf(c);
  const net = (ls: LayerSpec[]) => ls.filter((l) => l.kind !== "condition").map((l) => l.kind === "dense" ? String(l.outShape[0]) : `${l.kind}${shapeText(l.outShape)}`).join("-");
  const up = a.levels.map((l) => ` → ${net(l.encoder)}`).join(""), down = [...a.levels].reverse().map((l) => `${l.size}-${net(l.decoder)} → `).join("");
  const act = c.activation === "leaky_relu" || c.activation === "elu" ? `${c.activation} (α ${c.activationAlpha})` : c.activation;
  const lt = c.latent as { type: string; variables?: number; classes?: number };
  const pr = c.prior as { type: string; components?: number };
  const extras = [
    c.likelihood === "gaussian" ? `σ ${c.sigma}` : "",
    c.conditionDim ? `condition ${c.conditionDim}` : "",
    lt.type === "categorical" ? `categorical latent ${lt.variables} × ${lt.classes}` : "",
    pr.type !== "normal" && pr.type !== "uniform" ? `${pr.type} prior (K = ${pr.components})` : "",
  ].filter((t) => t !== "");
  return `${size(a.encoder[0].inShape)}-${net(a.encoder)}${up} | ${down}${L(c)}-${net(a.decoder)}, ${act}, ${c.likelihood}${extras.map((t) => `, ${t}`).join("")}`;
}
const L = (c: ResolvedConfig) => c.latentDim + c.conditionDim;
