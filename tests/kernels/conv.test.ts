// conv2d and conv2d_transpose (assembly/conv.ts, src/kernels/conv-shape.ts), both
// builds: output shapes and pads against hand-worked Keras/TensorFlow values;
// forward against the float64 definitions (tests/reference.ts) at awkward
// sizes (1×1 images, odd sizes, every stride × padding, 1–17 channels);
// backward against central differences of the float64 forward (small cases)
// and the float64 backward (every case); results independent of the batch
// chunk; parity with tfjs-cpu's conv2d / conv2dTranspose and tf.grads at the
// Keras MNIST VAE's shapes; bad arguments throw ArgumentError and write nothing.
// Not here: GEMM edge cases (gemm.test.ts), activations on their own (activation.test.ts).
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import { type Activation, type Build, type Kernels } from "../../src/kernels/wasm.js";
import { ArgumentError } from "../../src/base/validate.js";
import {
  convChunkImages, convFlops, convGeometry, convParamShapes, convScratchBytes,
  type ConvGeometry, type ConvKind, type ConvSettings,
} from "../../src/kernels/conv-shape.js";
import { conv2dRef, conv2dTransposeRef, convBackwardRef, randomArray } from "../reference.js";
import { Arena, BUILDS, bitsOf, centralDiff, dot, expectClose, expectSameBits, withKernels } from "./helpers.js";

// As dense.test.ts: plain is in-order f32, relaxed may fuse.
const TOL: Record<Build, number> = { plain: 1e-5, relaxed: 1e-4 };

interface Case { kind: ConvKind; B: number; inShape: [number, number, number]; s: ConvSettings }
const name = (c: Case) => `${c.kind} B=${c.B} ${c.inShape.join("×")} → ${c.s.filters}, k=${JSON.stringify(c.s.kernel)} ` +
  `s=${JSON.stringify(c.s.stride)} pad=${JSON.stringify(c.s.padding)}${c.s.outputPadding !== undefined ? ` op=${JSON.stringify(c.s.outputPadding)}` : ""}`;

// Every kind × stride × padding, cycling through odd image sizes, kernels and
// the channel counts 1, 3, 4, 5, 8, 9, 17 (in and out).
const CHANNELS = [1, 3, 4, 5, 8, 9, 17];
const IMAGES: [number, number][] = [[5, 7], [4, 4], [7, 3], [3, 5], [6, 9], [1, 1], [2, 3]];
const KERNELS: ConvSettings["kernel"][] = [3, [3, 2], 1, 2, [1, 3], [2, 3], 3];
const PADDINGS: ConvSettings["padding"][] = ["same", "valid", 1, [0, 2, 1, 0]];
function sweep(): Case[] {
  const out: Case[] = [];
  let i = 0;
  for (const kind of ["conv2d", "conv2d_transpose"] as const) {
    for (const stride of [1, 2, 3, [2, 1]] as ConvSettings["stride"][]) {
      for (const padding of PADDINGS) {
        const kernel = KERNELS[i % KERNELS.length];
        const [kh, kw] = typeof kernel === "number" ? [kernel, kernel] : kernel;
        let [H, W] = IMAGES[i % IMAGES.length];
        // conv2d without "same" needs the padded image to hold one kernel
        if (kind === "conv2d" && padding !== "same") { H = Math.max(H, kh); W = Math.max(W, kw); }
        const s: ConvSettings = { filters: CHANNELS[(i + 3) % 7], kernel, stride, padding };
        // explicit pads on a transpose must leave an output
        if (kind === "conv2d_transpose" && typeof padding !== "string") { H = Math.max(H, 3); W = Math.max(W, 3); }
        out.push({ kind, B: 1 + (i % 3), inShape: [H, W, CHANNELS[i % 7]], s });
        i++;
      }
    }
  }
  // 1×1 images with "same" at stride 2 and 3, and output padding on transposes
  out.push({ kind: "conv2d", B: 3, inShape: [1, 1, 17], s: { filters: 9, kernel: 3, stride: 2, padding: "same" } });
  out.push({ kind: "conv2d_transpose", B: 2, inShape: [1, 1, 9], s: { filters: 17, kernel: 3, stride: 3, padding: "same" } });
  out.push({ kind: "conv2d_transpose", B: 2, inShape: [3, 4, 5], s: { filters: 4, kernel: 3, stride: 2, padding: "same", outputPadding: 0 } });
  out.push({ kind: "conv2d_transpose", B: 1, inShape: [4, 3, 3], s: { filters: 8, kernel: [4, 2], stride: [3, 2], padding: "valid", outputPadding: [2, 1] } });
  out.push({ kind: "conv2d_transpose", B: 2, inShape: [5, 5, 4], s: { filters: 5, kernel: 3, stride: 2, padding: 1, outputPadding: 1 } });
  out.push({ kind: "conv2d_transpose", B: 2, inShape: [3, 3, 3], s: { filters: 1, kernel: 1, stride: 2, padding: "same" } });
  return out;
}
const CASES = sweep();

// The direct one-channel kernels (assembly/conv.ts conv1_*): conv2d with
// Cin = 1 and conv2d_transpose with Cout = 1 take them; Cin = 2 / Cout = 2
// (just above) take im2col + GEMM. The other channel count crosses the
// kernels' column tiles (1, 4, 8, 16 wide) and the kernel sizes their 4-tap
// groups (kh·kw = 1, 3, 4, 6, 9, 10); rows cross the 4-row tiles and 64-row blocks.
function directSweep(): Case[] {
  const out: Case[] = [];
  const other = [1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 33];
  const kernels: ConvSettings["kernel"][] = [3, 1, [1, 3], 2, [2, 3], 3, [5, 2]];
  const strides: ConvSettings["stride"][] = [1, 2, [2, 1], 3, 1, 2];
  const paddings: ConvSettings["padding"][] = ["same", "valid", 1, [0, 2, 1, 0], "same"];
  const images: [number, number][] = [[7, 5], [9, 9], [5, 6], [6, 4], [1, 1], [8, 3]];
  let i = 0;
  for (const kind of ["conv2d", "conv2d_transpose"] as const) {
    for (const one of [1, 2]) {
      for (const c of other) {
        const kernel = kernels[i % kernels.length];
        const [kh, kw] = typeof kernel === "number" ? [kernel, kernel] : kernel;
        let [H, W] = images[i % images.length];
        const padding = paddings[i % paddings.length];
        if (kind === "conv2d" && padding !== "same") { H = Math.max(H, kh); W = Math.max(W, kw); }
        if (kind === "conv2d_transpose" && typeof padding !== "string") { H = Math.max(H, 3); W = Math.max(W, 3); }
        const s: ConvSettings = { filters: kind === "conv2d" ? c : one, kernel, stride: strides[i % strides.length], padding };
        out.push({ kind, B: 1 + (i % 3), inShape: [H, W, kind === "conv2d" ? one : c], s });
        i++;
      }
    }
  }
  // output padding on a one-channel transpose, and more rows than one 64-row block
  out.push({ kind: "conv2d_transpose", B: 2, inShape: [4, 3, 5], s: { filters: 1, kernel: [4, 2], stride: [3, 2], padding: "valid", outputPadding: [2, 1] } });
  out.push({ kind: "conv2d_transpose", B: 2, inShape: [5, 5, 4], s: { filters: 1, kernel: 3, stride: 2, padding: 1, outputPadding: 1 } });
  out.push({ kind: "conv2d", B: 3, inShape: [19, 17, 1], s: { filters: 9, kernel: 3, stride: 1, padding: "same" } });
  out.push({ kind: "conv2d_transpose", B: 3, inShape: [11, 13, 6], s: { filters: 1, kernel: 3, stride: 1, padding: "same" } });
  return out;
}
const DIRECT = directSweep();
// Central differences cost one float64 forward per parameter and input:
// the small cases only (every kind, stride and padding still appears).
const small = (c: Case) => {
  const g = convGeometry(c.kind, c.inShape, c.s);
  return g.inH * g.inW * g.inC * c.B + g.kh * g.kw * g.inC * g.outC <= 400;
};

interface Data { g: ConvGeometry; x: Float32Array; w: Float32Array; b: Float32Array; dy: Float32Array }
function data(c: Case, seed: number): Data {
  const g = convGeometry(c.kind, c.inShape, c.s);
  const r = 1 / Math.sqrt(g.kh * g.kw * g.inC);
  return {
    g, x: randomArray(c.B * g.inH * g.inW * g.inC, seed), w: randomArray(g.kh * g.kw * g.inC * g.outC, seed + 1, -r, r),
    b: randomArray(g.outC, seed + 2, -0.5, 0.5), dy: randomArray(c.B * g.outH * g.outW * g.outC, seed + 3),
  };
}
const forwardRef = (g: ConvGeometry, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, B: number, act: Activation = "identity") =>
  (g.kind === "conv2d" ? conv2dRef : conv2dTransposeRef)(x, w, b, B, g, act);

/** Runs forward then backward in the arena: dw, db pre-filled with dw0, db0
 *  (accumulated onto), dx pre-filled with NaN (overwritten), a guard after the
 *  scratch. Returns copies of everything written. */
function run(k: Kernels, arena: Arena, B: number, d: Data, o: { chunk?: number; act?: Activation; dw0?: Float32Array; db0?: Float32Array } = {}) {
  const { g } = d;
  const nx = B * g.inH * g.inW * g.inC, ny = B * g.outH * g.outW * g.outC, nw = d.w.length;
  arena.reset();
  const x = arena.put(d.x), w = arena.put(d.w), b = arena.put(d.b), dy = arena.put(d.dy), y = arena.alloc(ny);
  const dx = arena.put(new Float32Array(nx + 4).fill(NaN));
  const dw = arena.put(o.dw0 ?? new Float32Array(nw)), db = arena.put(o.db0 ?? new Float32Array(g.outC));
  const chunk = o.chunk ?? convChunkImages(g, B);
  const scratch = arena.scratch(k.convScratchBytes(g, chunk));
  const guard = arena.allocHere(4);
  k.fill(guard, 4, 12345);
  const act = o.act ?? "identity";
  k.convForward({ y, x, w, b, batch: B, geometry: g, activation: act, chunk, scratch });
  const yOut = arena.get(y, ny);
  k.convBackward({ dx, dw, db, dy, x, w, y, batch: B, geometry: g, activation: act, chunk, scratch });
  expect(Array.from(arena.get(guard, 4)), "guard after scratch").toEqual([12345, 12345, 12345, 12345]);
  expect(arena.get(dx + 4 * nx, 4).every(Number.isNaN), "nothing written past dx").toBe(true);
  expectSameBits(arena.bits(x, nx), bitsOf(d.x), "x unchanged");
  expectSameBits(arena.bits(w, nw), bitsOf(d.w), "w unchanged");
  return { y: yOut, dx: arena.get(dx, nx), dw: arena.get(dw, nw), db: arena.get(db, g.outC), g: arena.get(dy, ny) };
}

/** tfjs-cpu's y and tf.grads of Σ dy ⊙ y for x, w, b (computed once per case,
 *  shared by both builds). */
const tfjsRuns = new Map<Case, Promise<Record<"y" | "dx" | "dw" | "db", Float32Array>>>();
function tfjsRun(c: Case, d: Data) {
  let p = tfjsRuns.get(c);
  if (!p) tfjsRuns.set(c, p = (async () => {
    await tf.setBackend("cpu");
    const { g } = d;
    const xs = [c.B, g.inH, g.inW, g.inC] as [number, number, number, number];
    const ys = [c.B, g.outH, g.outW, g.outC] as [number, number, number, number];
    const wt = tf.tensor4d(d.w, convParamShapes(g).w as [number, number, number, number]);
    const f = (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.add(c.kind === "conv2d"
      ? tf.conv2d(x, w, [g.strideH, g.strideW], "same")
      : tf.conv2dTranspose(x, w, ys, [g.strideH, g.strideW], "same"), b) as tf.Tensor4D;
    const xt = tf.tensor4d(d.x, xs), bt = tf.tensor1d(d.b), dyt = tf.tensor4d(d.dy, ys);
    const yT = f(xt, wt, bt);
    expect(yT.shape, "tfjs output shape").toEqual(ys);
    const [dxT, dwT, dbT] = tf.grads((x, w, b) => tf.sum(tf.mul(f(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D), dyt)))([xt, wt, bt]);
    const out = { y: yT.dataSync() as Float32Array, dx: dxT.dataSync() as Float32Array, dw: dwT.dataSync() as Float32Array, db: dbT.dataSync() as Float32Array };
    tf.dispose([wt, xt, bt, dyt, yT, dxT, dwT, dbT]);
    return out;
  })());
  return p;
}

// tfjs-cpu at the Keras VAE's conv layers (batch 2 keeps the float64-free
// comparison quick): forward and tf.grads of Σ dy ⊙ y for x, w and b.
const KERAS: Case[] = [
  { kind: "conv2d", B: 2, inShape: [28, 28, 1], s: { filters: 32, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d", B: 2, inShape: [14, 14, 32], s: { filters: 64, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d_transpose", B: 2, inShape: [7, 7, 64], s: { filters: 64, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d_transpose", B: 2, inShape: [14, 14, 64], s: { filters: 32, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d_transpose", B: 2, inShape: [28, 28, 32], s: { filters: 1, kernel: 3, stride: 1, padding: "same" } },
];
const plus = (a

: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);

describe("conv-shape: output shapes and pads", () => {
  const geo = (kind: ConvKind, shape: [number, number, number], s: ConvSettings) => {
    const g = convGeometry(kind, shape, s);
    return [g.outH, g.outW, g.outC, g.padTop, g.padBottom, g.padLeft, g.padRight];
  };
  it("conv2d: Keras 'same' at stride 2 puts the odd pad at the bottom/right, 'valid' and explicit", () => {
    expect(geo("conv2d", [28, 28, 1], { filters: 32, kernel: 3, stride: 2, padding: "same" })).toEqual([14, 14, 32, 0, 1, 0, 1]);
    expect(geo("conv2d", [14, 14, 32], { filters: 64, kernel: 3, stride: 2, padding: "same" })).toEqual([7, 7, 64, 0, 1, 0, 1]);
    expect(geo("conv2d", [7, 7, 3], { filters: 2, kernel: 3, stride: 2, padding: "same" })).toEqual([4, 4, 2, 1, 1, 1, 1]);
    expect(geo("conv2d", [8, 5, 3], { filters: 2, kernel: [4, 1], stride: 1, padding: "same" })).toEqual([8, 5, 2, 1, 2, 0, 0]);
    expect(geo("conv2d", [1, 1, 3], { filters: 2, kernel: 3, stride: 2, padding: "same" })).toEqual([1, 1, 2, 1, 1, 1, 1]);
    expect(geo("conv2d", [28, 28, 1], { filters: 4, kernel: 5 })).toEqual([24, 24, 4, 0, 0, 0, 0]);
    expect(geo("conv2d", [7, 6, 1], { filters: 4, kernel: 3, stride: 2, padding: "valid" })).toEqual([3, 2, 4, 0, 0, 0, 0]);
    expect(geo("conv2d", [5, 5, 1], { filters: 1, kernel: 3, stride: 2, padding: [1, 0, 2, 1] })).toEqual([2, 3, 1, 1, 0, 2, 1]);
  });
  it("conv2d_transpose: Keras output lengths and TensorFlow's pads", () => {
    expect(geo("conv2d_transpose", [7, 7, 64], { filters: 64, kernel: 3, stride: 2, padding: "same" })).toEqual([14, 14, 64, 0, 1, 0, 1]);
    expect(geo("conv2d_transpose", [14, 14, 64], { filters: 32, kernel: 3, stride: 2, padding: "same" })).toEqual([28, 28, 32, 0, 1, 0, 1]);
    expect(geo("conv2d_transpose", [28, 28, 32], { filters: 1, kernel: 3, padding: "same" })).toEqual([28, 28, 1, 1, 1, 1, 1]);
    expect(geo("conv2d_transpose", [7, 7, 2], { filters: 3, kernel: 3, stride: 2, padding: "valid" })).toEqual([15, 15, 3, 0, 0, 0, 0]);
    expect(geo("conv2d_transpose", [7, 7, 2], { filters: 3, kernel: 1, stride: 3, padding: "valid" })).toEqual([21, 21, 3, 0, 0, 0, 0]);
    // Keras: (7−1)·2 + 3 − 2·1 + 0 = 13, TF pads total (6·2 + 3 − 13) = 2
    expect(geo("conv2d_transpose", [7, 7, 2], { filters: 3, kernel: 3, stride: 2, padding: "same", outputPadding: 0 })).toEqual([13, 13, 3, 1, 1, 1, 1]);
    // (5−1)·2 + 3 − 1 − 1 + 1 = 10
    expect(geo("conv2d_transpose", [5, 5, 2], { filters: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1 })).toEqual([10, 10, 3, 1, 1, 1, 1]);
  });
  it("parameter shapes, fans and FLOPs", () => {
    const c = convGeometry("conv2d", [28, 28, 1], { filters: 32, kernel: 3, stride: 2, padding: "same" });
    expect(convParamShapes(c)).toEqual({ w: [3, 3, 1, 32], b: [32], fanIn: 9, fanOut: 288 });
    expect(convFlops(c, 128)).toBe(2 * 128 * 14 * 14 * 9 * 32);
    const t = convGeometry("conv2d_transpose", [7, 7, 64], { filters: 32, kernel: 3, stride: 2, padding: "same" });
    expect(convParamShapes(t)).toEqual({ w: [3, 3, 32, 64], b: [32], fanIn: 288, fanOut: 576 });
    expect(convFlops(t, 2)).toBe(2 * 2 * 7 * 7 * 9 * 64 * 32);
  });
  it("bad settings throw ArgumentError naming the setting", () => {
    const bad: [ConvKind, [number, number, number], ConvSettings, RegExp][] = [
      ["conv2d", [5, 5, 1], { filters: 0, kernel: 3 }, /^enc\.filters: expected an integer ≥ 1, got 0/],
      ["conv2d", [5, 5, 1], { filters: 2, kernel: 6 }, /^enc\.kernel: the rows kernel size 6 is larger/],
      ["conv2d", [5, 5, 1], { filters: 2, kernel: [3, 3, 3] as unknown as number }, /^enc\.kernel: expected/],
      ["conv2d", [5, 5, 1], { filters: 2, kernel: 3, stride: 0 }, /^enc\.stride: expected an integer ≥ 1/],
      ["conv2d", [5, 5, 1], { filters: 2, kernel: 3, padding: "full" as "same" }, /^enc\.padding: expected "same", "valid"/],
      ["conv2d", [5, 5, 1], { filters: 2, kernel: 3, padding: [1, 1, -1, 0] }, /^enc\.padding\[2\]: expected an integer ≥ 0/],
      ["conv2d", [5, 5, 1], { filters: 2, kernel: 3, outputPadding: 1 }, /^enc\.outputPadding: expected no output padding on a conv2d/],
      ["conv2d_transpose", [5, 5, 1], { filters: 2, kernel: 3, stride: 2, outputPadding: 2 }, /^enc\.outputPadding: expected values smaller than the stride/],
      ["conv2d_transpose", [1, 1, 1], { filters: 2, kernel: 3, padding: 2 }, /^enc\.padding: pads 2 \+ 2 leave no rows output/],
      ["conv2d", [5, 0, 1], { filters: 2, kernel: 3 }, /^enc input shape\[1\]: expected an integer ≥ 1, got 0/],
      ["dense" as ConvKind, [5, 5, 1], { filters: 2, kernel: 3 }, /^enc\.type: expected "conv2d" or "conv2d_transpose"/],
    ];
    for (const [kind, shape, s, re] of bad) {
      expect(() => convGeometry(kind, shape, s, "enc"), JSON.stringify(s)).toThrow(ArgumentError);
      expect(() => convGeometry(kind, shape, s, "enc")).toThrow(re);
    }
  });
});

describe.each(BUILDS)("conv kernels, %s build", (build) => {
  let k: Kernels;
  let arena: Arena;
  withKernels(build, 64 << 20, (kk, aa) => { k = kk; arena = aa; });

  it("conv_scratch_bytes matches convScratchBytes (the planner's mirror)", () => {
    for (const c of CASES) {
      const g = convGeometry(c.kind, c.inShape, c.s);
      for (const chunk of [1, 2, 5]) expect(k.convScratchBytes(g, chunk), name(c)).toBe(convScratchBytes(g, chunk));
    }
  });

  it("conv_scratch_bytes past 2 GiB is the mirror's figure, not negative; past 4 GiB it throws an ArgumentError naming the chunk", () => {
    // a 256×256×128 image, 5×5 kernel, 64 filters: one image's cols is 65,536 × 3,200 floats (839 MB)
    const g = convGeometry("conv2d", [256, 256, 128], { filters: 64, kernel: 5, stride: 1, padding: "same" });
    const two = k.convScratchBytes(g, 2);
    expect(two).toBeGreaterThan(2 ** 31);
    expect(two).toBeLessThan(2 ** 32);
    expect(two).toBe(convScratchBytes(g, 2));
    expect(convScratchBytes(g, 3)).toBeGreaterThan(2 ** 32);
    expect(() => k.convScratchBytes(g, 3)).toThrow(ArgumentError);
    expect(() => k.convScratchBytes(g, 3)).toThrow(/^chunk: 3 images of a conv2d 256×256×128 → 256×256×64 .* more than the 4 GiB/);
    // a call with the default chunk (one image here) names the geometry, not a chunk the caller did not pass
    const huge = convGeometry("conv2d", [1024, 1024, 128], { filters: 64, kernel: 5, stride: 1, padding: "same" });
    expect(() => k.convForward({ y: 0, x: 0, w: 0, b: 0, batch: 2, geometry: huge, scratch: 0 }))
      .toThrow(/^geometry: a conv2d 1024×1024×128 → 1024×1024×64 .* more than the 4 GiB/);
  });

  it("a one-channel layer's scratch: four slots of one padded image and its tap offsets at any chunk, then 16 groups' partials", () => {
    // conv2d 28×28×1 → 32, 3×3, stride 2: patch grid 14×14, padded image 29×29 (3,364 → 3,392 bytes) + 9 offsets
    // (36 → 64); a group's dwᵀ 32·9·4 = 1,152 and db 32·4 = 128 bytes
    const c1 = convGeometry("conv2d", [28, 28, 1], { filters: 32, kernel: 3, stride: 2, padding: "same" });
    // conv2d_transpose 28×28×32 → 1, 3×3, stride 1: grid 28×28, padded 30×30 (3,600 → 3,648) + 64; dwᵀ 1,152, db 4 → 64
    const t1 = convGeometry("conv2d_transpose", [28, 28, 32], { filters: 1, kernel: 3, stride: 1, padding: "same" });
    for (const chunk of [1, 18, 128]) {
      expect(k.convScratchBytes(c1, chunk), `conv2d, chunk ${chunk}`).toBe(4 * (3392 + 64) + 16 * (1152 + 128));
      expect(k.convScratchBytes(t1, chunk), `conv2d_transpose, chunk ${chunk}`).toBe(4 * (3648 + 64) + 16 * (1152 + 64));
    }
  });

  // forward, dx and dw, db accumulated onto dw0, db0 against the float64 references
  function checkFloat64(c: Case, seed: number, dwSeed: number): void {
    const d = data(c, seed);
    const dw0 = randomArray(d.w.length, dwSeed), db0 = randomArray(d.g.outC, dwSeed + 1);
    const r = run(k, arena, c.B, d, { dw0, db0 });
    expectClose(r.y, forwardRef(d.g, d.x, d.w, d.b, c.B).y, TOL[build], "y");
    const want = convBackwardRef(c.kind === "conv2d_transpose", d.dy, d.x, d.w, c.B, d.g);
    expectClose(r.dx, want.dx, TOL[build], "dx");
    expectClose(r.dw, plus(dw0, want.dw), TOL[build], "dw = dw0 + ∂L/∂w");
    expectClose(r.db, plus(db0, want.db), TOL[build], "db = db0 + ∂L/∂b");
  }
  // dx, dw, db against central differences of L(x, w, b) = Σ dy ⊙ forward(x, w, b) in float64
  function checkCentralDiff(c: Case, seed: number): void {
    const d = data(c, seed);
    const r = run(k, arena, c.B, d);
    const L = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) => dot(forwardRef(d.g, x, w, b, c.B).y, d.dy);
    expectClose(r.dx, centralDiff((x) => L(x, d.w, d.b), d.x), TOL[build], "dx");
    expectClose(r.dw, centralDiff((w) => L(d.x, w, d.b), d.w), TOL[build], "dw");
    expectClose(r.db, centralDiff((b) => L(d.x, d.w, b), d.b), TOL[build], "db");
  }

  it.each(CASES.map((c) => [name(c), c] as const))("%s: forward and backward match the float64 references", (_, c) => {
    checkFloat64(c, 17 * c.B + c.inShape[0] * 5 + c.s.filters, 5);
  });

  it.each(CASES.filter(small).map((c) => [name(c), c] as const))("%s: backward matches central differences", (_, c) => {
    checkCentralDiff(c, 3 * c.B + c.inShape[1] + 7 * c.s.filters);
  });

  it.each(DIRECT.map((c) => [name(c), c] as const))("one-channel paths, %s: forward and backward match the float64 references", (_, c) => {
    checkFloat64(c, 11 * c.B + c.inShape[1] + c.s.filters, 7);
  });

  it.each(DIRECT.filter(small).map((c) => [name(c), c] as const))("one-channel paths, %s: backward matches central differences", (_, c) => {
    checkCentralDiff(c, 5 * c.B + c.inShape[0] + 3 * c.s.filters);
  });

  it("one-channel paths: bit-identical at chunk 1, 2 and the batch (the dw row blocks follow the scratch), relu", () => {
    for (const c of [
      { kind: "conv2d", B: 5, inShape: [9, 7, 1], s: { filters: 17, kernel: 3, stride: 2, padding: "same" } },
      { kind: "conv2d", B: 40, inShape: [1, 1, 1], s: { filters: 5, kernel: 3, stride: 1, padding: "same" } },
      { kind: "conv2d_transpose", B: 5, inShape: [4, 5, 9], s: { filters: 1, kernel: 3, stride: 2, padding: "same" } },
      { kind: "conv2d_transpose", B: 40, inShape: [1, 1, 6], s: { filters: 1, kernel: 2, stride: 1, padding: "valid" } },
    ] as Case[]) {
      const d = data(c, 77);
      const runs = [1, 2, c.B].map((chunk) => run(k, arena, c.B, d, { chunk, act: "relu" }));
      for (const r of runs.slice(1)) {
        for (const key of ["y", "dx", "dw", "db"] as const) expectSameBits(bitsOf(r[key]), bitsOf(runs[0][key]), `${name(c)} ${key}`);
      }
      const ref = forwardRef(d.g, d.x, d.w, d.b, c.B, "relu");
      expectClose(runs[0].y, ref.y, TOL[build], `${name(c)} y`);
    }
  });

  it.each(["tanh", "relu"] as const)("with %s: y = act(pre), dy ← dy ⊙ act', gradients of Σ dy ⊙ act(pre) (central differences)", (act) => {
    for (const c of [
      { kind: "conv2d", B: 2, inShape: [5, 4, 3], s: { filters: 4, kernel: 3, stride: 2, padding: "same" } },
      { kind: "conv2d_transpose", B: 2, inShape: [3, 2, 4], s: { filters: 3, kernel: 3, stride: 2, padding: "same" } },
    ] as Case[]) {
      // redraw until every pre-activation is ≥ 1e-3 from relu's kink (FD steps move it < 1e-4)
      let d = data(c, 1);
      for (let s = 2; act === "relu" && forwardRef(d.g, d.x, d.w, d.b, c.B).pre.some((v) => Math.abs(v) < 1e-3); s++) d = data(c, s * 10);
      const r = run(k, arena, c.B, d, { act });
      const ref = forwardRef(d.g, d.x, d.w, d.b, c.B, act);
      expectClose(r.y, ref.y, TOL[build], `y ${act} ${c.kind}`);
      const L = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>) => dot(forwardRef(d.g, x, w, b, c.B, act).y, d.dy);
      expectClose(r.dx, centralDiff((x) => L(x, d.w, d.b), d.x), TOL[build], `dx ${act} ${c.kind}`);
      expectClose(r.dw, centralDiff((w) => L(d.x, w, d.b), d.w), TOL[build], `dw ${act} ${c.kind}`);
      expectClose(r.db, centralDiff((b) => L(d.x, d.w, b), d.b), TOL[build], `db ${act} ${c.kind}`);
    }
  });

  it("results do not depend on the batch chunk (bit-identical at chunk 1, 2 and the batch), accumulate: false writes dw, db, null dx skips it", () => {
    for (const c of [
      { kind: "conv2d", B: 5, inShape: [9, 7, 3], s: { filters: 9, kernel: 3, stride: 2, padding: "same" } },
      { kind: "conv2d_transpose", B: 5, inShape: [4, 5, 8], s: { filters: 5, kernel: 3, stride: 2, padding: "same" } },
    ] as Case[]) {
      const d = data(c, 99);
      const runs = [1, 2, 5].map((chunk) => run(k, arena, c.B, d, { chunk }));
      for (const r of runs.slice(1)) {
        for (const key of ["y", "dx", "dw", "db"] as const) expectSameBits(bitsOf(r[key]), bitsOf(runs[0][key]), `${c.kind} ${key}`);
      }
      // accumulate: false over NaN-filled dw, db; dx: null leaves dx alone
      const { g } = d;
      arena.reset();
      const x = arena.put(d.x), w = arena.put(d.w), b = arena.put(d.b), dy = arena.put(d.dy);
      const y = arena.alloc(d.dy.length), dx = arena.put(new Float32Array(d.x.length).fill(NaN));
      const dw = arena.put(new Float32Array(d.w.length).fill(NaN)), db = arena.put(new Float32Array(g.outC).fill(NaN));
      const scratch = arena.scratch(k.convScratchBytes(g, 2));
      k.convForward({ y, x, w, b, batch: c.B, geometry: g, chunk: 2, scratch });
      k.convBackward({ dx: null, dw, db, dy, x, w, y, batch: c.B, geometry: g, accumulate: false, chunk: 2, scratch });
      expectSameBits(arena.bits(dw, d.w.length), bitsOf(runs[0].dw), `${c.kind} dw written`);
      expectSameBits(arena.bits(db, g.outC), bitsOf(runs[0].db), `${c.kind} db written`);
      expect(arena.get(dx, d.x.length).every(Number.isNaN), "dx untouched").toBe(true);
    }
  });

  it("bad arguments throw ArgumentError before any wasm call and write nothing", () => {
    const c: Case = { kind: "conv2d", B: 2, inShape: [5, 5, 3], s: { filters: 4, kernel: 3, stride: 2, padding: "same" } };
    const d = data(c, 3);
    const { g } = d;
    arena.reset();
    const x = arena.put(d.x), w = arena.put(d.w), b = arena.put(d.b);
    const y = arena.put(new Float32Array(d.dy.length).fill(7));
    const scratch = arena.scratch(k.convScratchBytes(g, 2));
    const base = { y, x, w, b, batch: 2, geometry: g, scratch };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ geometry: { ...g, outH: 4 } }, /^geometry: expected output 3×3 for a 5×5 image/],
      [{ geometry: { ...g, kind: "conv3d" } }, /^geometry\.kind: expected/],
      [{ geometry: { ...g, padTop: -1 } }, /^geometry\.padTop: expected an integer ≥ 0/],
      [{ batch: 0 }, /^batch: expected an integer ≥ 1/],
      [{ chunk: 3 }, /^chunk: expected an integer in \[1, 2\]/],
      [{ scratch: scratch + 4 * 1024 ** 2 * 60 }, /^scratch: expected/],
      [{ activation: "gelu" }, /^activation: expected one of/],
      [{ x: 3 }, /^x: expected a 4-byte-aligned offset/],
    ];
    for (const [patch, re] of cases) {
      const call = () => k.convForward({ ...base, ...patch } as Parameters<Kernels["convForward"]>[0]);
      expect(call, JSON.stringify(patch)).toThrow(ArgumentError);
      expect(call).toThrow(re);
    }
    // the scratch for chunk 1 is too small for chunk 2
    const s1 = k.convScratchBytes(g, 1);
    expect(() => k.convForward({ ...base, chunk: 2, scratch: k.byteLength - s1 })).toThrow(/^scratch: expected/);
    expect(arena.get(y, d.dy.length).every((v) => v === 7), "y untouched").toBe(true);
  });

  // tfjs-cpu at the Keras VAE's conv layers (KERAS above)
  it.each(KERAS.map((c) => [name(c), c] as const))("parity with tfjs-cpu at the Keras shape %s", async (_, c) => {
    const d = data(c, 2024);
    const r = run(k, arena, c.B, d);
    const t = await tfjsRun(c, d);
    // tfjs sums in f32 too; the bound is f32 accumulation over ≤ 2·28·28 terms
    const tol = 2e-5;
    expectClose(r.y, t.y, tol, "y vs tfjs");
    expectClose(r.dx, t.dx, tol, "dx vs tfjs");
    expectClose(r.dw, t.dw, tol, "dw vs tfjs");
    expectClose(r.db, t.db, tol, "db vs tfjs");
  });
});
