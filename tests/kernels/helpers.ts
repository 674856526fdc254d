// Shared by the kernel tests: loading both builds, a bump allocator over a
// Kernels arena, error measures, central differences and the size lists.
// Not here: expected values (tests/reference.ts computes every one of them).
import { beforeAll, beforeEach, expect } from "vitest";
import { loadKernels, type Build, type Kernels } from "../../src/kernels/wasm.js";

export const BUILDS: readonly Build[] = ["plain", "relaxed"];

/** Just below, at and just above the SIMD widths (4, 8) and tile rows (5, 6). */
export const EDGE_SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33] as const;
/** The VAE's layer widths: 784 pixels, 400 hidden units, 20 latents. */
export const VAE_SIZES = [784, 400, 20] as const;
export const SIZES = [...EDGE_SIZES, ...VAE_SIZES] as const;

/** Loads a fresh module of `build` and fails unless that build really loaded
 *  (the loader silently falls back to plain when relaxed SIMD is missing). */
export async function load(build: Build): Promise<Kernels> {
  const k = await loadKernels({ build });
  expect(k.build, `requested the ${build} build`).toBe(build);
  expect(k.tileRows, `${build} GEMM tile rows`).toBe(build === "plain" ? 5 : 6);
  return k;
}

/** The set-up of a block of kernel tests: before its tests, loads `build`
 *  (checked, as `load`) and an Arena of `bytes` over it, and hands both to
 *  `use`; before each test, resets the arena. */
export function withKernels(build: Build, bytes: number, use: (k: Kernels, arena: Arena) => void): void {
  let arena: Arena;
  beforeAll(async () => {
    const k = await load(build);
    arena = new Arena(k, bytes);
    use(k, arena);
  });
  beforeEach(() => arena.reset());
}

/**
 * Bump allocator over one `reserve`d block. Pointers are 16-byte aligned
 * unless asked otherwise; `reset` frees everything (call it per test).
 * Data goes in and out through fresh `k.f32` views, never cached ones.
 */
export class Arena {
  readonly k: Kernels;
  readonly end: number;
  private next: number;

  constructor(k: Kernels, bytes: number) {
    k.reserve(bytes);
    this.k = k;
    this.next = k.base;
    this.end = k.base + bytes;
  }

  reset(): void {
    this.next = this.k.base;
  }

  /** n floats; `misalign` (in floats) shifts the block off 16-byte alignment. */
  alloc(n: number, misalign = 0): number {
    const p = ((this.next + 15) & ~15) + 4 * misalign;
    if (p + 4 * n > this.end) throw new Error(`test arena exhausted: need ${p + 4 * n - this.end} more bytes`);
    this.next = p + 4 * n;
    return p;
  }

  /** n floats starting exactly where the previous allocation ended (guards). */
  allocHere(n: number): number {
    const p = this.next;
    if (p + 4 * n > this.end) throw new Error(`test arena exhausted: need ${p + 4 * n - this.end} more bytes`);
    this.next = p + 4 * n;
    return p;
  }

  /** Allocates and fills n = data.length floats. */
  put(data: ArrayLike<number>, misalign = 0): number {
    const p = this.alloc(data.length, misalign);
    this.k.f32(p, data.length).set(data);
    return p;
  }

  /** A copy of n floats at p. */
  get(p: number, n: number): Float32Array {
    return this.k.f32(p, n).slice();
  }

  /** A copy of the raw bits of n floats at p. */
  bits(p: number, n: number): Uint32Array {
    return this.k.u32(p, n).slice();
  }

  /** Scratch bytes → a float allocation. */
  scratch(bytes: number): number {
    return this.alloc(Math.ceil(bytes / 4));
  }
}

/** max_i |got − want| / (|want| + scale), NaN counting as infinite, and where. */
export function worstRelErr(got: ArrayLike<number>, want: ArrayLike<number>, scale = 1): { err: number; at: number } {
  let err = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + scale);
    if (!(e <= err)) { err = Number.isNaN(e) ? Infinity : e; at = i; }
  }
  return { err, at };
}

/** Asserts |got − want| ≤ tol·(|want| + scale) elementwise. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string, scale = 1): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const { err, at } = worstRelErr(got, want, scale);
  const where = at < 0 ? "" : ` (worst at [${at}]: got ${got[at]}, want ${want[at]})`;
  expect(err, `${what}: relative error${where}`).toBeLessThanOrEqual(tol);
}

/** Asserts two bit patterns are identical, naming the first difference. */
export function expectSameBits(got: Uint32Array, want: Uint32Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let at = -1;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) { at = i; break; }
  const f = (u: number) => new Float32Array(new Uint32Array([u]).buffer)[0];
  const detail = at < 0 ? "" : ` (first at [${at}]: 0x${got[at].toString(16)} = ${f(got[at])} vs 0x${want[at].toString(16)} = ${f(want[at])})`;
  expect(at, `${what}: first differing element${detail}`).toBe(-1);
}

/** Bits of a float32 array (for comparing against an emulation). */
export function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + 4 * a.length));
}

/** ∂f/∂x by central differences in float64: (f(x + h) − f(x − h)) / 2h per
 *  coordinate, with h = step·max(1, |x_i|). */
export function centralDiff(f: (x: Float64Array) => number, x0: ArrayLike<number>, step = 1e-5): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const h = step * Math.max(1, Math.abs(xi));
    x[i] = xi + h; const fp = f(x);
    x[i] = xi - h; const fm = f(x);
    x[i] = xi;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Sum of a float64 array. */
export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Σ w_i·a_i. */
export function dot(a: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * w[i];
  return s;
}

/** Replaces values with |v| < gap by ±gap (keeps FD stencils off a kink at 0). */
export function awayFromZero(a: Float32Array, gap: number): Float32Array {
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) < gap) a[i] = a[i] < 0 ? -gap - Math.abs(a[i]) : gap + a[i];
  return a;
}
