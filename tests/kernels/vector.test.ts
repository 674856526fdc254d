// Flat-block helpers (assembly/vector.ts), both builds, at sizes around the
// SIMD width: fill, copy (overlapping too), axpy, scale, sum_squares (f64
// accumulation), all_finite (a bad value at every position) and first_outside
// (the batch range check: the first bad index, wherever the bad values are).
import { describe, expect, it } from "vitest";
import type { Kernels } from "../../src/kernels/wasm.js";
import { randomArray } from "../reference.js";
import { Arena, BUILDS, SIZES, expectClose, withKernels } from "./helpers.js";

const f = Math.fround;

describe.each(BUILDS)("vector helpers, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 1 << 20, (kk, aa) => { k = kk; arena = aa; });

  it.each(SIZES)("fill, scale, axpy, n = %i, nothing past the end", (n) => {
    const x = randomArray(n, n), y0 = randomArray(n, n + 1);
    const xp = arena.put([...x, 5, 5]), yp = arena.put([...y0, 5, 5]);
    // One f32 rounding per element, so the f32 reference is exact.
    k.axpy(yp, xp, n, 0.75);
    expect(Array.from(arena.get(yp, n + 2))).toEqual([...Array.from(y0, (v, i) => f(v + f(0.75 * x[i]))), 5, 5]);
    k.scale(xp, n, -1.5);
    expect(Array.from(arena.get(xp, n + 2))).toEqual([...Array.from(x, (v) => f(v * -1.5)), 5, 5]);
    k.fill(xp, n, 0.25);
    expect(Array.from(arena.get(xp, n + 2))).toEqual([...Array(n).fill(0.25), 5, 5]);
  });

  it.each(SIZES)("copy, n = %i, disjoint and overlapping", (n) => {
    const x = randomArray(n + 3, n + 2);
    const a = arena.put(x), b = arena.alloc(n);
    k.copy(b, a, n);
    expect(Array.from(arena.get(b, n))).toEqual(Array.from(x.subarray(0, n)));
    k.copy(a + 12, a, n);  // shift right by 3 floats: memmove semantics
    expect(Array.from(arena.get(a + 12, n))).toEqual(Array.from(x.subarray(0, n)));
    k.copy(a, a + 4, n);   // shift left by 1 float
    const shifted = new Float32Array(n + 3);
    shifted.set(x.subarray(0, 3)); shifted.set(x.subarray(0, n), 3);
    expect(Array.from(arena.get(a, n))).toEqual(Array.from(shifted.subarray(1, n + 1)));
  });

  it.each(SIZES)("sum_squares, n = %i, matches float64", (n) => {
    const x = randomArray(n, n + 3, -3, 3);
    let want = 0;
    for (const v of x) want += v * v;
    // f64 sums of exact f64 squares: only the summation order differs.
    expectClose([k.sumSquares(arena.put(x), n)], [want], 1e-13, `Σx² n=${n}`, 0);
  });

  it.each([1, 2, 3, 4, 5, 7, 8, 9, 17, 33])("all_finite, n = %i, a bad value at every position", (n) => {
    const xp = arena.put(randomArray(n, n));
    expect(k.allFinite(xp, n)).toBe(true);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (let i = 0; i < n; i++) {
        const view = k.f32(xp, n);
        const keep = view[i];
        view[i] = bad;
        expect(k.allFinite(xp, n), `${bad} at ${i}`).toBe(false);
        k.f32(xp, n)[i] = keep;
      }
    }
    // Only n elements are looked at.
    const yp = arena.put([...randomArray(n, 1), NaN]);
    expect(k.allFinite(yp, n)).toBe(true);
    expect(k.allFinite(yp, 0)).toBe(true);
  });

  it.each([1, 3, 4, 15, 16, 17, 31, 33, 64, 70])("first_outside, n = %i: the first index outside [lo, hi], at every position", (n) => {
    // the reference: a plain loop over the float32 values
    const ref = (a: ArrayLike<number>, lo: number, hi: number) => { for (let i = 0; i < a.length; i++) if (!(a[i] >= lo && a[i] <= hi)) return i; return -1; };
    const x = randomArray(n, n + 7, 0, 1);
    const xp = arena.put([...x, NaN, 2]);   // past the end: never looked at
    expect(k.firstOutside(xp, n, 0, 1)).toBe(-1);
    expect(k.firstOutside(xp, 0, 0, 1)).toBe(-1);
    for (const bad of [NaN, Infinity, -Infinity, 1.0000001, -1e-30, 2]) {
      for (let i = 0; i < n; i++) {
        const view = k.f32(xp, n), keep = view[i];
        view[i] = bad;
        expect(k.firstOutside(xp, n, 0, 1), `${bad} at ${i}`).toBe(ref(k.f32(xp, n), 0, 1));
        expect(k.firstOutside(xp, n, 0, 1), `${bad} at ${i}`).toBe(i);
        // a second bad value later does not move the answer
        if (i + 5 < n) { k.f32(xp, n)[i + 5] = NaN; expect(k.firstOutside(xp, n, 0, 1)).toBe(i); k.f32(xp, n)[i + 5] = x[i + 5]; }
        k.f32(xp, n)[i] = keep;
      }
    }
    // the bounds are inclusive, in float32
    const edges = arena.put(Array.from({ length: n }, (_, i) => (i % 2 ? 1 : 0)));
    expect(k.firstOutside(edges, n, 0, 1)).toBe(-1);
    expect(k.firstOutside(edges, n, -3.4028234663852886e38, 3.4028234663852886e38)).toBe(-1);
    expect(k.firstOutside(edges, n, 0.5, 1)).toBe(0);
  });
});
