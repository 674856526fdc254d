// The plain build is reproducible bit for bit: two fresh module instances,
// with their buffers at different offsets and different garbage in scratch,
// give identical GEMM and dense results at the VAE's shapes. (Agreement with
// in-order f32 accumulation, bit for bit, is in gemm.test.ts.)
import { describe, expect, it } from "vitest";
import { loadKernels, type Kernels } from "../../src/kernels/wasm.js";
import { randomArray } from "../reference.js";
import { Arena, expectSameBits, load } from "./helpers.js";

interface Outputs { [name: string]: Uint32Array }

/** Runs every GEMM variant and a dense forward + backward on fixed data in
 *  k, with all buffers shifted by `shift` floats and scratch pre-filled
 *  with `garbage`; returns the raw bits of every output. */
function runAll(k: Kernels, shift: number, garbage: number): Outputs {
  const arena = new Arena(k, 16 << 20);
  arena.alloc(shift);
  const out: Outputs = {};
  const s784 = 1 / Math.sqrt(784), s400 = 1 / Math.sqrt(400);
  const x = arena.put(randomArray(128 * 784, 1, 0, 1), shift % 4);
  const w1 = arena.put(randomArray(784 * 400, 2, -s784, s784), shift % 4);
  const b1 = arena.put(randomArray(400, 3, -0.1, 0.1));
  const w2 = arena.put(randomArray(400 * 784, 4, -s400, s400));
  const h = arena.alloc(128 * 400), y = arena.alloc(128 * 784), g = arena.alloc(128 * 400);
  const dw = arena.put(randomArray(784 * 400, 5, -1, 1)), db = arena.put(new Float32Array(400));
  const dx = arena.alloc(128 * 784);
  const scratch = arena.scratch(Math.max(k.gemmScratchBytes(784, 128), k.gemmScratchBytes(128, 784), k.denseBackwardScratchBytes(128, 784, 400)));
  const fillScratch = () => k.f32(scratch, k.gemmScratchBytes(784, 128) / 4).fill(garbage);

  fillScratch();
  k.gemm({ c: h, a: x, b: w1, bias: b1, M: 128, K: 784, N: 400, init: "bias", scratch });
  out.nn = arena.bits(h, 128 * 400);
  fillScratch();
  k.gemm({ c: y, a: h, b: w2, M: 128, K: 400, N: 784, init: "zero", scratch });
  out.nn2 = arena.bits(y, 128 * 784);
  fillScratch();
  k.f32(g, 128 * 400).set(randomArray(128 * 400, 6));
  k.gemm({ c: dw, a: x, b: g, M: 784, K: 128, N: 400, transA: true, init: "accumulate", scratch });
  out.tn = arena.bits(dw, 784 * 400);
  fillScratch();
  k.gemm({ c: dx, a: g, b: w1, M: 128, K: 400, N: 784, transB: true, init: "zero", scratch });
  out.nt = arena.bits(dx, 128 * 784);

  fillScratch();
  k.denseForward({ y: h, x, w: w1, b: b1, batch: 128, inDim: 784, outDim: 400, activation: "tanh", scratch });
  out.denseY = arena.bits(h, 128 * 400);
  k.f32(g, 128 * 400).set(randomArray(128 * 400, 7));
  k.denseBackward({ dx, dw, db, dy: g, x, w: w1, y: h, batch: 128, inDim: 784, outDim: 400, activation: "tanh", scratch });
  out.denseDx = arena.bits(dx, 128 * 784);
  out.denseDw = arena.bits(dw, 784 * 400);
  out.denseDb = arena.bits(db, 400);
  return out;
}

describe("plain build determinism", () => {
  it("two fresh instances give bit-identical GEMM and dense results", async () => {
    const k1 = await load("plain"), k2 = await load("plain");
    expect(k1.memory, "separate memories").not.toBe(k2.memory);
    const a = runAll(k1, 0, NaN);
    const b = runAll(k2, 5, 3.25);
    expect(Object.keys(a).length).toBe(8);
    for (const name of Object.keys(a)) {
      expectSameBits(b[name], a[name], name);
      // Not trivially equal: the outputs hold real, finite numbers.
      expect(new Float32Array(a[name].buffer).every(Number.isFinite), `${name} finite`).toBe(true);
      expect(a[name].some((v) => v !== 0), `${name} non-zero`).toBe(true);
    }
    // Running again in an instance that has already been used changes nothing.
    const c = runAll(k1, 3, -1);
    for (const name of Object.keys(a)) expectSameBits(c[name], a[name], `${name}, rerun`);
  });

  it("auto picks the relaxed build where this runtime validates it (Node 20: V8 flag set by the loader)", async () => {
    const k = await loadKernels({ build: "auto" });
    expect(k.build).toBe("relaxed");
  });

  it("deterministic: true forces the plain build", async () => {
    const k = await loadKernels({ build: "relaxed", deterministic: true });
    expect(k.build).toBe("plain");
    expect(k.tileRows).toBe(5);
  });
});
