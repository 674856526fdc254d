// Invalid arguments to the loader and to every Kernels wrapper throw an
// ArgumentError (src/base/validate.ts) whose message starts with the argument's
// name, before any wasm runs; no raw WebAssembly.RuntimeError ("unreachable",
// out-of-bounds) reaches the caller.
import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/base/validate.js";
import { loadKernels, type Kernels } from "../../src/kernels/wasm.js";
import { randomArray } from "../reference.js";
import { load } from "./helpers.js";

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Asserts fn throws an ArgumentError whose message starts with the
 *  argument's name ("name: expected …" or "name length: …"), and nothing
 *  from inside wasm. */
function expectArgError(fn: () => unknown, name: string, what = ""): void {
  const e = caught(fn);
  const ctx = `${name}${what ? ` (${what})` : ""}`;
  expect(e, `expected an ArgumentError for ${ctx}, got ${String(e)}`).toBeInstanceOf(ArgumentError);
  const err = e as Error;
  expect(err).not.toBeInstanceOf(WebAssembly.RuntimeError);
  expect(err.name).toBe("ArgumentError");
  expect(err.message.startsWith(`${name}: `) || err.message.startsWith(`${name} length: `), `${ctx}: "${err.message}"`).toBe(true);
  expect(err.message).not.toMatch(/unreachable|out of bounds/i);
}

describe("loader", () => {
  it("rejects a bad build name", async () => {
    for (const build of ["fast", "", "PLAIN", "Relaxed", 1, {}]) {
      const e = await loadKernels({ build: build as never }).then(() => undefined, (x: unknown) => x);
      expect(e, `build ${String(build)}`).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(/^build: expected /);
    }
  });
});

describe.each(["plain", "relaxed"] as const)("Kernels argument checks, %s build", (build) => {
  let k: Kernels;
  // Valid pointers: four blocks of 4096 floats and one of scratch.
  let A: number, B: number, C: number, D: number, S: number;
  beforeAll(async () => {
    k = await load(build);
    k.reserve(1 << 20);
    [A, B, C, D, S] = [0, 1, 2, 3, 4].map((i) => k.base + i * 16384);
    k.f32(A, 4 * 4096).set(randomArray(4 * 4096, 1, 0.1, 0.9));
  });
  const end = () => k.byteLength;

  it("sizes: zero, negative, fractional, NaN, non-numbers", () => {
    for (const bad of [0, -3, 2.5, NaN, Infinity, "4", null]) {
      const v = bad as number;
      expectArgError(() => k.gemm({ c: C, a: A, b: B, M: v, K: 2, N: 2, scratch: S }), "M");
      expectArgError(() => k.gemm({ c: C, a: A, b: B, M: 2, K: v, N: 2, scratch: S }), "K");
      expectArgError(() => k.gemm({ c: C, a: A, b: B, M: 2, K: 2, N: v, scratch: S }), "N");
      expectArgError(() => k.denseForward({ y: C, x: A, w: B, b: D, batch: v, inDim: 2, outDim: 2, scratch: S }), "batch");
      expectArgError(() => k.denseBackward({ dx: null, dw: C, db: D, dy: A, x: A, w: B, y: B, batch: 2, inDim: v, outDim: 2, scratch: S }), "inDim");
      expectArgError(() => k.denseBackward({ dx: null, dw: C, db: D, dy: A, x: A, w: B, y: B, batch: 2, inDim: 2, outDim: v, scratch: S }), "outDim");
      expectArgError(() => k.sampleForward(C, A, B, v, 2), "batch");
      expectArgError(() => k.sampleBackward(C, A, A, B, 2, v), "latentDim");
      expectArgError(() => k.klForward(C, A, 2, v), "latentDim");
      expectArgError(() => k.bernoulliForward(C, A, B, 2, v), "dim");
      expectArgError(() => k.gaussianLearnedForward(C, A, B, v, 2), "batch");
      expectArgError(() => k.gemmScratchBytes(v, 3), "M");
    }
    // Element counts may be 0 but not negative or fractional.
    for (const bad of [-1, 1.5, NaN]) {
      expectArgError(() => k.activationForward(C, A, bad, "relu"), "n");
      expectArgError(() => k.activationBackward(C, A, B, bad, "relu"), "n");
      expectArgError(() => k.rngNormal(D, C, bad), "n");
      expectArgError(() => k.rngUniform(D, C, bad), "n");
      expectArgError(() => k.fill(C, bad, 0), "n");
      expectArgError(() => k.adamStep({ p: A, g: B, m: C, v: D, n: bad, lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, t: 1 }), "n");
    }
  });

  it("pointers: below the arena, past the end of memory, unaligned, non-integer", () => {
    const cases: [number, string][] = [[0, "below"], [k.base - 4, "just below"], [end() - 4, "last float (too short)"],
      [end() + 64, "past the end"], [A + 2, "unaligned"], [A + 0.5, "fractional"], [-16, "negative"]];
    for (const [p, what] of cases) {
      expectArgError(() => k.gemm({ c: p, a: A, b: B, M: 4, K: 4, N: 4, scratch: S }), "c", `${what}: ${p}`);
      expectArgError(() => k.gemm({ c: C, a: p, b: B, M: 4, K: 4, N: 4, scratch: S }), "a", `${what}: ${p}`);
      expectArgError(() => k.gemm({ c: C, a: A, b: p, M: 4, K: 4, N: 4, scratch: S }), "b", `${what}: ${p}`);
      expectArgError(() => k.gemm({ c: C, a: A, b: B, bias: p, M: 4, K: 4, N: 4, init: "bias", scratch: S }), "bias", `${what}: ${p}`);
      expectArgError(() => k.gemm({ c: C, a: A, b: B, M: 4, K: 4, N: 4, scratch: p }), "scratch", `${what}: ${p}`);
      expectArgError(() => k.denseForward({ y: p, x: A, w: B, b: D, batch: 2, inDim: 3, outDim: 4, scratch: S }), "y", `${what}: ${p}`);
      expectArgError(() => k.denseBackward({ dx: p, dw: C, db: D, dy: A, x: A, w: B, y: B, batch: 2, inDim: 3, outDim: 4, scratch: S }), "dx", `${what}: ${p}`);
      expectArgError(() => k.activationForward(C, p, 8, "tanh"), "x", `${what}: ${p}`);
      expectArgError(() => k.activationBackward(C, A, p, 8, "tanh"), "y", `${what}: ${p}`);
      expectArgError(() => k.rngSeed(p, 1), "state", `${what}: ${p}`);
      expectArgError(() => k.rngNormal(D, p, 8), "out", `${what}: ${p}`);
      expectArgError(() => k.sampleForward(C, p, B, 2, 3), "h", `${what}: ${p}`);
      expectArgError(() => k.sampleBackward(C, A, B, p, 2, 3), "eps", `${what}: ${p}`);
      expectArgError(() => k.klBackward(p, A, 2, 3, 1), "dh", `${what}: ${p}`);
      expectArgError(() => k.bernoulliForwardBackward(C, p, A, B, 2, 3, 1), "dlogits", `${what}: ${p}`);
      expectArgError(() => k.gaussianBackward(p, A, B, 2, 3, 1, 1), "dmean", `${what}: ${p}`);
      expectArgError(() => k.gaussianLearnedBackward(C, A, p, 2, 3, 1), "x", `${what}: ${p}`);
      expectArgError(() => k.adamStep({ p: A, g: B, m: p, v: D, n: 4, lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, t: 1 }), "m", `${what}: ${p}`);
      expectArgError(() => k.copy(C, p, 4), "src", `${what}: ${p}`);
      expectArgError(() => k.f32(p, 4), "ptr", `${what}: ${p}`);
    }
    // A span that starts inside memory but runs off its end.
    expectArgError(() => k.fill(end() - 16, 5, 0), "x");
    expectArgError(() => k.gemm({ c: end() - 4 * 15, a: A, b: B, M: 4, K: 4, N: 4, scratch: S }), "c");
  });

  it("scratch too small for the GEMM or the dense layer", () => {
    const need = k.gemmScratchBytes(8, 16);
    expect(need).toBeGreaterThan(0);
    expectArgError(() => k.gemm({ c: C, a: A, b: B, M: 8, K: 16, N: 8, scratch: end() - need + 4 }), "scratch");
    expectArgError(() => k.denseForward({ y: C, x: A, w: B, b: D, batch: 8, inDim: 16, outDim: 8, scratch: end() - need + 4 }), "scratch");
    const needB = Math.max(k.gemmScratchBytes(16, 8), k.gemmScratchBytes(8, 8));
    expectArgError(() => k.denseBackward({ dx: null, dw: C, db: D, dy: A, x: A, w: B, y: B, batch: 8, inDim: 16, outDim: 8,
      scratch: end() - needB + 4 }), "scratch");
  });

  it("non-finite and out-of-range scalars", () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      expectArgError(() => k.klBackward(C, A, 2, 3, bad), "w");
      expectArgError(() => k.bernoulliBackward(C, A, B, 2, 3, bad), "w");
      expectArgError(() => k.bernoulliForwardBackward(C, D, A, B, 2, 3, bad), "w");
      expectArgError(() => k.gaussianBackward(C, A, B, 2, 3, 1, bad), "w");
      expectArgError(() => k.gaussianLearnedBackward(C, A, B, 2, 3, bad), "w");
      expectArgError(() => k.fill(C, 4, bad), "value");
      expectArgError(() => k.axpy(C, A, 4, bad), "a");
      expectArgError(() => k.scale(C, 4, bad), "s");
      expectArgError(() => k.activationForward(C, A, 4, "leaky_relu", bad), "alpha");
      expectArgError(() => k.activationBackward(C, A, B, 4, "elu", bad), "alpha");
      expectArgError(() => k.denseForward({ y: C, x: A, w: B, b: D, batch: 2, inDim: 3, outDim: 4, activation: "elu", alpha: bad, scratch: S }), "alpha");
      expectArgError(() => k.denseBackward({ dx: null, dw: C, db: D, dy: A, x: A, w: B, y: B, batch: 2, inDim: 3, outDim: 4,
        activation: "leaky_relu", alpha: bad, scratch: S }), "alpha");
    }
    // σ must be > 0.
    for (const sigma of [0, -1, NaN, Infinity, -0]) {
      expectArgError(() => k.gaussianForward(C, A, B, 2, 3, sigma), "sigma");
      expectArgError(() => k.gaussianBackward(C, A, B, 2, 3, sigma, 1), "sigma");
    }
    // Adam: β ∈ [0, 1), lr, ε, weight decay finite and ≥ 0, t a positive integer.
    const adam = { p: A, g: B, m: C, v: D, n: 4, lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, t: 1 };
    for (const beta1 of [1, 1.5, -0.1, NaN, Infinity]) expectArgError(() => k.adamStep({ ...adam, beta1 }), "beta1");
    for (const beta2 of [1, 2, -1e-9, NaN]) expectArgError(() => k.adamStep({ ...adam, beta2 }), "beta2");
    for (const beta of ["0.5", null, [], true]) {
      expectArgError(() => k.adamStep({ ...adam, beta1: beta as never }), "beta1", String(beta));
      expectArgError(() => k.adamStep({ ...adam, beta2: beta as never }), "beta2", String(beta));
    }
    for (const lr of [NaN, -0.1, Infinity]) expectArgError(() => k.adamStep({ ...adam, lr }), "lr");
    for (const eps of [NaN, -1e-8, Infinity]) expectArgError(() => k.adamStep({ ...adam, eps }), "eps");
    for (const weightDecay of [NaN, -0.01]) expectArgError(() => k.adamStep({ ...adam, weightDecay }), "weightDecay");
    for (const t of [0, -1, 1.5, NaN]) expectArgError(() => k.adamStep({ ...adam, t }), "t");
    // Seeds: integers in [0, 2⁵³).
    for (const seed of [-1, 1.5, 2 ** 53, NaN, Infinity]) expectArgError(() => k.rngSeed(D, seed), "seed");
    // Arena size.
    for (const bytes of [-1, 1.5, NaN, 5 * 1024 ** 3]) expectArgError(() => k.reserve(bytes), "bytes");
  });

  it("α outside what the output-based derivative allows", () => {
    // leaky_relu and elu backward read the sign of y; α < 0 would flip it.
    for (const act of ["leaky_relu", "elu"] as const) {
      expectArgError(() => k.activationForward(C, A, 4, act, -0.1), "alpha");
      expectArgError(() => k.activationBackward(C, A, B, 4, act, -0.1), "alpha");
    }
  });

  it("unknown activation and GEMM init names", () => {
    for (const bad of ["gelu", "ReLU", "", undefined as never, 3 as never]) {
      if (bad === undefined) continue; // undefined means the default, identity
      expectArgError(() => k.activationForward(C, A, 4, bad as never), "activation");
      expectArgError(() => k.activationBackward(C, A, B, 4, bad as never), "activation");
      expectArgError(() => k.denseForward({ y: C, x: A, w: B, b: D, batch: 2, inDim: 3, outDim: 4, activation: bad as never, scratch: S }), "activation");
    }
    expectArgError(() => k.gemm({ c: C, a: A, b: B, M: 2, K: 2, N: 2, init: "add" as never, scratch: S }), "init");
  });

  it("the raw exports would trap where the wrappers throw (so the checks matter)", () => {
    // Activation code 99 hits `unreachable` inside the kernel …
    expect(() => k.raw.activation_forward(C, A, 8, 99, 0)).toThrow(WebAssembly.RuntimeError);
    // … and a pointer past the end of memory is an out-of-bounds trap.
    expect(() => k.raw.fill(end() + 64, 4, 0)).toThrow(WebAssembly.RuntimeError);
    // The same mistakes through Kernels are ArgumentErrors.
    expectArgError(() => k.activationForward(C, A, 8, "swish" as never), "activation");
    expectArgError(() => k.fill(end() + 64, 4, 0), "x");
  });

  it("fuzz: any throw from a wrapper fed one bad argument is an ArgumentError", () => {
    const BAD: unknown[] = [NaN, Infinity, -Infinity, -1, 0, 1.5, 2 ** 31, 2 ** 53, -0, "8", null, undefined, {}, [],
      k.base + 2, k.byteLength, k.byteLength - 4];
    // Valid calls, arguments by name; each is re-run with one argument replaced.
    const calls: [string, Record<string, unknown>, (a: Record<string, any>) => unknown][] = [
      ["gemm", { c: C, a: A, b: B, bias: D, M: 4, K: 5, N: 6, init: "bias", transA: false, transB: true, scratch: S },
        (a) => k.gemm(a as never)],
      ["denseForward", { y: C, x: A, w: B, b: D, batch: 3, inDim: 5, outDim: 7, activation: "elu", alpha: 1, scratch: S },
        (a) => k.denseForward(a as never)],
      ["denseBackward", { dx: D + 4096, dw: C, db: D, dy: C + 8192, x: A, w: B, y: B + 8192, batch: 3, inDim: 5, outDim: 7,
        activation: "leaky_relu", alpha: 0.1, scratch: S }, (a) => k.denseBackward(a as never)],
      ["activationForward", { y: C, x: A, n: 9, activation: "softplus", alpha: 0 },
        (a) => k.activationForward(a.y, a.x, a.n, a.activation, a.alpha)],
      ["activationBackward", { dx: C, dy: A, y: B, n: 9, activation: "elu", alpha: 1 },
        (a) => k.activationBackward(a.dx, a.dy, a.y, a.n, a.activation, a.alpha)],
      ["rngSeed", { state: D, seed: 3 }, (a) => k.rngSeed(a.state, a.seed)],
      ["rngNormal", { state: D, out: C, n: 9 }, (a) => k.rngNormal(a.state, a.out, a.n)],
      ["sampleForward", { z: C, h: A, eps: B, B: 2, L: 3 }, (a) => k.sampleForward(a.z, a.h, a.eps, a.B, a.L)],
      ["sampleBackward", { dh: C, dz: A, h: A, eps: B, B: 2, L: 3 }, (a) => k.sampleBackward(a.dh, a.dz, a.h, a.eps, a.B, a.L)],
      ["klForward", { kl: C, h: A, B: 2, L: 3 }, (a) => k.klForward(a.kl, a.h, a.B, a.L)],
      ["klBackward", { dh: C, h: A, B: 2, L: 3, w: 0.5 }, (a) => k.klBackward(a.dh, a.h, a.B, a.L, a.w)],
      ["bernoulliForwardBackward", { nll: C, dl: C + 64, l: A, x: A, B: 2, D: 3, w: 1 },
        (a) => k.bernoulliForwardBackward(a.nll, a.dl, a.l, a.x, a.B, a.D, a.w)],
      ["gaussianForward", { nll: C, mean: A, x: B, B: 2, D: 3, sigma: 0.5 },
        (a) => k.gaussianForward(a.nll, a.mean, a.x, a.B, a.D, a.sigma)],
      ["gaussianLearnedBackward", { dout: C, out: A, x: B, B: 2, D: 3, w: 1 },
        (a) => k.gaussianLearnedBackward(a.dout, a.out, a.x, a.B, a.D, a.w)],
      ["adamStep", { p: C, g: A, m: D, v: D + 4096, n: 9, lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, t: 2 },
        (a) => k.adamStep(a as never)],
      ["axpy", { y: C, x: A, n: 9, a: 2 }, (a) => k.axpy(a.y, a.x, a.n, a.a)],
      ["sumSquares", { x: A, n: 9 }, (a) => k.sumSquares(a.x, a.n)],
    ];
    let throws = 0, runs = 0;
    for (const [name, args, call] of calls) {
      // The valid call itself runs.
      expect(caught(() => call(args)), `${name} with valid arguments`).toBeUndefined();
      for (const key of Object.keys(args)) {
        for (const bad of BAD) {
          const e = caught(() => call({ ...args, [key]: bad }));
          runs++;
          if (e === undefined) continue;
          throws++;
          expect(e, `${name}(${key} = ${String(bad)}) threw ${String(e)}`).toBeInstanceOf(ArgumentError);
        }
      }
    }
    // Most substitutions are invalid; the fuzz did exercise the checks.
    expect(throws).toBeGreaterThan(runs / 2);
  });
});
