// The reparameterised sampler (assembly/gaussian.ts) and the RNG behind it
// (assembly/rng.ts), both builds. Sampler forward against the float64
// reference, backward against central differences (it accumulates into dh).
// RNG: the stream is xoshiro128** seeded by splitmix64 (checked against an
// independent JS implementation), reproducible from its seed, advancing, and
// statistically right: mean, variance and a Kolmogorov–Smirnov test of 10⁶
// normals and uniforms at a fixed seed.
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import {
  normalCdf, randomArray, randomNormals, rngNormalRef, rngSeedRef, rngUniformRef, sampleRef, splitmix64Ref,
} from "../reference.js";
import { Arena, BUILDS, SIZES, centralDiff, dot, expectClose, withKernels } from "./helpers.js";

const TOL = 1e-5;    // same code in both builds; f32 exp and one multiply-add
const FD_TOL = 1e-5;

/** h (rows, 2L) with μ in [−2, 2] and logvar in [−3, 3]. */
function head(rows: number, L: number, seed: number): Float32Array {
  const h = new Float32Array(rows * 2 * L);
  const mu = randomArray(rows * L, seed, -2, 2), lv = randomArray(rows * L, seed + 1, -3, 3);
  for (let b = 0; b < rows; b++) {
    h.set(mu.subarray(b * L, (b + 1) * L), b * 2 * L);
    h.set(lv.subarray(b * L, (b + 1) * L), b * 2 * L + L);
  }
  return h;
}

// FD gradients depend only on the inputs: compute once, share across builds.
const fdCache = new Map<string, Float64Array>();
function cachedFd(key: string, make: () => Float64Array): Float64Array {
  let g = fdCache.get(key);
  if (!g) fdCache.set(key, g = make());
  return g;
}

/** Kolmogorov–Smirnov statistic D = sup |F_n − F| of a sample against a CDF. */
function ksStatistic(sample: Float32Array, cdf: (x: number) => number): number {
  const s = sample.slice().sort();
  const n = s.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, (i + 1) / n - f, f - i / n);
  }
  return d;
}

function moments(a: ArrayLike<number>): { mean: number; variance: number } {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return { mean: m, variance: v / (a.length - 1) };
}

describe("statistics helpers (checked before they judge the RNG)", () => {
  it("normalCdf matches tabulated Φ", () => {
    // Φ(0) = ½, Φ(1), Φ(−2), Φ(1.96), Φ(−3.5) from standard tables (R pnorm).
    const table: [number, number][] = [[0, 0.5], [1, 0.8413447460685429], [-2, 0.022750131948179195],
      [1.96, 0.9750021048517795], [-3.5, 0.0002326290790355401]];
    for (const [x, p] of table) expect(Math.abs(normalCdf(x) - p), `Φ(${x})`).toBeLessThan(2e-7);
  });

  it("ksStatistic rejects a shifted sample and accepts a good one", () => {
    const n = 20_000, crit = 1.63 / Math.sqrt(n);
    const z = Float32Array.from(randomNormals(n, 7));
    expect(ksStatistic(z, normalCdf)).toBeLessThan(crit);
    expect(ksStatistic(z.map((v) => v + 0.05), normalCdf)).toBeGreaterThan(crit);
    expect(ksStatistic(z.map((v) => v * 1.05), normalCdf)).toBeGreaterThan(crit);
  });

  it("splitmix64Ref reproduces Vigna's published outputs for seed 0", () => {
    expect(splitmix64Ref(0n, 3)).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
  });
});

describe.each(BUILDS)("sampler and RNG, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 16 << 20, (kk, aa) => { k = kk; arena = aa; });

  describe("gaussian_sample", () => {
    it.each(SIZES)("forward, L = %i", (L) => {
      const rows = 3;
      const h = head(rows, L, L), eps = Float32Array.from(randomNormals(rows * L, L + 1));
      const z = arena.alloc(rows * L);
      k.sampleForward(z, arena.put(h), arena.put(eps), rows, L);
      expectClose(arena.get(z, rows * L), sampleRef(h, eps, rows, L), TOL, `z, L = ${L}`);
    });

    it.each(SIZES)("backward, L = %i, accumulates central differences into dh", (L) => {
      const rows = L > 100 ? 2 : 3;
      const h = head(rows, L, L + 50), eps = Float32Array.from(randomNormals(rows * L, L + 51));
      const dz = randomArray(rows * L, L + 52), dh0 = randomArray(rows * 2 * L, L + 53);
      const dh = arena.put(dh0);
      k.sampleBackward(dh, arena.put(dz), arena.put(h), arena.put(eps), rows, L);
      // ∂/∂h of Σ dz ⊙ z(h), ε fixed; the kernel adds it to dh0.
      const fd = cachedFd(`sample ${L}`, () => centralDiff((hs) => dot(sampleRef(hs, eps, rows, L), dz), h));
      const want = Float64Array.from(fd, (g, i) => g + dh0[i]);
      expectClose(arena.get(dh, rows * 2 * L), want, FD_TOL, `dh, L = ${L}`);
    });
  });

  describe("rng", () => {
    it("seeds the state splitmix64 gives, for 53-bit seeds", () => {
      const st = arena.alloc(4);
      for (const seed of [0, 1, 42, 0xffffffff, 2 ** 32, 2 ** 53 - 1, 123456789012345]) {
        k.rngSeed(st, seed);
        expect(Array.from(k.u32(st, 4)), `seed ${seed}`).toEqual(Array.from(rngSeedRef(BigInt(seed))));
      }
    });

    it("streams xoshiro128**: uniforms exactly, normals to f32 rounding", () => {
      const st = arena.alloc(4), u = arena.alloc(1001), z = arena.alloc(1001);
      for (const seed of [0, 7, 2 ** 40 + 3]) {
        const ref = rngSeedRef(BigInt(seed));
        k.rngSeed(st, seed);
        k.rngUniform(st, u, 1001);
        expect(Array.from(arena.get(u, 1001)), `uniforms, seed ${seed}`).toEqual(Array.from(rngUniformRef(ref, 1001)));
        k.rngNormal(st, z, 1001);
        // Box–Muller in f64 here and there, with each side's own log/cos/sin.
        expectClose(arena.get(z, 1001), rngNormalRef(ref, 1001), 1e-6, `normals, seed ${seed}`);
        expect(Array.from(k.u32(st, 4)), "state after both").toEqual(Array.from(ref));
      }
    });

    it.each(SIZES)("n = %i: writes exactly n values of the reference stream", (n) => {
      const st = arena.alloc(4), u = arena.put(new Float32Array(n + 3).fill(-5)), z = arena.put(new Float32Array(n + 3).fill(-5));
      const ref = rngSeedRef(BigInt(n));
      k.rngSeed(st, n);
      k.rngUniform(st, u, n);
      k.rngNormal(st, z, n);
      expect(Array.from(arena.get(u, n + 3))).toEqual([...rngUniformRef(ref, n), -5, -5, -5]);
      const zs = arena.get(z, n + 3);
      expectClose(zs.subarray(0, n), rngNormalRef(ref, n), 1e-6, `normals n = ${n}`);
      expect(Array.from(zs.subarray(n))).toEqual([-5, -5, -5]);
    });

    it("same seed, same stream; different seeds, different streams; the state advances", () => {
      const s1 = arena.alloc(4), s2 = arena.alloc(4), a = arena.alloc(64), b = arena.alloc(64);
      k.rngSeed(s1, 1234); k.rngSeed(s2, 1234);
      k.rngNormal(s1, a, 64); k.rngNormal(s2, b, 64);
      expect(Array.from(arena.get(a, 64))).toEqual(Array.from(arena.get(b, 64)));
      const before = Array.from(k.u32(s1, 4));
      k.rngNormal(s1, a, 64);
      expect(Array.from(k.u32(s1, 4)), "state moved").not.toEqual(before);
      expect(Array.from(arena.get(a, 64)), "next block differs").not.toEqual(Array.from(arena.get(b, 64)));
      for (const other of [1235, 1234 + 2 ** 32, 0]) {
        k.rngSeed(s2, other);
        k.rngNormal(s2, b, 64);
        k.rngSeed(s1, 1234);
        k.rngNormal(s1, a, 64);
        const x = arena.get(a, 64), y = arena.get(b, 64);
        const same = x.filter((v, i) => v === y[i]).length;
        expect(same, `seed 1234 vs ${other}: equal draws`).toBe(0);
      }
    });

    it("rng_normal consumes 2·ceil(n/2) draws (an odd n drops the last partner)", () => {
      const s1 = arena.alloc(4), s2 = arena.alloc(4), z = arena.alloc(3), u1 = arena.alloc(9), u2 = arena.alloc(9);
      k.rngSeed(s1, 99); k.rngSeed(s2, 99);
      k.rngNormal(s1, z, 3);          // 4 draws
      k.rngUniform(s1, u1, 5);
      k.rngUniform(s2, u2, 9);        // 4 + 5 draws
      expect(Array.from(arena.get(u1, 5))).toEqual(Array.from(arena.get(u2 + 16, 5)));
    });

    it("uniforms lie in [0, 1) on a 2⁻²⁴ grid", () => {
      const n = 200_000, st = arena.alloc(4), u = arena.alloc(n);
      k.rngSeed(st, 5);
      k.rngUniform(st, u, n);
      const x = arena.get(u, n);
      let lo = Infinity, hi = -Infinity, offGrid = 0;
      for (const v of x) {
        lo = Math.min(lo, v); hi = Math.max(hi, v);
        if (!Number.isInteger(v * 2 ** 24)) offGrid++;
      }
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThan(1);
      expect(offGrid).toBe(0);
      // Over 2·10⁵ draws the extremes come within 10⁻⁴ of the ends (fails with p ≈ 4e-9).
      expect(lo).toBeLessThan(1e-4);
      expect(hi).toBeGreaterThan(1 - 1e-4);
    });

    // n = 10⁶ at a fixed seed, so these are deterministic. Bounds: KS at the
    // 1% level, D < 1.63/√n; mean within 5/√n·σ; sample variance within
    // 5·√(2/n)·σ² (its standard error for a normal).
    const n = 1_000_000;
    it("10⁶ normals: mean, variance and Kolmogorov–Smirnov", () => {
      const st = arena.alloc(4), z = arena.alloc(n);
      k.rngSeed(st, 20240601);
      k.rngNormal(st, z, n);
      const x = arena.get(z, n);
      const { mean, variance } = moments(x);
      expect(Math.abs(mean), "mean").toBeLessThan(5 / Math.sqrt(n));
      expect(Math.abs(variance - 1), "variance").toBeLessThan(5 * Math.sqrt(2 / n));
      expect(ksStatistic(x, normalCdf), "KS D").toBeLessThan(1.63 / Math.sqrt(n));
      // Box–Muller from u1 ∈ (0, 1] never produces ±∞ or NaN.
      expect(x.every(Number.isFinite)).toBe(true);
    });

    it("10⁶ uniforms: mean, variance and Kolmogorov–Smirnov", () => {
      const st = arena.alloc(4), u = arena.alloc(n);
      k.rngSeed(st, 777);
      k.rngUniform(st, u, n);
      const x = arena.get(u, n);
      const { mean, variance } = moments(x);
      // σ² = 1/12 and Var(s²) ≈ (μ₄ − σ⁴)/n = (1/80 − 1/144)/n for U(0, 1).
      expect(Math.abs(mean - 0.5), "mean").toBeLessThan(5 * Math.sqrt(1 / 12 / n));
      expect(Math.abs(variance - 1 / 12), "variance").toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / n));
      expect(ksStatistic(x, (v) => Math.min(1, Math.max(0, v))), "KS D").toBeLessThan(1.63 / Math.sqrt(n));
    });
  });
});
