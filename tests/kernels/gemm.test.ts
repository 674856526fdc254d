// GEMM (assembly/gemm.ts) in both builds against the float64 reference, over
// sizes around the SIMD width (4), the NR = 8 column strip, the 5 / 6 row
// tiles and the 256-deep K blocks, and the VAE's shapes; every write stays inside C; the plain build is
// bit-exact to in-order f32 accumulation; op(A) packs the same from (M, K) and (K, M).
// Not here: the dense layer built on it (dense.test.ts), timing (bench/gemm.ts).
import { describe, expect, it } from "vitest";
import type { Build, Kernels } from "../../src/kernels/wasm.js";
import { gemmF32SequentialRef, gemmRef, randomArray } from "../reference.js";
import { Arena, BUILDS, SIZES, bitsOf, expectClose, expectSameBits, withKernels } from "./helpers.js";

// Plain: f32 mul then add in k order; with the data below the f64 error of a
// K = 784 dot product is ~1e-6, so 1e-5 of (|ref| + 1) has a 10× margin.
// Relaxed: f32x4.relaxed_madd may be fused or not, at the engine's and the
// CPU's choice (relaxed-SIMD spec), so the result is not pinned down bit for
// bit; we assert only that it is as accurate as some f32 accumulation,
// allowing 10× the plain bound for the worst mix of roundings on any host.
const TOL: Record<Build, number> = { plain: 1e-5, relaxed: 1e-4 };

type Variant = "NN" | "TN" | "NT";
interface Case { v: Variant; M: number; K: number; N: number }

// The dense layer's three uses: forward y = x·W + b (NN, bias), dW += xᵀ·g
// (TN, accumulate) and dx = g·Wᵀ (NT, overwrite).
const VARIANT = {
  NN: { transA: false, transB: false, init: "bias" },
  TN: { transA: true, transB: false, init: "accumulate" },
  NT: { transA: false, transB: true, init: "zero" },
} as const;

function cases(): Case[] {
  const out: Case[] = [];
  const seen = new Set<string>();
  const add = (c: Case) => {
    const key = `${c.v} ${c.M}x${c.K}x${c.N}`;
    if (!seen.has(key)) { seen.add(key); out.push(c); }
  };
  for (const v of ["NN", "TN", "NT"] as const) {
    // Each of M, K, N across the size list, the others small and off the tile.
    for (const s of SIZES) {
      add({ v, M: s, K: 5, N: 9 });
      add({ v, M: 7, K: s, N: 3 });
      add({ v, M: 6, K: 3, N: s });
    }
    // K-block edges (the kernel sums K in blocks of 256, in order).
    for (const K of [255, 256, 257, 511, 513]) add({ v, M: 7, K, N: 9 });
    // Row-tile edges (MR = 5 plain, 6 relaxed) crossed with strip edges (NR = 8).
    for (const M of [1, 4, 5, 6, 7, 10, 11, 12, 13]) for (const N of [1, 7, 8, 9, 16, 17]) add({ v, M, K: 4, N });
  }
  // The VAE's shapes (batch 128): encoder and decoder forward, dW, dx.
  add({ v: "NN", M: 128, K: 784, N: 400 });
  add({ v: "NN", M: 128, K: 400, N: 784 });
  add({ v: "TN", M: 784, K: 128, N: 400 });
  add({ v: "NT", M: 128, K: 400, N: 784 });
  return out;
}

/** Inputs like a Glorot-initialised layer: A in [−1, 1], B in [−1, 1]/√K.
 *  (O(1) B terms over K = 784 would make f32's own accumulation error exceed
 *  1e-5, which is a property of f32, not of the kernel.) */
function inputs(c: Case, seed: number) {
  const { M, K, N } = c;
  const s = 1 / Math.sqrt(K);
  return {
    a: randomArray(M * K, seed),
    b: randomArray(K * N, seed + 1, -s, s),
    bias: randomArray(N, seed + 2),
    c0: randomArray(M * N, seed + 3),
  };
}

const seedOf = (c: Case) => (c.M * 1_000_003 + c.K * 1009 + c.N * 17 + c.v.charCodeAt(0)) >>> 0;

// Both builds use the same expected values; compute each once.
const refs = new Map<string, Float64Array>();
function expected(c: Case, d: ReturnType<typeof inputs>, o: { transA: boolean; transB: boolean; init: string }): Float64Array {
  const key = `${c.v} ${c.M}x${c.K}x${c.N} ${o.transA} ${o.transB} ${o.init}`;
  let r = refs.get(key);
  if (!r) {
    r = gemmRef(d.a, d.b, c.M, c.K, c.N, {
      transA: o.transA, transB: o.transB,
      c0: o.init === "accumulate" ? d.c0 : undefined,
      bias: o.init === "bias" ? d.bias : undefined,
    });
    refs.set(key, r);
  }
  return r;
}

const SENTINEL = 0x7fc0dead; // a NaN no kernel would produce
const GUARD = 7;             // floats; 7 also puts C off 16-byte alignment

/** Runs one GEMM with guard floats around C and after the scratch; returns C
 *  and checks that nothing outside C (guards, inputs) changed. */
function runGuarded(k: Kernels, arena: Arena, c: Case, d: ReturnType<typeof inputs>,
  o: { transA: boolean; transB: boolean; init: "zero" | "accumulate" | "bias" }): Float32Array {
  const { M, K, N } = c;
  arena.reset();
  const a = arena.put(d.a), b = arena.put(d.b), bias = arena.put(d.bias, 1);
  const block = arena.alloc(GUARD + M * N + GUARD);
  k.u32(block, GUARD + M * N + GUARD).fill(SENTINEL);
  const cp = block + 4 * GUARD;
  if (o.init === "accumulate") k.f32(cp, M * N).set(d.c0);
  const scratchBytes = k.gemmScratchBytes(M, K);
  const scratch = arena.scratch(scratchBytes);
  const tail = arena.allocHere(GUARD);
  k.u32(tail, GUARD).fill(SENTINEL);

  k.gemm({ c: cp, a, b, bias: o.init === "bias" ? bias : undefined, M, K, N,
    transA: o.transA, transB: o.transB, init: o.init, scratch });

  const guard = new Uint32Array(GUARD).fill(SENTINEL);
  expectSameBits(arena.bits(block, GUARD), guard, "guard before C");
  expectSameBits(arena.bits(cp + 4 * M * N, GUARD), guard, "guard after C");
  expectSameBits(arena.bits(tail, GUARD), guard, "guard after scratch");
  expectSameBits(arena.bits(a, M * K), bitsOf(d.a), "A unchanged");
  expectSameBits(arena.bits(b, K * N), bitsOf(d.b), "B unchanged");
  expectSameBits(arena.bits(bias, N), bitsOf(d.bias), "bias unchanged");
  return arena.get(cp, M * N);
}

// Largest case: 784×128×400 TN, about 2.8 MB of operands plus scratch.
const ARENA_BYTES = 8 << 20;

describe.each(BUILDS)("gemm, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, ARENA_BYTES, (kk, aa) => { k = kk; arena = aa; });

  it.each(cases().map((c) => [`${c.v} ${c.M}×${c.K}×${c.N}`, c] as const))("%s matches the float64 reference", (_, c) => {
    const d = inputs(c, seedOf(c));
    const o = VARIANT[c.v];
    const got = runGuarded(k, arena, c, d, o);
    expectClose(got, expected(c, d, o), TOL[build], `${build} ${c.v} ${c.M}×${c.K}×${c.N}`);
  });

  // Every transposition with every init, on shapes with edge tiles in both directions.
  const combos: [boolean, boolean, "zero" | "accumulate" | "bias"][] = [];
  for (const tA of [false, true]) for (const tB of [false, true]) {
    for (const init of ["zero", "accumulate", "bias"] as const) combos.push([tA, tB, init]);
  }
  it.each(combos)("transA=%s transB=%s init=%s on edge shapes", (transA, transB, init) => {
    for (const [M, K, N] of [[7, 9, 17], [12, 5, 8], [1, 33, 3], [13, 1, 25]]) {
      const c: Case = { v: "NN", M, K, N };
      const d = inputs(c, seedOf(c) + 99);
      const o = { transA, transB, init };
      const got = runGuarded(k, arena, c, d, o);
      expectClose(got, expected(c, d, o), TOL[build], `${build} ${M}×${K}×${N} ${JSON.stringify(o)}`);
    }
  });

  it("accumulates rather than overwrites, and bias is broadcast over rows", () => {
    // Hand-checked 2×2·2×3: A = [[1,2],[3,4]], B = [[1,0,−1],[2,1,0]] → AB = [[5,2,−1],[11,4,−3]].
    const a = arena.put([1, 2, 3, 4]), b = arena.put([1, 0, -1, 2, 1, 0]);
    const bias = arena.put([10, 20, 30]);
    const c = arena.put([100, 100, 100, 100, 100, 100]);
    const scratch = arena.scratch(k.gemmScratchBytes(2, 2));
    k.gemm({ c, a, b, M: 2, K: 2, N: 3, init: "accumulate", scratch });
    expect(Array.from(arena.get(c, 6))).toEqual([105, 102, 99, 111, 104, 97]);
    k.gemm({ c, a, b, bias, M: 2, K: 2, N: 3, init: "bias", scratch });
    expect(Array.from(arena.get(c, 6))).toEqual([15, 22, 29, 21, 24, 27]);
    k.gemm({ c, a, b, M: 2, K: 2, N: 3, init: "zero", scratch });
    expect(Array.from(arena.get(c, 6))).toEqual([5, 2, -1, 11, 4, -3]);
  });
});

describe("gemm, plain build is in-order f32 accumulation, bit for bit", () => {
  let k: Kernels;
  let arena: Arena;
  withKernels("plain", ARENA_BYTES, (kk, aa) => { k = kk; arena = aa; });

  const shapes: Case[] = [
    { v: "NN", M: 1, K: 1, N: 1 }, { v: "NN", M: 7, K: 33, N: 17 }, { v: "TN", M: 11, K: 9, N: 15 },
    { v: "NT", M: 6, K: 16, N: 9 }, { v: "NN", M: 13, K: 784, N: 20 }, { v: "TN", M: 33, K: 128, N: 40 },
    { v: "NT", M: 16, K: 400, N: 33 }, { v: "TN", M: 9, K: 257, N: 17 }, { v: "NN", M: 6, K: 513, N: 8 },
  ];
  it.each(shapes)("$v $M×$K×$N", (c) => {
    // Unscaled data: large accumulation error makes a reordering visible.
    const d = inputs(c, seedOf(c) + 7);
    d.b = randomArray(c.K * c.N, seedOf(c) + 8, -3, 3);
    const o = VARIANT[c.v];
    const got = runGuarded(k, arena, c, d, o);
    const want = gemmF32SequentialRef(d.a, d.b, c.M, c.K, c.N, {
      transA: o.transA, transB: o.transB,
      c0: o.init === "accumulate" ? d.c0 : undefined,
      bias: o.init === "bias" ? d.bias : undefined,
    });
    expectSameBits(bitsOf(got), bitsOf(want), `plain ${c.v} ${c.M}×${c.K}×${c.N}`);
  });
});

describe.each(BUILDS)("gemm, one/two-row path (single-image encode/decode), %s build", (build) => {
  // M ≤ 2 forward products skip packing (rowsTimesB) for the full 8-column
  // strips; the rest of the columns go through the packed path. Each row must
  // come out bit for bit as the register-tiled path gives it: the same rows
  // inside a 7-row product (one full 5- or 6-row tile plus an edge tile).
  let k: Kernels;
  let arena: Arena;
  withKernels(build, ARENA_BYTES, (kk, aa) => { k = kk; arena = aa; });
  // encoder 784→400 and 400→2·20, decoder 20→400 and 400→784; 400→20 and
  // 400→1568 (gaussian_learned) have columns past the last full strip or many strips;
  // K = 1, 13, 9: row blocks of rowTimesB (8 rows of b) with a short last one
  const SHAPES: [number, number][] = [[784, 400], [400, 40], [20, 400], [400, 784], [400, 20], [400, 1568], [1, 8], [13, 24], [9, 41]];
  const BIG = 7;
  const cases: [number, number, number, "zero" | "accumulate" | "bias"][] = [];
  for (const M of [1, 2]) for (const [K, N] of SHAPES) for (const init of ["zero", "accumulate", "bias"] as const) cases.push([M, K, N, init]);
  it.each(cases)("M = %i, K = %i, N = %i, init %s: bit-exact as the tiled path and close to float64", (M, K, N, init) => {
    const big: Case = { v: "NN", M: BIG, K, N };
    const d = inputs(big, seedOf(big) + M);
    const o = { transA: false, transB: false, init };
    // the tiled path: A given transposed (op(A) packed), since a 7-row NN product with K ≤ 8 takes the few-k rows
    const tiled = runGuarded(k, arena, big, { ...d, a: transposed(d.a, BIG, K) }, { ...o, transA: true });
    const small: Case = { v: "NN", M, K, N };
    const ds = { a: d.a.slice(0, M * K), b: d.b, bias: d.bias, c0: d.c0.slice(0, M * N) };
    const rows = runGuarded(k, arena, small, ds, o);
    expectSameBits(bitsOf(rows), bitsOf(tiled.subarray(0, M * N)), `${build} M=${M} ${K}×${N} ${init}`);
    expectClose(rows, expected(small, ds, o), TOL[build], `${build} M=${M} ${K}×${N} ${init} vs float64`);
    if (build === "plain") {
      const want = gemmF32SequentialRef(ds.a, ds.b, M, K, N, { c0: init === "accumulate" ? ds.c0 : undefined, bias: init === "bias" ? ds.bias : undefined });
      expectSameBits(bitsOf(rows), bitsOf(want), `plain M=${M} ${K}×${N} ${init} vs in-order f32`);
    }
  });
});

// a (R, C) row-major → aᵀ (C, R)
function transposed(a: Float32Array, R: number, C: number): Float32Array {
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = a[r * C + c];
  return out;
}

describe.each(BUILDS)("gemm, few-k path (K ≤ 8, rows straight from a and b), %s build", (build) => {
  // An NN product with K ≤ 8 and N ≥ 8 (a layer after a small latent) skips
  // packing for its full 8-column strips; each element must come out bit for
  // bit as the register-tiled path gives it (the same product with A given
  // transposed, whose op(A) is packed), columns past the last full strip
  // included, and close to float64.
  let k: Kernels;
  let arena: Arena;
  withKernels(build, ARENA_BYTES, (kk, aa) => { k = kk; arena = aa; });
  const cases: [number, number, number, "zero" | "accumulate" | "bias"][] = [];
  for (const [M, K, N] of [[3, 1, 8], [7, 2, 3136], [128, 2, 3136], [13, 5, 9], [41, 8, 17], [6, 8, 40], [5, 3, 23]]) {
    for (const init of ["zero", "accumulate", "bias"] as const) cases.push([M, K, N, init]);
  }
  it.each(cases)("M = %i, K = %i, N = %i, init %s", (M, K, N, init) => {
    const c: Case = { v: "NN", M, K, N };
    const d = inputs(c, seedOf(c) + 3);
    const o = { transA: false, transB: false, init };
    const rows = runGuarded(k, arena, c, d, o);
    const tiled = runGuarded(k, arena, c, { ...d, a: transposed(d.a, M, K) }, { ...o, transA: true });
    expectSameBits(bitsOf(rows), bitsOf(tiled), `${build} ${M}×${K}×${N} ${init}: few-k rows vs tiles`);
    expectClose(rows, expected(c, d, o), TOL[build], `${build} ${M}×${K}×${N} ${init} vs float64`);
    if (build === "plain") {
      const want = gemmF32SequentialRef(d.a, d.b, M, K, N, { c0: init === "accumulate" ? d.c0 : undefined, bias: init === "bias" ? d.bias : undefined });
      expectSameBits(bitsOf(rows), bitsOf(want), `plain ${M}×${K}×${N} ${init} vs in-order f32`);
    }
  });
});

describe.each(BUILDS)("packA: op(A) given as (M, K) and as (K, M) packs the same panels, %s build", (build) => {
  // A full panel packs by vectors either way (rows transposed 4×4 from
  // (M, K), MR consecutive floats from (K, M)), the last kc mod 4 and an edge
  // panel (M mod MR rows) by scalars: the products must agree bit for bit in
  // both builds, across row-tile edges (MR = 5, 6), kc mod 4 and K blocks.
  let k: Kernels;
  let arena: Arena;
  withKernels(build, ARENA_BYTES, (kk, aa) => { k = kk; arena = aa; });
  it("the same bits with transA = false and with A transposed, transA = true", () => {
    for (const M of [5, 6, 7, 10, 11, 12, 13, 17, 18]) for (const K of [9, 33, 255, 256, 257, 259, 513]) for (const N of [3, 17]) {
      const c: Case = { v: "NN", M, K, N };
      const d = inputs(c, seedOf(c) + 11);
      const o = { transA: false, transB: false, init: "accumulate" as const };
      const nn = runGuarded(k, arena, c, d, o);
      const tn = runGuarded(k, arena, c, { ...d, a: transposed(d.a, M, K) }, { ...o, transA: true });
      expectSameBits(bitsOf(nn), bitsOf(tn), `${build} ${M}×${K}×${N}`);
    }
  });
});
