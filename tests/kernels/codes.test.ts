// The TypeScript side's copies of what the wasm defines, compared with the
// wasm's own: the activation codes (ACTIVATIONS, whose index is the code,
// against assembly/activation.ts's ACT_* constants, and each code run
// through the kernel against the float64 activation of its name), the GEMM
// init modes (GEMM_INIT against assembly/gemm.ts's INIT_*), and the GEMM
// scratch size the pure planner uses (src/base/scratch.ts) against the
// wasm's gemm_scratch_bytes, for every class of shape, in both builds.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, activationCode, GEMM_INIT, type Kernels } from "../../src/kernels/wasm.js";
import { denseBackwardScratchBytes, gemmScratchBytes } from "../../src/base/scratch.js";
import { actRef } from "../reference.js";
import { Arena, BUILDS, withKernels } from "./helpers.js";

/** `export const PREFIX_NAME: i32 = n;` of an assembly file, as NAME → n. */
function constants(file: string, prefix: string): Map<string, number> {
  const text = readFileSync(new URL(`../../assembly/${file}`, import.meta.url), "utf8");
  return new Map([...text.matchAll(new RegExp(`^export const ${prefix}([A-Z_]+): i32 = (\\d+);`, "gm"))].map((m) => [m[1], Number(m[2])]));
}

describe("activation codes: one TypeScript table (ACTIVATIONS) and the assembly's ACT_*", () => {
  it("every ACT_<NAME> of assembly/activation.ts is the index of <name> in ACTIVATIONS, and nothing is missing", () => {
    const act = constants("activation.ts", "ACT_");
    expect(act.size).toBe(ACTIVATIONS.length);
    for (const [NAME, code] of act) {
      const name = NAME.toLowerCase() as (typeof ACTIVATIONS)[number];
      expect(ACTIVATIONS.indexOf(name), NAME).toBe(code);
      expect(activationCode(name), NAME).toBe(code);
    }
  });

  it("no TypeScript file of src/ keeps its own copy of an ACT_* constant", () => {
    const files = (dir: URL): URL[] => readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => e.isDirectory() ? files(new URL(`${e.name}/`, dir)) : e.name.endsWith(".ts") ? [new URL(e.name, dir)] : []);
    const src = files(new URL("../../src/", import.meta.url));
    expect(src.length).toBeGreaterThan(50);
    for (const f of src) expect(readFileSync(f, "utf8"), f.pathname).not.toMatch(/\bACT_[A-Z]+\s*=/);
  });

  describe.each(BUILDS)("each code computes the activation of its name, %s build", (build) => {
    let k: Kernels;
    let arena: Arena;
    withKernels(build, 1 << 16, (kk, aa) => { k = kk; arena = aa; });
    it.each(ACTIVATIONS)("%s", (name) => {
      const xs = [-3, -1, -0.25, 0, 0.5, 2], alpha = name === "elu" ? 1 : 0.1;
      const x = arena.alloc(xs.length), y = arena.alloc(xs.length);
      k.f32(x, xs.length).set(xs);
      k.raw.activation_forward(y, x, xs.length, activationCode(name), alpha);
      const got = Array.from(k.f32(y, xs.length));
      xs.forEach((v, i) => expect(got[i], `${name}(${v})`).toBeCloseTo(actRef(v, name, alpha), 5));
    });
  });
});

describe("GEMM init modes: GEMM_INIT and the assembly's INIT_*", () => {
  it("zero, accumulate and bias are INIT_ZERO, INIT_ACC and INIT_BIAS", () => {
    const init = constants("gemm.ts", "INIT_");
    expect(Object.fromEntries(init)).toEqual({ ZERO: GEMM_INIT.zero, ACC: GEMM_INIT.accumulate, BIAS: GEMM_INIT.bias });
  });
});

describe.each(BUILDS)("GEMM scratch: the planner's gemmScratchBytes is the wasm's gemm_scratch_bytes, %s build", (build) => {
  let k: Kernels;
  withKernels(build, 1 << 16, (kk) => { k = kk; });
  // M: the one/two-row path (1, 2), around both builds' tile rows (5 plain, 6
  // relaxed) and the 8-wide strip, the VAE's batch and widths; K: below, at
  // and past a SIMD width and a strip, and the layer widths; then sizes whose
  // scratch passes 2 GiB (the wasm returns it as an unsigned 32-bit count).
  const M = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17, 20, 128, 400, 784, 4096];
  const K = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 20, 400, 784, 4096];
  it("every M × K of the edge and layer sizes", () => {
    for (const m of M) for (const kk of K) expect(k.gemmScratchBytes(m, kk), `M ${m}, K ${kk}`).toBe(gemmScratchBytes(m, kk));
  });
  it("dense_backward's (its two products' packed op(A) side by side, or either product's gemm scratch)", () => {
    const D = [1, 2, 5, 6, 7, 8, 9, 20, 40, 128, 130, 400, 784];
    for (const b of D) for (const i of D) for (const o of D) {
      expect(k.denseBackwardScratchBytes(b, i, o), `B ${b}, IN ${i}, OUT ${o}`).toBe(denseBackwardScratchBytes(b, i, o));
    }
  });
  it("past 2 GiB", () => {
    for (const [m, kk] of [[32768, 16384], [65536, 8192], [1 << 20, 600]]) {
      expect(gemmScratchBytes(m, kk)).toBeGreaterThan(2 ** 31);
      expect(gemmScratchBytes(m, kk)).toBeLessThan(2 ** 32);
      expect(k.gemmScratchBytes(m, kk), `M ${m}, K ${kk}`).toBe(gemmScratchBytes(m, kk));
    }
    // dense_backward's, where the two packed blocks side by side pass 2 GiB
    for (const [b, i, o] of [[16384, 16384, 16384], [8192, 65536, 8192]]) {
      const pair = ((i + 7) * b + (b + 7) * o) * 4 + 64;
      expect(pair).toBeGreaterThan(Math.max(gemmScratchBytes(i, b), gemmScratchBytes(b, o)));
      expect(denseBackwardScratchBytes(b, i, o)).toBe(pair);
      expect(pair).toBeGreaterThan(2 ** 31);
      expect(pair).toBeLessThan(2 ** 32);
      expect(k.denseBackwardScratchBytes(b, i, o), `B ${b}, IN ${i}, OUT ${o}`).toBe(pair);
    }
  });
});
