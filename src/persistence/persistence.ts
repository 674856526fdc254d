// A model's numeric state in and out of the arena: exporting it (weights,
// Adam moments, random streams, counters), and importing one in two phases,
// stageState (check everything, change nothing) then writeState, so a bad
// state leaves the model untouched. Not here: the file format (io.ts).
import { Adam } from "../optim/adam.js";
import type { Network } from "../model/network.js";
import type { HostRng } from "../base/random.js";
import { copyCursor, type EpochCursor, type ModelState } from "../base/types.js";
import { checkFinite, checkInt, describe, fail } from "../base/validate.js";
import { size } from "../base/shape.js";
import { size as shapeSize } from "../base/shape.js";

/** The training counters a state carries besides the arena. */
export interface Counters {
  optimizer: Adam;
  hostRng: HostRng;
  /** fit's dynamic-binarization stream. */
  binarizeRng: HostRng;
  steps: number;
  epochs: number;
  epochCursor: EpochCursor | null;
}

export function exportState(net: Network, c: Counters): ModelState {
  const H = net.heap();
  const u = (name: string) => new Uint32Array(H.buffer, net.ptr[name], 4).slice();
  return {
    weights: net.readTensors(""), ...(Object.keys(net.bufferShapes()).length > 0 ? { buffers: net.readBuffers() } : {}),
    m: net.readTensors("m:"), v: net.readTensors("v:"),
    rngTrain: u("rng.train"), rngEval: u("rng.eval"), hostRng: c.hostRng.s.slice(),
    binarizeRng: c.binarizeRng.s.slice(),
    optimizer: c.optimizer.state(), steps: c.steps, epochs: c.epochs,
    epochCursor: c.epochCursor ? copyCursor(c.epochCursor) : null,
  };
}

/** A checked state, ready to write. */
export interface StagedState {
  tensors: [number, Float32Array][];
  state: ModelState;
  /** The optimizer to attach (restored, or a fresh one for a weights-only state). */
  optimizer: Adam | null;
  /** A weights-only state: moments, the optimizer's step and counters restart. */
  weightsOnly: boolean;
}

const badRng = (r: Uint32Array) => (r[0] | r[1] | r[2] | r[3]) === 0;

/** Checks every part of `s` against the network; throws naming the part. */
export function stageState(net: Network, s: ModelState, current: Adam, schedule?: (step: number) => number): StagedState {
  if (s === null || typeof s !== "object" || Array.isArray(s)) fail("state", "a ModelState object (from exportState())", s);
  const known = ["weights", "buffers", "m", "v", "rngTrain", "rngEval", "hostRng", "binarizeRng", "optimizer", "steps", "epochs", "epochCursor"];
  for (const k of Object.keys(s)) {
    if (!known.includes(k)) fail(`state.${k.slice(0, 40)}`, `unknown field (known: ${known.join(", ")})`);
    if (k !== "epochCursor" && (s as unknown as Record<string, unknown>)[k] === null) fail(`state.${k}`, "a value (omit it instead of null)", null);
  }
  const shapes = net.parameterShapes();
  const staged: [number, Float32Array][] = [];
  if ((s.m === undefined) !== (s.v === undefined)) fail("state", "both Adam moments (m and v) or neither");
  for (const [part, prefix, required] of [[s.weights, "", true], [s.m, "m:", false], [s.v, "v:", false]] as const) {
    if (!part) { if (required) fail("state.weights", "the model's weights"); continue; }
    if (typeof part !== "object") fail(`state.${prefix ? prefix.slice(0, 1) : "weights"}`, "an object of name → Float32Array", part);
    for (const [n, shape] of Object.entries(shapes)) {
      const t = Object.prototype.hasOwnProperty.call(part, n) ? part[n] : undefined;
      const count = size(shape);
      if (!(t instanceof Float32Array) || t.length !== count) fail(`state ${prefix || "weights:"}${n}`, `${count} floats for shape [${shape.join(", ")}]`, t);
      for (let i = 0; i < count; i++) if (!Number.isFinite(t[i])) fail(`state ${prefix || "weights:"}${n}[${i}]`, "a finite number", t[i]);
      staged.push([net.ptr[`${prefix}${n}`], t]);
    }
    for (const n of Object.keys(part)) if (!Object.prototype.hasOwnProperty.call(shapes, n)) fail(`state ${prefix || "weights:"}${describe(n)}`, "a parameter of this model");
  }
  if (s.buffers !== undefined) {
    const bufs = s.buffers, specs = new Map(net.layers().flatMap((l) =>
      (l.buffers ?? []).flatMap((q, i) => q.saved ? [[q.name, { q, p: l.b[i] }] as const] : [])));
    if (bufs === null || typeof bufs !== "object") fail("state.buffers", "an object of name → Float32Array", bufs);
    for (const [n, { q, p }] of specs) {
      const t = Object.prototype.hasOwnProperty.call(bufs, n) ? bufs[n] : undefined, size = shapeSize(q.shape);
      if (!(t instanceof Float32Array) || t.length !== size) fail(`state buffers:${n}`, `${size} floats for shape [${q.shape.join(", ")}]`, t);
      for (let i = 0; i < size; i++) {
        if (!Number.isFinite(t[i]) || (q.min !== undefined && t[i] < q.min)) fail(`state buffers:${n}[${i}]`, `a finite number${q.min !== undefined ? ` ≥ ${q.min}` : ""}`, t[i]);
      }
      staged.push([p, t]);
    }
    for (const n of Object.keys(bufs)) if (!specs.has(n)) fail(`state buffers:${describe(n)}`, "a buffer of this model (non-trainable tensors: batch_norm's running statistics)");
  }
  for (const k of ["rngTrain", "rngEval", "hostRng", "binarizeRng"] as const) {
    const r = s[k];
    if (r !== undefined && (!(r instanceof Uint32Array) || r.length !== 4 || badRng(r))) fail(`state.${k}`, "4 u32 words, not all zero", r);
  }
  if (schedule !== undefined && typeof schedule !== "function") fail("schedule", "a function from the 1-based step to a learning rate", schedule);
  const keep = typeof current.lr === "function" ? current.lr : undefined;
  let optimizer = s.optimizer ? Adam.fromState(s.optimizer, schedule ?? keep) : null;
  if (s.epochCursor) {
    const c = s.epochCursor;
    if (typeof c !== "object") fail("state.epochCursor", "an EpochCursor object or null", c);
    if (!(c.hostRng instanceof Uint32Array) || c.hostRng.length !== 4 || badRng(c.hostRng)) fail("state.epochCursor.hostRng", "4 u32 words, not all zero", c.hostRng);
    checkInt("state.epochCursor.batchSize", c.batchSize, 1);
    checkInt("state.epochCursor.rows", c.rows, 1);
    checkInt("state.epochCursor.batch", c.batch, 0, Math.ceil(c.rows / c.batchSize));
    if (typeof c.shuffle !== "boolean") fail("state.epochCursor.shuffle", "a boolean", c.shuffle);
    if (c.sums !== undefined) {
      if (c.sums === null || typeof c.sums !== "object") fail("state.epochCursor.sums", "an object {loss, reconstruction, kl, rows}", c.sums);
      for (const k of ["loss", "reconstruction", "kl"] as const) checkFinite(`state.epochCursor.sums.${k}`, c.sums[k]);
      checkInt("state.epochCursor.sums.rows", c.sums.rows, 0, c.rows);
    }
  }
  if (s.steps !== undefined) checkInt("state.steps", s.steps, 0);
  if (s.epochs !== undefined) checkInt("state.epochs", s.epochs, 0);
  const weightsOnly = !s.m;
  if (weightsOnly && !optimizer) {
    optimizer = new Adam({ lr: schedule ?? current.lr, beta1: current.beta1, beta2: current.beta2, eps: current.eps, weightDecay: current.weightDecay, clipNorm: current.clipNorm ?? undefined });
  }
  return { tensors: staged, state: s, optimizer, weightsOnly };
}

/** Writes a staged state into the arena and the counters. */
export function writeState(net: Network, st: StagedState, c: Counters): void {
  const s = st.state;
  net.writeTensors(st.tensors);
  if (st.weightsOnly) {
    net.resetMoments();
    c.steps = 0;
    c.epochs = 0;
    c.epochCursor = null;
  }
  const H = net.heap();
  if (s.rngTrain) new Uint32Array(H.buffer, net.ptr["rng.train"], 4).set(s.rngTrain);
  if (s.rngEval) new Uint32Array(H.buffer, net.ptr["rng.eval"], 4).set(s.rngEval);
  if (s.hostRng) c.hostRng.s.set(s.hostRng);
  if (s.binarizeRng) c.binarizeRng.s.set(s.binarizeRng);
  if (st.optimizer) c.optimizer = st.optimizer;
  if (s.steps !== undefined) c.steps = s.steps;
  if (s.epochs !== undefined) c.epochs = s.epochs;
  if (s.epochCursor !== undefined) c.epochCursor = s.epochCursor ? copyCursor(s.epochCursor) : null;
}
