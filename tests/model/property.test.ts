// Item 7 of issue 10: a property-based suite (fast-check, seeded so a failure
// reproduces) over the public API. Every public method and option gets
// random arguments of every type and magnitude: well-shaped data with values
// from 0 to 1e300, NaN and ±Infinity; wrong shapes; null, strings, objects,
// functions; unknown option keys; corrupted model files and states.
// Properties, for each call:
//   - it succeeds with finite results, or it throws ArgumentError,
//     ModelFormatError, NonFiniteLossError or WasmLoadError (IdxFormatError
//     from the IDX/MNIST parsers), never a foreign error such as TypeError or
//     a wasm trap;
//   - a call that throws leaves every model's whole saved state (weights,
//     Adam moments and step, the three random streams, the step and epoch
//     counters, the epoch cursor) and its optimizer object bit-identical.
//     Two documented exceptions are not checked: fit that fails after it has
//     taken steps (those steps stay), and an Adam update that overflowed for
//     some parameters (the others were updated, see README "Errors").
// Work-size arguments (epochs, samples, iterations, n, steps, model widths)
// are drawn from small or invalid values only, so a valid draw stays fast.
// Each run starts from the same saved models and applies 1–4 calls in turn.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, fit, IdxFormatError, ModelFormatError, NonFiniteLossError, parseIdx, parseMnist, VAE, WasmLoadError, type VAEConfig } from "../../src/index.js";
import { crc32, decodeModel, loadKernels, planMemory } from "../../src/kernels.js";
import { sameBytes } from "./harden-helpers.js";

const SEED = 20261130;
const NAMED = [ArgumentError, ModelFormatError, NonFiniteLossError, WasmLoadError, IdxFormatError];

interface Spec { cfg: VAEConfig; D: number; L: number; C: number }
const specs: Spec[] = [
  { cfg: { inputDim: 5, encoder: [3], latentDim: 2, seed: 1 }, D: 5, L: 2, C: 0 },
  { cfg: { inputDim: 4, encoder: [3], latentDim: 2, conditionDim: 2, likelihood: "gaussian", sigma: 0.5, seed: 2 }, D: 4, L: 2, C: 2 },
  { cfg: { inputDim: 3, encoder: [], latentDim: 1, likelihood: "gaussian_learned", activation: "elu", seed: 3 }, D: 3, L: 1, C: 0 },
];
let models: VAE[] = [];
let saved: Uint8Array[] = [];

beforeAll(async () => {
  for (const s of specs) {
    const m = await VAE.create(s.cfg);
    const x = new Float32Array(2 * s.D).fill(0.5);
    m.trainStep(s.C ? { x, condition: new Float32Array(2 * s.C).fill(1) } : x);
    m.sample(1, s.C ? { condition: new Float32Array(s.C) } : {});
    models.push(m);
    saved.push(m.save());
  }
});

// ------------------------------------------------------------- generators

/** Numbers of every magnitude, and the special values. */
const anyNumber = fc.oneof(
  fc.double({ min: -1, max: 1, noNaN: true }),
  fc.double(),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(0, -0, 1, 0.5, 1e-50, 1e-7, 1e6, 2e6, 1e8, 2e8, 1e30, 3.4e38, 3.4028234663852886e38, 3.5e38, 1e39, 1e300, -1e39, NaN, Infinity, -Infinity),
);
/** Values of any type (shallow, bounded). */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  anyNumber, fc.constant(null), fc.constant(undefined), fc.boolean(), fc.string({ maxLength: 6 }),
  fc.constantFrom("no", "false", "true", "plain", "relaxed", "auto", "score", "metropolis", "pseudo_gibbs", "__proto__"),
  fc.array(anyNumber, { maxLength: 6 }), fc.constant({}), fc.constant([]), fc.constant(() => 0.01),
  fc.constant(new Float32Array(3)), fc.constant(new Uint8Array(2)), fc.constant(Object.create(null)),
  fc.constant({ constructor: 1 }), fc.constant(JSON.parse('{"__proto__": 1}')),
);
/** `good` n − 1 times in n, else `bad` (any value by default). */
function mostly<T>(n: number, good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown> = anyValue): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: n - 1, arbitrary: good }, { weight: 1, arbitrary: bad });
}
/** A plausible number, sometimes one of any magnitude. */
const num = (lo: number, hi: number) => mostly(8, fc.double({ min: lo, max: hi, noNaN: true }), anyNumber);
/** Work sizes: small valid counts, or invalid ones (never a huge valid count). */
const size = (lo = 1) => mostly(20, fc.integer({ min: lo, max: lo + 2 }),
  fc.oneof(fc.constantFrom(-1, 0, 1.5, NaN, Infinity, 2 ** 53, 1e300, "2", null), anyValue));

/** A dense layer of a PlanSpec (as architectureOf resolves one), its sizes possibly invalid. */
function denseLayer(l: { name: string; inDim: unknown; outDim: unknown }): unknown {
  const [IN, OUT] = [l.inDim, l.outDim];
  return {
    kind: "dense", name: l.name, inShape: [IN], outShape: [OUT], settings: { units: OUT }, activation: "identity", alias: false,
    params: [{ name: `${l.name}.weight`, shape: [IN, OUT], role: "weight", fanIn: IN, fanOut: OUT },
      { name: `${l.name}.bias`, shape: [OUT], role: "bias", fanIn: IN, fanOut: OUT }],
  };
}

/** n rows × dim values in one of the accepted containers; a value is now and
 *  then of any magnitude (NaN, ±Infinity, 1e39, …), the length now and then off. */
function rowsOf(n: number, dim: number, unit: boolean): fc.Arbitrary<unknown> {
  const value = mostly(40, unit ? fc.double({ min: 0, max: 1, noNaN: true }) : fc.double({ min: -3, max: 3, noNaN: true }), anyNumber);
  const len = fc.oneof({ weight: 12, arbitrary: fc.constant(n * dim) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: n * dim + 2 }) });
  const shaped = fc.tuple(len, fc.constantFrom("f32", "f64", "u8", "arr"))
    .chain(([k, kind]) => fc.array(value as fc.Arbitrary<number>, { minLength: k, maxLength: k })
      .map((a) => kind === "f32" ? Float32Array.from(a) : kind === "f64" ? Float64Array.from(a)
        : kind === "u8" ? Uint8Array.from(a, (v) => Math.abs(v) * 255) : a));
  return mostly(15, shaped);
}
const rowCount = fc.integer({ min: 1, max: 3 });
const rows = (dim: number, unit = false) => rowCount.chain((n) => rowsOf(n, dim, unit));

/** An options object: a subset of the known keys with plausible (now and then
 *  any) values, sometimes an unknown key; or anything in place of the object. */
function options(fields: Record<string, fc.Arbitrary<unknown>>, required: string[] = []): fc.Arbitrary<unknown> {
  const withAny = Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, mostly(15, a)]));
  const obj = fc.record(withAny, { requiredKeys: required });
  return fc.oneof(
    { weight: 20, arbitrary: obj },
    { weight: 1, arbitrary: obj.map((o) => ({ ...o, tempreature: 1 })) },
    { weight: 1, arbitrary: anyValue },
  );
}

// ------------------------------------------------------------ the harness

interface Call { label: string; run: () => unknown }

function finiteDeep(v: unknown, depth = 0): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (v instanceof Float32Array || v instanceof Float64Array) return v.every(Number.isFinite);
  if (ArrayBuffer.isView(v) || v === null || typeof v !== "object" || depth > 4) return true;
  return Object.entries(v).every(([k, x]) => k === "seconds" || k === "samplesPerSecond" || finiteDeep(x, depth + 1)); // timings may be 0 / ∞ on a fast step
}

/** Runs one call and checks the two properties. */
async function check(call: Call): Promise<void> {
  const before = models.map((m) => m.save()), opts = models.map((m) => m.optimizer), steps = models.map((m) => m.steps);
  let result: unknown, err: unknown, threw = false;
  try {
    result = await call.run();
  } catch (e) {
    err = e; threw = true;
  }
  if (!threw) {
    if (!finiteDeep(result)) throw new Error(`${call.label}: a non-finite result`);
    return;
  }
  if (!NAMED.some((c) => err instanceof c)) {
    throw new Error(`${call.label}: a foreign error ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
  const e = err as Error;
  const stepsTaken = models.some((m, i) => m.steps !== steps[i]);
  if ((call.label === "fit" && stepsTaken) || (e instanceof NonFiniteLossError && /Adam update/.test(e.message))) return;
  models.forEach((m, i) => {
    if (!sameBytes(m.save(), before[i])) throw new Error(`${call.label} threw ${e.name} (${e.message.slice(0, 200)}) and changed model ${i}`);
    if (m.optimizer !== opts[i]) throw new Error(`${call.label} threw ${e.name} and replaced model ${i}'s optimizer`);
  });
}

// ------------------------------------------------------ calls per method

/** Every public method of a model with generated arguments. */
function callOn(i: number): fc.Arbitrary<Call> {
  const { D, L, C } = specs[i];
  const m = () => models[i];
  const unit = i === 0; // Bernoulli targets lie in [0, 1]
  /** n rows of data with their n condition rows (undefined without a condition). */
  const withCond = (dim: number, u: boolean) => rowCount.chain((n) => fc.record({
    x: rowsOf(n, dim, u),
    condition: C > 0 ? mostly(15, rowsOf(n, C, false)) : mostly(30, fc.constant(undefined)),
  }));
  const condOf = (n: number) => C > 0 ? mostly(15, rowsOf(n, C, false)) : mostly(30, fc.constant(undefined));
  const mk = <T,>(label: string, arb: fc.Arbitrary<T>, run: (a: T) => unknown): fc.Arbitrary<Call> =>
    arb.map((a) => ({ label, run: () => run(a), toString: () => `${label}(${fc.stringify(a)})` } as Call));
  const shapes = models[i].parameterShapes();
  const names = Object.keys(shapes);
  const weights = fc.dictionary(mostly(10, fc.constantFrom(...names), fc.constantFrom("constructor", "toString", "__proto__", "x")),
    mostly(10, fc.constant("right" as const)), { maxKeys: 3 })
    .chain((d) => fc.tuple(fc.constant(d), fc.array(mostly(200, fc.double({ min: -2, max: 2, noNaN: true }), anyNumber), { minLength: 64, maxLength: 64 })))
    .map(([d, vals]) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(d)) {
        const n = Object.prototype.hasOwnProperty.call(shapes, k) ? shapes[k].reduce((a, b) => a * b, 1) : 3;
        Object.defineProperty(out, k, { value: v === "right" ? Float64Array.from({ length: n }, (_, j) => vals[j % 64] as number) : v, enumerable: true });
      }
      return out;
    });
  const fileBytes = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }))
    .map(([how, at, x]) => {
      const b = saved[i].slice();
      if (how === 1) b[at % b.length] ^= x;               // a flipped byte
      if (how === 2) return b.subarray(0, at % b.length); // truncated
      if (how === 3) return saved[(i + 1) % saved.length]; // another architecture
      return b;
    });
  const state = fc.tuple(fc.constantFrom("weights", "m", "v", "rngTrain", "rngEval", "hostRng", "optimizer", "steps", "epochs", "epochCursor", "extra", "none", "none"), anyValue)
    .map(([k, v]) => { const s = m().exportState() as unknown as Record<string, unknown>; if (k !== "none") s[k] = v; return s; });
  const adamOpts = options({ lr: fc.oneof(fc.double({ min: 0, max: 0.1, noNaN: true }), fc.constant((t: number) => 1e-3 / t)), beta1: num(0, 0.99), beta2: num(0, 0.999), eps: num(1e-8, 1), weightDecay: num(0, 1), clipNorm: num(0.1, 10) });
  const cond = C > 0 ? rowsOf(1, C, false) : mostly(30, fc.constant(undefined));
  const mask = mostly(10, fc.array(fc.constantFrom(0, 1, true, false), { minLength: D, maxLength: D }), fc.oneof(rows(D), fc.array(fc.constantFrom(0, 1, 2), { minLength: D, maxLength: D })));
  return fc.oneof(
    mk("encode", withCond(D, false).chain((b) => fc.tuple(fc.constant(b.x), options({ condition: fc.constant(b.condition) }))), ([x, o]) => m().encode(x as never, o as never)),
    mk("decode", withCond(L, false).chain((b) => fc.tuple(fc.constant(b.x), options({ condition: fc.constant(b.condition) }))), ([z, o]) => m().decode(z as never, o as never)),
    mk("sample", rowCount.chain((n) => fc.tuple(mostly(10, fc.constant(n), size()), options({ temperature: num(0, 3), condition: condOf(n) }))), ([n, o]) => m().sample(n as never, o as never)),
    mk("reconstruct", withCond(D, false).chain((b) => fc.tuple(fc.constant(b.x), options({ condition: fc.constant(b.condition), sample: fc.boolean() }))), ([x, o]) => m().reconstruct(x as never, o as never)),
    mk("interpolate", fc.tuple(rowsOf(1, D, false), rowsOf(1, D, false), size(2), options({ spherical: fc.boolean(), condition: cond })), ([a, b, s, o]) => m().interpolate(a as never, b as never, s as never, o as never)),
    mk("elbo", withCond(D, unit).chain((b) => fc.tuple(fc.constant(b.x), options({ condition: fc.constant(b.condition), samples: size() }))), ([x, o]) => m().elbo(x as never, o as never)),
    mk("logLikelihood", withCond(D, unit).chain((b) => fc.tuple(fc.constant(b.x), options({ samples: size(), condition: fc.constant(b.condition) }))), ([x, o]) => m().logLikelihood(x as never, o as never)),
    mk("impute", withCond(D, unit).chain((b) => fc.tuple(fc.constant(b.x), mask, options({ samples: size(), iterations: size(), burnIn: mostly(6, fc.constant(0), size(0)), method: fc.constantFrom("miwae", "metropolis", "pseudo_gibbs"), condition: fc.constant(b.condition), initial: num(0, 1) }))),
      ([x, mk_, o]) => m().impute(x as never, mk_ as never, o as never)),
    mk("trainStep", fc.tuple(withCond(D, unit).map((b) => C > 0 ? b : b.x), options({ beta: num(0, 2), out: fc.constant({ loss: 0, reconstruction: 0, kl: 0 }) })), ([b, o]) => m().trainStep(b as never, o as never)),
    mk("computeGradients", withCond(D, unit).chain((b) => fc.tuple(fc.constant(b), options({ noise: rowsOf(Math.max(1, (b.x as ArrayLike<number>)?.length / D | 0), L, false), beta: num(0, 2), estimator: fc.constantFrom("reparameterized", "score"), baseline: fc.boolean() }))),
      ([b, o]) => m().computeGradients(b as never, o as never)),
    mk("estimatorVariance", fc.tuple(withCond(D, unit), options({ samples: size(2), baseline: fc.boolean() })), ([b, o]) => m().estimatorVariance(b as never, o as never)),
    mk("fit", rowCount.chain((n) => fc.tuple(rowsOf(n, D, unit), options({
      epochs: size(), batchSize: size(), shuffle: fc.boolean(), condition: C > 0 ? rowsOf(n, C, false) : fc.constant(undefined), klWarmupSteps: size(0), klWarmupEpochs: num(0, 2),
      validation: rowsOf(1, D, unit), optimizer: fc.constant(new Adam()), onBatch: fc.constant(() => {}), signal: fc.constant(new AbortController().signal), yieldEvery: size(0),
    }, C > 0 ? ["condition"] : []))), ([x, o]) => m().fit(x as never, o as never)),
    mk("fit()", fc.tuple(mostly(4, fc.constant("model"), anyValue), rows(D, unit)), ([model, x]) => fit((model === "model" ? m() : model) as never, x as never, { epochs: 1, ...(C > 0 ? { condition: new Float32Array(((x as ArrayLike<number>)?.length / D | 0) * C) } : {}) })),
    mk("setWeights", mostly(10, weights), (w) => m().setWeights(w as never)),
    mk("getWeights/getGradients/parameterShapes", fc.constant(0), () => [m().getWeights(), m().getGradients(), m().parameterShapes(), m().parameterCount]),
    mk("save", options({ optimizer: fc.boolean() }), (o) => m().save(o as never)),
    mk("load", fc.tuple(mostly(6, fileBytes), options({ schedule: fc.constant((t: number) => 1e-3 / t) })), ([b, o]) => m().load(b as never, o as never)),
    mk("importState", fc.tuple(mostly(6, state), mostly(6, fc.constant(undefined))), ([s, sch]) => m().importState(s as never, sch as never)),
    mk("exportState", fc.constant(0), () => m().exportState()),
    mk("optimizer =", mostly(6, adamOpts.map((o) => { try { return new Adam(o as never); } catch { return o; } })), (a) => { m().optimizer = a as never; }),
    mk("discardPartialEpoch", fc.constant(0), () => m().discardPartialEpoch()),
  );
}

/** IDX files: a valid header (type, dims) with random sizes and payload, or random bytes. */
const idxBytes = fc.oneof(
  fc.tuple(fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x07), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }), fc.uint8Array({ maxLength: 200 }))
    .map(([t, dims, payload]) => {
      const head = new Uint8Array(4 + 4 * dims.length);
      head[2] = t; head[3] = dims.length;
      dims.forEach((d, i) => new DataView(head.buffer).setUint32(4 + 4 * i, d));
      const out = new Uint8Array(head.length + payload.length);
      out.set(head); out.set(payload, head.length);
      return out;
    }),
  fc.uint8Array({ maxLength: 40 }),
);

/** Static functions and constructors. */
const staticCall: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(options({ inputDim: size(), encoder: fc.array(size(), { maxLength: 2 }), latentDim: size(), decoder: fc.array(size(), { maxLength: 2 }),
    activation: mostly(12, fc.constantFrom("relu", "elu", "leaky_relu", "tanh", "sigmoid", "softplus", "identity"), fc.constant("gelu")), activationAlpha: num(0, 0.5),
    likelihood: mostly(12, fc.constantFrom("bernoulli", "gaussian", "gaussian_learned"), fc.constant("poisson")), sigma: num(0.01, 3), conditionDim: size(0), beta: num(0, 2),
    seed: mostly(5, fc.nat(), anyNumber), init: mostly(12, fc.constantFrom("glorot", "he", "pytorch"), fc.constant("xavier")), maxBatch: size() }, ["inputDim", "latentDim"]),
  mostly(3, fc.constant(undefined), options({ build: mostly(10, fc.constantFrom("plain", "relaxed", "auto"), fc.constant("fast")), deterministic: fc.boolean(),
    wasm: fc.constantFrom({ plain: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }, { plain: "/nonexistent/x.wasm" }, { plain: new Uint8Array([1, 2, 3]) }, { relaxed: "/nonexistent/r.wasm" }, {}) })))
    .map(([c, o]) => ({ label: "VAE.create", run: async () => {
      const v = await VAE.create(c as never, o as never), C = v.config.conditionDim;
      return v.sample(1, C ? { condition: new Float32Array(C) } : {}).length;
    }, toString: () => `VAE.create(${fc.stringify(c)}, ${fc.stringify(o)})` })),
  options({ lr: fc.oneof(num(0, 0.1), fc.constant((t: number) => 1e-3 / t)), beta1: num(0, 0.99), beta2: num(0, 0.999), eps: num(1e-8, 1), weightDecay: num(0, 1), clipNorm: num(0.1, 10) })
    .map((o) => ({ label: "new Adam", run: () => new Adam(o as never).state(), toString: () => `new Adam(${fc.stringify(o)})` })),
  fc.tuple(fc.constantFrom("step", "lr", "beta1", "beta2", "eps", "weightDecay", "clipNorm", "x", "none", "none"), anyValue)
    .map(([k, v]) => ({ label: "Adam.fromState", run: () => { const s = new Adam().state() as unknown as Record<string, unknown>; if (k !== "none") s[k] = v; return Adam.fromState(s as never).state(); }, toString: () => `Adam.fromState(${k}: ${fc.stringify(v)})` })),
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 0, max: 255 }), mostly(6, fc.constant(undefined)))
    .map(([i, at, x, alt]) => ({ label: "VAE.load/decodeModel", run: async () => {
      const b = saved[i].slice(); b[at % b.length] ^= x;
      decodeModel((alt ?? b) as never);
      return (await VAE.load((alt ?? b) as never)).parameterCount;
    }, toString: () => `VAE.load(file ${i} ^ ${x} at ${at}, ${fc.stringify(alt)})` })),
  fc.tuple(mostly(4, fc.uint8Array({ maxLength: 8 })), mostly(4, fc.constant(undefined), fc.oneof(fc.integer({ min: -1, max: 9 }), anyValue)))
    .map(([b, end]) => ({ label: "crc32", run: () => crc32(b as never, end as never), toString: () => `crc32(${fc.stringify(b)}, ${fc.stringify(end)})` })),
  options({ layers: mostly(6, fc.array(fc.record({ name: fc.string({ maxLength: 3 }), inDim: size(), outDim: size() }).map(denseLayer), { minLength: 1, maxLength: 2 })),
    buffers: mostly(6, fc.array(fc.tuple(fc.string({ maxLength: 3 }), size()), { maxLength: 2 })), batch: size() },
    ["layers", "buffers", "batch"])
    .map((s) => ({ label: "planMemory", run: () => planMemory(s as never).totalBytes, toString: () => `planMemory(${fc.stringify(s)})` })),
  fc.tuple(mostly(6, idxBytes), mostly(6, idxBytes), options({ limit: size(), imagesName: fc.string({ maxLength: 3 }), labelsName: fc.string({ maxLength: 3 }) }))
    .map(([a, b, o]) => ({ label: "parseIdx/parseMnist", run: () => { parseIdx(a as never); return parseMnist(a as never, b as never, o as never).count; }, toString: () => `parseMnist(${fc.stringify(a)}, ${fc.stringify(b)}, ${fc.stringify(o)})` })),
  mostly(4, fc.constant(undefined), options({ build: fc.constantFrom("plain", "relaxed", "auto", "fast"), deterministic: fc.boolean(),
    wasm: fc.oneof(anyValue, fc.constantFrom({ plain: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }, { plain: "/nonexistent/x.wasm" }, { plain: new Uint8Array([1, 2, 3]) }, { plain: new URL("file:///nonexistent/y.wasm") })) }))
    .map((o) => ({ label: "loadKernels", run: async () => (await loadKernels(o as never)).build.length, toString: () => `loadKernels(${fc.stringify(o)})` })),
);

// ------------------------------------------------------------------ suites

async function resetModels(): Promise<void> {
  for (let i = 0; i < models.length; i++) models[i].load(saved[i]);
  for (const mm of models) mm.optimizer = Adam.fromState(mm.optimizer.state());
}

describe("property: named errors only, and a throw changes nothing", () => {
  it("every public method, 1–4 calls per run on saved models (seeded)", async () => {
    const sequence = fc.array(fc.integer({ min: 0, max: specs.length - 1 }).chain(callOn), { minLength: 1, maxLength: 4 });
    let calls = 0;
    await fc.assert(fc.asyncProperty(sequence, async (seq) => {
      await resetModels();
      for (const c of seq) { await check(c); calls++; }
    }), { seed: SEED, numRuns: 1000, endOnFailure: true });
    expect(calls).toBeGreaterThan(2000);
  });

  it("static functions and constructors (seeded)", async () => {
    await fc.assert(fc.asyncProperty(staticCall, async (c) => { await check(c); }), { seed: SEED + 1, numRuns: 1000, endOnFailure: true });
  });

  it("the harness detects what it checks (the controls)", async () => {
    await resetModels();
    await expect(check({ label: "TypeError", run: () => { throw new TypeError("x"); } })).rejects.toThrow(/foreign error TypeError/);
    await expect(check({ label: "NaN", run: () => new Float32Array([NaN]) })).rejects.toThrow(/non-finite/);
    await expect(check({ label: "change then throw", run: () => { models[0].sample(1); throw new ArgumentError("x"); } })).rejects.toThrow(/changed model 0/);
  });
});
