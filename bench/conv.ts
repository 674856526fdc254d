// Convolution kernels (assembly/conv.ts) at the Keras MNIST VAE's conv layers,
// batch 128, one thread, both builds, against tfjs-backend-cpu (and the
// forward of tfjs-backend-wasm, which has no Conv2DBackpropFilter) in the
// same run. Each layer's forward and backward (dx, dw, db) is timed whole,
// then split: im2col/col2im alone and the GEMMs alone, over the same chunks
// the kernel uses (the split calls the kernel's own exports); "rest" is what
// the whole call takes beyond the two (bias, activation, zeroing, cache
// effects). Our times are medians after warm-up calls; tfjs-cpu's naive
// loops take seconds to minutes per call at batch 128, so by default it is
// timed on the one call that is checked (--peer-reps n for a median of n).
// Results are checked before timing: the forward of the first images against
// the float64 reference, dx, dw and db against tfjs-cpu (norm-wise relative
// error); a mismatch exits 1.
// GFLOP/s counts 2·(multiply-adds of the GEMMs), padding taps included:
// forward = convFlops, backward = 2·convFlops (dx and dw).
//
// One-channel layers (conv2d Cin = 1, conv2d_transpose Cout = 1) run the
// direct conv1_* kernels of assembly/conv.ts: no im2col/GEMM parts to split.
// --cpu times every call (ours and tfjs's) by the process's CPU time (user +
// system) instead of the wall clock: on a shared, loaded machine it leaves
// out the time the process waits for a core.
//
//   npm run bench:conv [-- --reps 15] [-- --peer-reps 1] [-- --batch 128] [-- --chunk <images>] [-- --no-peer] [-- --cpu]
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { loadKernels, type Build, type Kernels } from "../src/kernels/wasm.js";
import {
  convChunkImages, convFlops, convGeometry, convParamShapes, convScratchBytes,
  type ConvGeometry, type ConvKind, type ConvSettings,
} from "../src/kernels/conv-shape.js";
import { conv2dRef, conv2dTransposeRef, randomArray } from "../tests/reference.js";
import { describeMachine, flag, machine, mdTable, relError, ROOT, timeMedian, useBackend } from "./common.js";

interface Layer { name: string; kind: ConvKind; in: [number, number, number]; s: ConvSettings }
const LAYERS: Layer[] = [
  { name: "enc conv 28²×1→14²×32", kind: "conv2d", in: [28, 28, 1], s: { filters: 32, kernel: 3, stride: 2, padding: "same" } },
  { name: "enc conv 14²×32→7²×64", kind: "conv2d", in: [14, 14, 32], s: { filters: 64, kernel: 3, stride: 2, padding: "same" } },
  { name: "dec convT 7²×64→14²×64", kind: "conv2d_transpose", in: [7, 7, 64], s: { filters: 64, kernel: 3, stride: 2, padding: "same" } },
  { name: "dec convT 14²×64→28²×32", kind: "conv2d_transpose", in: [14, 14, 64], s: { filters: 32, kernel: 3, stride: 2, padding: "same" } },
  { name: "dec convT 28²×32→28²×1", kind: "conv2d_transpose", in: [28, 28, 32], s: { filters: 1, kernel: 3, stride: 1, padding: "same" } },
];

const B = Number(flag("batch") ?? 128);
const REPS = Number(flag("reps") ?? 15);
const CHUNK = flag("chunk") === undefined ? undefined : Number(flag("chunk"));
const withPeer = !flag("no-peer");
const TOL: Record<Build, number> = { plain: 1e-5, relaxed: 1e-4 };
// Against tfjs (f32 sums in another order, up to 25088 terms for dw): ‖ours − tfjs‖ / ‖tfjs‖.
const TOL_TFJS = 1e-4;

// tfjs-cpu's naive conv loops take seconds to minutes per call at batch 128.
const PEER_REPS = Number(flag("peer-reps") ?? 1);
const CPU_TIME = !!flag("cpu");
/** Median ms of f over reps calls after reps/4 warm-up calls, by the process's CPU time. */
function cpuMedian(f: () => unknown, reps: number): number {
  for (let i = 0; i < Math.max(1, reps >> 2); i++) f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    t.push((c.user + c.system) / 1000);
  }
  return t.sort((a, b) => a - b)[t.length >> 1];
}
const ms = (f: () => unknown, reps = REPS) => timeMedian(f, reps, Math.max(1, reps >> 2)).median;
/** Median ms of every timed call (ours and tfjs's), by the clock --cpu chooses. */
const ours = (f: () => unknown, reps = REPS) => (CPU_TIME ? cpuMedian(f, reps) : ms(f, reps));
/** ms on the clock --cpu chooses (for tfjs-cpu's single checked calls). */
const now = () => {
  if (!CPU_TIME) return performance.now();
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const progress = (s: string) => process.stderr.write(`${s}\n`);

/** max |got − want| / (|want| + 1). */
function worstErr(got: ArrayLike<number>, want: ArrayLike<number>, n = want.length): number {
  let e = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + 1);
    if (!(d <= e)) e = Number.isNaN(d) ? Infinity : d;
  }
  return e;
}
function check(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number, n?: number): void {
  const e = n === undefined && tol === TOL_TFJS ? relError(got, want) : worstErr(got, want, n);
  if (!(e <= tol)) {
    console.error(`FAIL ${what}: relative error ${e.toExponential(2)} > ${tol}`);
    process.exit(1);
  }
}

interface Data { x: Float32Array; w: Float32Array; b: Float32Array; dy: Float32Array }
function data(g: ConvGeometry): Data {
  const r = 1 / Math.sqrt(g.kh * g.kw * g.inC);
  return {
    x: randomArray(B * g.inH * g.inW * g.inC, 1), w: randomArray(g.kh * g.kw * g.inC * g.outC, 2, -r, r),
    b: randomArray(g.outC, 3, -0.5, 0.5), dy: randomArray(B * g.outH * g.outW * g.outC, 4),
  };
}

type Grads = { y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array };
const attrs = (g: ConvGeometry) => ({ strides: [g.strideH, g.strideW], pad: "same", dataFormat: "NHWC", dilations: 1 });

/** tfjs's kernels for one layer: forward, and backward = dx and dw (+ db as a sum). */
function tfjsLayer(g: ConvGeometry, d: Data) {
  const e = tf.engine();
  const xs = [B, g.inH, g.inW, g.inC], ys = [B, g.outH, g.outW, g.outC];
  const wShape = convParamShapes(g).w;
  const x = tf.tensor4d(d.x, xs as [number, number, number, number]), w = tf.tensor(d.w, wShape);
  const dy = tf.tensor4d(d.dy, ys as [number, number, number, number]), b = tf.tensor1d(d.b);
  const run = (name: string, inputs: Record<string, tf.Tensor>, extra: Record<string, unknown>) =>
    e.runKernel(name, inputs, { ...attrs(g), ...extra } as never) as tf.Tensor;
  const forward = () => tf.tidy(() => tf.add(g.kind === "conv2d"
    ? run("Conv2D", { x, filter: w }, {})
    // the transpose is conv2d's data gradient, with the output shape as the "input"
    : run("Conv2DBackpropInput", { dy: x, filter: w }, { inputShape: ys }), b));
  const backward = () => tf.tidy(() => g.kind === "conv2d"
    ? [run("Conv2DBackpropInput", { dy, filter: w }, { inputShape: xs }),
       run("Conv2DBackpropFilter", { x, dy }, { filterShape: wShape }), tf.sum(dy, [0, 1, 2])]
    : [run("Conv2D", { x: dy, filter: w }, {}),
       run("Conv2DBackpropFilter", { x: dy, dy: x }, { filterShape: wShape }), tf.sum(dy, [0, 1, 2])]);
  return { forward, backward, dispose: () => tf.dispose([x, w, dy, b]) };
}

/** tfjs-cpu's outputs for the check, and the time of that one forward and
 *  one backward call (ms): at batch 128 its naive loops take seconds to
 *  minutes per call, so it gets `--peer-reps` (default 1) calls, not REPS. */
function tfjsResults(g: ConvGeometry, d: Data): Grads & { fwdMs: number; bwdMs: number } {
  const t = tfjsLayer(g, d);
  let t0 = now();
  const y = t.forward();
  y.dataSync();
  const fwdMs = now() - t0;
  t0 = now();
  const [dx, dw, db] = t.backward();
  dx.dataSync(); dw.dataSync();
  const bwdMs = now() - t0;
  const out = { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array, db: db.dataSync() as Float32Array };
  tf.dispose([y, dx, dw, db]);
  t.dispose();
  return { ...out, fwdMs, bwdMs };
}

/** The shapes assembly/conv.ts sends to its direct one-channel kernels. */
const direct = (g: ConvGeometry) => (g.kind === "conv2d" ? g.inC : g.outC) === 1;

interface Timing { fwd: number; fwdCols: number; fwdGemm: number; bwd: number; bwdCols: number; bwdGemm: number }

/** Places a layer in k's memory, checks it, and times the whole calls and their parts. */
function measureKernel(k: Kernels, g: ConvGeometry, d: Data, want: Grads, ref: Float64Array, refImages: number): Timing {
  const nb = CHUNK ?? convChunkImages(g, B);
  let p = k.base;
  const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; };
  const nx = d.x.length, ny = d.dy.length;
  const x = take(nx), w = take(d.w.length), b = take(g.outC), y = take(ny), dy = take(ny), dx = take(nx);
  const dw = take(d.w.length), db = take(g.outC), scratch = take(convScratchBytes(g, nb) / 4);
  k.reserve(p - k.base);
  k.f32(x, nx).set(d.x); k.f32(w, d.w.length).set(d.w); k.f32(b, g.outC).set(d.b); k.f32(dy, ny).set(d.dy);
  const args = { y, x, w, b, batch: B, geometry: g, chunk: nb, scratch };
  k.convForward(args);
  k.convBackward({ ...args, dx, dw, db, dy, accumulate: false });
  const tag = `${k.build} ${g.kind} ${g.inH}×${g.inW}×${g.inC}`;
  check(`${tag} y (first ${refImages} images) vs float64`, k.f32(y, ny), ref, TOL[k.build], ref.length);
  check(`${tag} y vs tfjs-cpu`, k.f32(y, ny), want.y, TOL_TFJS);
  check(`${tag} dx vs tfjs-cpu`, k.f32(dx, nx), want.dx, TOL_TFJS);
  check(`${tag} dw vs tfjs-cpu`, k.f32(dw, d.w.length), want.dw, TOL_TFJS);
  check(`${tag} db vs tfjs-cpu`, k.f32(db, g.outC), want.db, TOL_TFJS);

  // Raw exports from here on (the wrapper's O(1) checks are not what we measure).
  const r = k.raw, t = g.kind === "conv2d_transpose";
  const { inH: H, inW: W, inC: C, outH: Ho, outW: Wo, outC: Co, kh, kw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl } = g;
  const fwd = t ? r.conv2d_transpose_forward : r.conv2d_forward;
  const bwd = t ? r.conv2d_transpose_backward : r.conv2d_backward;
  // identity activation leaves dy as it is, so backward can repeat
  const whole = { fwd: () => fwd(y, x, w, b, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, 0, 0, nb, scratch),
    bwd: () => bwd(dx, dw, db, dy, x, w, y, B, H, W, C, Ho, Wo, Co, kh, kw, sh, sw, pt, pl, 0, 0, 1, nb, scratch) };
  // The parts, chunk by chunk as in assembly/conv.ts: cols at scratch, the GEMM's scratch after it.
  const P = t ? H * W : Ho * Wo, kc = kh * kw * (t ? Co : C);
  // cols, then (backward) dwᵀ (n, kc), n = the transpose's C / the conv2d's Co, then the GEMM's scratch
  const dwt = scratch + Math.ceil((nb * P * kc * 4) / 64) * 64;
  const gsFwd = dwt, gs = dwt + Math.ceil(((t ? C : Co) * kc * 4) / 64) * 64;
  const chunks = (f: (n0: number, m: number) => void) => () => { for (let n0 = 0; n0 < B; n0 += nb) f(n0, Math.min(nb, B - n0)); };
  const xAt = (n0: number) => x + 4 * n0 * H * W * C, yAt = (n0: number) => y + 4 * n0 * Ho * Wo * Co;
  const dyAt = (n0: number) => dy + 4 * n0 * Ho * Wo * Co, dxAt = (n0: number) => dx + 4 * n0 * H * W * C;
  const parts = t ? {
    fwdCols: chunks((n0, m) => r.conv_col2im_acc(yAt(n0), scratch, m, Ho, Wo, Co, H, W, kh, kw, sh, sw, pt, pl)),
    fwdGemm: chunks((n0, m) => r.gemm(scratch, xAt(n0), w, 0, m * P, C, kc, 0, 1, 0, gsFwd)),
    bwdCols: chunks((n0, m) => r.conv_im2col(scratch, dyAt(n0), m, Ho, Wo, Co, H, W, kh, kw, sh, sw, pt, pl)),
    bwdGemm: chunks((n0, m) => {
      // dwᵀ (C, kc) += xᵀ·cols (the kernel transposes dwᵀ into dw once per call: not timed here)
      r.gemm(dwt, xAt(n0), scratch, 0, C, m * P, kc, 1, 0, 1, gs);
      r.gemm(dxAt(n0), scratch, w, 0, m * P, kc, C, 0, 0, 0, gs);
    }),
  } : {
    fwdCols: chunks((n0, m) => r.conv_im2col(scratch, xAt(n0), m, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl)),
    fwdGemm: chunks((n0, m) => r.gemm(yAt(n0), scratch, w, b, m * P, kc, Co, 0, 0, 2, gsFwd)),
    bwdCols: chunks((n0, m) => {
      r.conv_im2col(scratch, xAt(n0), m, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl);
      r.conv_col2im_acc(dxAt(n0), scratch, m, H, W, C, Ho, Wo, kh, kw, sh, sw, pt, pl);
    }),
    bwdGemm: chunks((n0, m) => {
      r.gemm(dwt, dyAt(n0), scratch, 0, Co, m * P, kc, 1, 0, 1, gs);
      r.gemm(scratch, dyAt(n0), w, 0, m * P, Co, kc, 0, 1, 0, gs);
    }),
  };
  if (direct(g)) return { fwd: ours(whole.fwd), fwdCols: NaN, fwdGemm: NaN, bwd: ours(whole.bwd), bwdCols: NaN, bwdGemm: NaN };
  return {
    fwd: ours(whole.fwd), fwdCols: ours(parts.fwdCols), fwdGemm: ours(parts.fwdGemm),
    bwd: ours(whole.bwd), bwdCols: ours(parts.bwdCols), bwdGemm: ours(parts.bwdGemm),
  };
}

async function main(): Promise<void> {
  const m = machine();
  const lines: string[] = [];
  const out = (s = "") => { console.log(s); lines.push(s); };
  out(`# Convolution benchmark (\`npm run bench:conv\`)`);
  out();
  out(`Keras MNIST VAE conv layers, batch ${B}, one thread. ${describeMachine(m)}`);
  if (m.loadAverage[0] > 0.5 * m.cores) out(`note: load average ${m.loadAverage[0]} on ${m.cores} cores: other processes share the CPU, so times are pessimistic.`);
  out();
  await useBackend("cpu");
  const kernels = {} as Record<Build, Kernels>;
  for (const build of ["plain", "relaxed"] as const) {
    kernels[build] = await loadKernels({ build });
    if (kernels[build].build !== build) { console.error(`FAIL: asked for ${build}, got ${kernels[build].build}`); process.exit(1); }
  }
  const rows: (string | number)[][] = [];
  const gf = (flops: number, msec: number) => (flops / (msec * 1e-3) / 1e9).toFixed(1);
  let totPlain = 0, totRelaxed = 0, totTf = 0;
  for (const L of LAYERS) {
    const g = convGeometry(L.kind, L.in, L.s, L.name);
    const d = data(g);
    const fl = convFlops(g, B);
    progress(`${L.name}: tfjs-cpu results for the check`);
    const want = tfjsResults(g, d);
    const refImages = 2;
    const ref = (L.kind === "conv2d" ? conv2dRef : conv2dTransposeRef)(d.x.subarray(0, refImages * g.inH * g.inW * g.inC), d.w, d.b, refImages, g).y;
    const nb = CHUNK ?? convChunkImages(g, B);
    const T: Partial<Record<Build, Timing>> = {};
    for (const build of ["plain", "relaxed"] as const) {
      progress(`${L.name}: ${build}`);
      const t = T[build] = measureKernel(kernels[build], g, d, want, ref, refImages);
      const cols = L.kind === "conv2d" ? ["im2col", "im2col + col2im"] : ["col2im", "im2col"];
      const split = (pass: number, c: string, colsMs: number, gemmMs: number, flops: number) => direct(g)
        ? ["direct (no cols)", "–", "", "–"]
        : [`${c} ${colsMs.toFixed(2)}`, `${gemmMs.toFixed(2)} (${gf(flops, gemmMs)})`, (pass - colsMs - gemmMs).toFixed(2), nb];
      rows.push([L.name, build, "forward", t.fwd.toFixed(2), gf(fl, t.fwd), ...split(t.fwd, cols[0], t.fwdCols, t.fwdGemm, fl), "", ""]);
      rows.push([L.name, build, "backward", t.bwd.toFixed(2), gf(2 * fl, t.bwd), ...split(t.bwd, cols[1], t.bwdCols, t.bwdGemm, 2 * fl), "", ""]);
    }
    totPlain += T.plain!.fwd + T.plain!.bwd; totRelaxed += T.relaxed!.fwd + T.relaxed!.bwd;
    if (withPeer) {
      await useBackend("cpu");
      let cf = want.fwdMs, cb = want.bwdMs;
      if (PEER_REPS > 1) {
        const tc = tfjsLayer(g, d);
        cf = ours(() => tf.dispose(tc.forward()), PEER_REPS);
        cb = ours(() => tf.dispose(tc.backward()), PEER_REPS);
        tc.dispose();
      }
      totTf += cf + cb;
      let wf = NaN;
      await useBackend("wasm");
      const tw = tfjsLayer(g, d);
      try {
        const yw = tw.forward();
        check(`tfjs-wasm ${L.name} y vs tfjs-cpu`, yw.dataSync(), want.y, TOL_TFJS);
        tf.dispose(yw);
        progress(`tfjs-wasm ${L.name}`);
        wf = ours(() => tf.dispose(tw.forward()), 5);
      } catch (e) {
        console.log(`tfjs-wasm ${L.name} forward: ${(e as Error).message}`);
      }
      tw.dispose();
      await useBackend("cpu");
      const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
      // ratios on the rows of this layer: peer time / our time
      const n = rows.length;
      rows[n - 4][9] = ratio(cf, T.plain!.fwd); rows[n - 3][9] = ratio(cb, T.plain!.bwd);
      rows[n - 2][9] = ratio(cf, T.relaxed!.fwd); rows[n - 1][9] = ratio(cb, T.relaxed!.bwd);
      rows[n - 4][10] = ratio(wf, T.plain!.fwd); rows[n - 2][10] = ratio(wf, T.relaxed!.fwd);
      rows.push([L.name, "tfjs-cpu", "forward", cf.toFixed(2), gf(fl, cf), "", "", "", "", "1.0×", ""]);
      rows.push([L.name, "tfjs-cpu", "backward", cb.toFixed(2), gf(2 * fl, cb), "", "", "", "", "1.0×", ""]);
      rows.push([L.name, "tfjs-wasm", "forward", wf.toFixed(2), gf(fl, wf), "", "", "", "", "", "1.0×"]);
      rows.push([L.name, "tfjs-wasm", "backward", "–", "no Conv2DBackpropFilter", "", "", "", "", "", ""]);
    }
    progress(rows.slice(-(withPeer ? 8 : 4)).map((r) => r.join(" | ")).join("\n"));
  }
  out(mdTable(
    ["layer", "build", "pass", "median ms", "GFLOP/s", "im2col/col2im ms", "GEMM ms (GFLOP/s)", "rest ms", "chunk", "vs tfjs-cpu", "vs tfjs-wasm"],
    rows, ["l", "l", "l", "r", "r", "r", "r", "r", "r", "r", "r"]));
  out();
  out(`Forward + backward of all five layers: plain ${totPlain.toFixed(1)} ms, relaxed ${totRelaxed.toFixed(1)} ms` +
    (withPeer ? `, tfjs-cpu ${totTf.toFixed(1)} ms (${(totTf / totPlain).toFixed(1)}× plain).` : "."));
  out();
  out(`Times (ours and tfjs's) by ${CPU_TIME ? "the process's CPU time (user + system, all its threads; --cpu), not the wall clock" : "the wall clock"}.`);
  out("GFLOP/s = GEMM multiply-adds × 2 (padding taps included) / median; backward counts dx and dw (2× the forward).");
  out("One-channel layers (conv2d Cin = 1, conv2d_transpose Cout = 1) run the direct conv1_* kernels: no im2col/GEMM split, the chunk only caps the dw row block.");
  out("The parts are timed alone over the same chunks (median of each); rest = whole − parts (bias, activation, zeroing dx, cache effects; negative when the parts run slower alone).");
  out("conv2d: forward im2col + GEMM; backward im2col + GEMM dW, GEMM dcols + col2im. conv2d_transpose: forward GEMM + col2im; backward im2col of dy + GEMMs dW and dx.");
  out(`tfjs-cpu: ${PEER_REPS === 1 ? "one call each (the checked one; its naive loops take seconds to minutes at batch 128)" : `median of ${PEER_REPS} calls`}; tfjs-wasm: median of 5 forward calls.`);
  out("vs tfjs-*: the peer's time / ours (> 1: we are faster). tfjs-cpu backward = Conv2DBackpropInput (or Conv2D) + Conv2DBackpropFilter + the bias sum.");
  out(`load average at end: ${machine().loadAverage.join(" / ")}`);
  writeFileSync(join(ROOT, "bench", "results", "conv.md"), lines.join("\n") + "\n");
}

await main();
