// The stochastic layers' kernels (assembly/hierarchy.ts), both builds: the
// Gaussian log-density under a predicted [μ | log σ²] against the float64
// reference, its backward (accumulates dz, writes dh) against central
// differences of −Σ c_r·log p_r, the combination of the three terms, and the
// same bits on 2, 3 and 4 threads with splitting forced on.
import { describe, expect, it } from "vitest";
import type { ThreadPool } from "../../src/threads/pool.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import type { Kernels } from "../../src/kernels/wasm.js";
import { condLogpRef, randomArray } from "../reference.js";
import { Arena, BUILDS, EDGE_SIZES, centralDiff, expectClose, expectSameBits, load, withKernels } from "./helpers.js";

/** h (n, 2L): μ in [−2, 2], v = log σ² in [−2, 2]. */
function head(n: number, L: number, seed: number): Float32Array {
  const h = new Float32Array(n * 2 * L), mu = randomArray(n * L, seed, -2, 2), v = randomArray(n * L, seed + 1, -2, 2);
  for (let r = 0; r < n; r++) {
    h.set(mu.subarray(r * L, (r + 1) * L), r * 2 * L);
    h.set(v.subarray(r * L, (r + 1) * L), r * 2 * L + L);
  }
  return h;
}

describe.each(BUILDS)("hierarchy kernels, %s build", (build) => {
  let k: Kernels, a: Arena;
  withKernels(build, 4 << 20, (kk, aa) => { k = kk; a = aa; });

  it.each(EDGE_SIZES)("log N(z; μ, σ²) forward vs float64, L = %i", (L) => {
    a.reset();
    const n = 7, z = randomArray(n * L, L, -3, 3), h = head(n, L, 100 + L);
    const out = a.alloc(n);
    k.condLogpForward(out, a.put(z), a.put(h), n, L);
    expectClose(a.get(out, n), condLogpRef(z, h, n, L), 2e-6, "logp", 1);
  });

  it.each([1, 3, 4, 5, 9])("backward vs central differences of −Σ c·log p, L = %i", (L) => {
    a.reset();
    const n = 5, z = randomArray(n * L, 7 * L, -2, 2), h = head(n, L, 50 + L), c = randomArray(n, 3 + L, -1, 2);
    const dz0 = randomArray(n * L, 11 * L, -1, 1);
    const dz = a.put(dz0), dh = a.put(new Float32Array(2 * n * L).fill(123)); // dh is written, dz accumulated
    k.condLogpBackward({ dz, dh, z: a.put(z), h: a.put(h), c: a.put(c), n, latentDim: L });
    const loss = (zz: ArrayLike<number>, hh: ArrayLike<number>) => {
      const lp = condLogpRef(zz, hh, n, L);
      let s = 0;
      for (let r = 0; r < n; r++) s -= c[r] * lp[r];
      return s;
    };
    const gz = centralDiff((x) => loss(x, h), z), gh = centralDiff((x) => loss(z, x), h);
    expectClose(a.get(dz, n * L), Array.from(gz, (g, i) => g + dz0[i]), 1e-4, "dz (accumulated)", 1);
    expectClose(a.get(dh, 2 * n * L), gh, 1e-4, "dh (written)", 1);
  });

  it("combine: out = cond + logp − logq", () => {
    a.reset();
    const n = 13, c = randomArray(n, 1, -50, 0), p = randomArray(n, 2, -50, 0), q = randomArray(n, 3, -50, 0);
    const out = a.alloc(n);
    k.hierarchyCombine(out, a.put(c), a.put(p), a.put(q), n);
    expect(Array.from(a.get(out, n))).toEqual(Array.from(c, (v, i) => Math.fround(v + p[i] - q[i])));
  });

  it("refuses a span outside memory by name", () => {
    expect(() => k.condLogpForward(0, 0, 0, -1, 3)).toThrow(/n/);
  });
});

describe.each(BUILDS)("hierarchy kernels on threads, %s build", (build) => {
  it.each([2, 3, 4])("same bits as one thread on %i threads", async (threads) => {
    const one = await load(build);
    const many = await loadThreadedKernels({ build, threads });
    expect(many.threads).toBe(threads);
    const pool = many.threadsHandle as ThreadPool;
    pool.tune({ minWork: 0 });
    const run = (k: Kernels) => {
      const a = new Arena(k, 4 << 20);
      const n = 37, L = 9, z = randomArray(n * L, 5, -2, 2), h = head(n, L, 6), c = randomArray(n, 7, -1, 1);
      const out = a.alloc(n), dz = a.put(randomArray(n * L, 8)), dh = a.alloc(2 * n * L), zp = a.put(z), hp = a.put(h);
      const before = pool === k.threadsHandle ? pool.stats().splitCalls : 0;
      k.condLogpForward(out, zp, hp, n, L);
      k.condLogpBackward({ dz, dh, z: zp, h: hp, c: a.put(c), n, latentDim: L });
      if (k === many) expect(pool.stats().splitCalls - before, "both calls split").toBe(2);
      return [a.bits(out, n), a.bits(dz, n * L), a.bits(dh, 2 * n * L)];
    };
    const want = run(one), got = run(many);
    ["logp", "dz", "dh"].forEach((w, i) => expectSameBits(got[i], want[i], w));
    many.dispose();
  });
});
