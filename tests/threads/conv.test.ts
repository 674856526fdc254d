// A convolutional VAE trains to bit-identical weights, Adam moments and
// random streams on 1, 2, 3 and 5 threads, with every kernel call split
// (minWork 0): a conv layer's call is one job whose tasks (at most CONV_SLOTS,
// so the fifth thread sits conv calls out) take batch chunks (forward) or
// batch groups (backward: dw and db summed per group, then over the groups in
// order) in turn, each in its own slot of the scratch. Both builds. The
// multi-channel layer kernels themselves on 1, 2, 3 and 5 threads against
// float64 and bit for bit, at several chunks, a single unit or a single slot
// (the call is one task, whose kernels split as usual) and dw / db
// accumulated and written. A call's job and task counts from the profile
// (one job of min(threads, 4, units) tasks; below minWork, or one slot, a
// plain call); dw and db against a float32 model of the group sums' order.
// And im2col / col2im, split by patch rows / image rows, against float64.
// Not here: MLPs (determinism.test.ts), single kernels (kernels.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import { convChunkImages, convGeometry, convGroups, convScratchBytes, convSlots, type ConvKind, type ConvSettings } from "../../src/kernels/conv-shape.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import { conv2dRef, conv2dTransposeRef, convBackwardRef, randomArray } from "../reference.js";
import { Arena, bitsOf, expectClose, expectSameBits, load } from "../kernels/helpers.js";
import { stateBits } from "../helpers.js";

const created: VAE[] = [];
afterAll(() => created.forEach((v) => v.dispose()));

const CONV: VAEConfig = {
  inputShape: [16, 16, 3],
  encoder: [{ type: "conv2d", filters: 8, kernel: 3, stride: 2, padding: "same" }, { type: "flatten" }, 12],
  latentDim: 3,
  decoder: [{ type: "dense", units: 8 * 8 * 6 }, { type: "reshape", shape: [8, 8, 6] },
    { type: "conv2d_transpose", filters: 3, kernel: 3, stride: 2, padding: "same" }],
  activation: "tanh", likelihood: "bernoulli", seed: 5, maxBatch: 61,
};

describe("batch groups of a conv backward", () => {
  it("depend on B and the layer only: min(B, 16), fewer when the partials would pass 2²⁰ floats", () => {
    const g = convGeometry("conv2d", [16, 16, 3], { filters: 8, kernel: 3, stride: 2, padding: "same" });
    expect(convGroups(g, 61)).toBe(16);
    expect(convGroups(g, 3)).toBe(3);
    expect(convGroups(g, 1)).toBe(1);
    // dwᵀ 256 × (3·3·256) = 589,824 floats + db 256: one group's partials, so ⌊2²⁰ / 590,080⌋ = 1
    const big = convGeometry("conv2d", [8, 8, 256], { filters: 256, kernel: 3, stride: 1, padding: "same" });
    expect(convGroups(big, 61)).toBe(1);
    // 64 × (3·3·32) + 32 = 18,464 floats: 56 would fit, 16 at most
    const t = convGeometry("conv2d_transpose", [14, 14, 64], { filters: 32, kernel: 3, stride: 2, padding: "same" });
    expect(convGroups(t, 128)).toBe(16);
  });
});

describe("slots of a conv call", () => {
  it("four where they fit 8 MiB, fewer for a larger slot, at least one; the scratch is slots × slot + the groups' partials", () => {
    expect(convSlots(1 << 20)).toBe(4);
    expect(convSlots(3 << 20)).toBe(2);
    expect(convSlots(5 << 20)).toBe(1);
    expect(convSlots(64 << 20)).toBe(1);
    // the Keras conv's largest layer at B = 128: 2 images per chunk, four slots of 0.9 MB
    const t = convGeometry("conv2d_transpose", [14, 14, 64], { filters: 32, kernel: 3, stride: 2, padding: "same" });
    expect(convChunkImages(t, 128)).toBe(2);
    const slot = 392 * 288 * 4 + (399 * 288 + 8 * 288 + 64) * 4; // cols, then the GEMM scratch of dx = cols·w
    expect(convScratchBytes(t, 2)).toBe(4 * slot + 16 * (Math.ceil(64 * 288 * 4 / 64) * 64 + 128));
  });
});

describe.each(["plain", "relaxed"] as const)("%s build", (build) => {
  it("20 steps of a conv VAE, every call split: same bits on 1, 2, 3 and 5 threads", async () => {
    const x = randomArray(150 * 768, 3, 0, 1);
    let ref: { bits: Uint32Array; losses: number[] } | null = null;
    for (const t of [1, 2, 3, 5]) {
      const vae = await VAE.create(CONV, { threads: t, build });
      created.push(vae);
      expect(vae.threads).toBe(t);
      const pool = vae.kernels.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      pool?.leaveLastTask(true); // workers run tasks however busy the machine is
      const losses: number[] = [];
      for (let s = 0; s < 20; s++) {
        const start = (s * 61) % (150 - 61 + 1);
        losses.push(vae.trainStep(x.subarray(start * 768, (start + 61) * 768)).loss);
      }
      if (pool) expect(pool.stats().workerTasks, "tasks run by workers").toBeGreaterThan(0);
      const bits = stateBits(vae);
      if (!ref) ref = { bits, losses };
      else {
        expect(losses, `${t} threads: losses`).toEqual(ref.losses);
        expectSameBits(bits, ref.bits, `${t} threads: weights, moments and streams`);
      }
    }
  });
});

// How a layer call runs, from the pool's counters (profile on): one job of
// min(threads, CONV_SLOTS = 4, units) tasks, counted once each (a task's
// own kernels run inline in it and count nowhere); a call below minWork is a
// plain call: no job, no task in the profile; a layer with one slot is one
// task, a plain call whose kernels split as usual, or, each below minWork,
// count nowhere.
describe("a conv layer call on threads", () => {
  it("is one job of min(threads, 4, units) tasks; below minWork, or with one slot, a plain call", async () => {
    // 7 images at one image per chunk: 7 forward units; 7 batch groups
    const c: MultiCase = { kind: "conv2d", B: 7, inShape: [9, 8, 5], s: { filters: 12, kernel: 3, stride: 2, padding: "same" } };
    // one image's cols is 2.4 MB: one slot (as in MULTI below)
    const big: MultiCase = { kind: "conv2d", B: 2, inShape: [64, 64, 16], s: { filters: 8, kernel: 3, stride: 1, padding: "same" } };
    for (const t of [2, 3, 5]) {
      const { k, pool, arena } = await kernelsOn("plain", t);
      const p = pool!;
      const calls = (cc: MultiCase, chunk: number) => {
        const { g, nx, ny, nw, xs, ws, bs, dys } = caseData(cc, 7);
        arena.reset();
        const x = arena.put(xs), w = arena.put(ws), b = arena.put(bs), y = arena.alloc(ny);
        const dy = arena.put(dys), dx = arena.alloc(nx), dw = arena.alloc(nw), db = arena.alloc(g.outC);
        const scratch = arena.scratch(k.convScratchBytes(g, chunk));
        return [
          () => k.convForward({ y, x, w, b, batch: cc.B, geometry: g, chunk, scratch }),
          () => k.convBackward({ dx, dw, db, dy, x, w, y, batch: cc.B, geometry: g, chunk, scratch }),
        ];
      };
      const counted = (f: () => void) => {
        p.profile(true);
        const jobs = p.stats().splitCalls;
        f();
        const r = { jobs: p.stats().splitCalls - jobs, tasks: p.busy().tasks.reduce((a, v) => a + v, 0), ms0: p.busy().ms[0] };
        p.profile(false);
        return r;
      };
      for (const [i, f] of calls(c, 1).entries()) {
        expect(counted(f), `${t} threads, ${i ? "backward" : "forward"}`).toMatchObject({ jobs: 1, tasks: Math.min(t, 4) });
      }
      p.tune({ minWork: 2 ** 30 });
      for (const [i, f] of calls(c, 1).entries()) {
        expect(counted(f), `${t} threads, ${i ? "backward" : "forward"} below minWork`).toEqual({ jobs: 0, tasks: 0, ms0: 0 });
      }
      p.tune({ minWork: 0 });
      // one slot: the call is one task, a plain call. At minWork = the forward's
      // multiply-adds (2·64·64·3·3·16·8) the call would split, a chunk's kernels
      // (one image: half of it) do not: nothing is a task, nothing is counted
      p.tune({ minWork: 2 * 64 * 64 * 9 * 16 * 8 });
      for (const [i, f] of calls(big, 1).entries()) {
        expect(counted(f), `${t} threads, one slot, ${i ? "backward" : "forward"}`).toEqual({ jobs: 0, tasks: 0, ms0: 0 });
      }
      p.tune({ minWork: 0 });
      for (const [i, f] of calls(big, 1).entries()) {
        expect(counted(f).jobs, `${t} threads, one slot, ${i ? "backward" : "forward"}: its kernels split`).toBeGreaterThan(1);
      }
      k.dispose();
    }
  });
});

// The backward's summation order, modelled in float32 (plain build: products
// rounded, then added in order): for a conv2d, group g of G = convGroups(B)
// holds images ⌊g·B/G⌋ … ⌊(g+1)·B/G⌋ − 1; its partials sum their patch rows
// in order from zero, dwᵀ_g[co, j] = Σ_rows g[row, co]·cols[row, j] and
// db_g[co] = Σ_rows g[row, co]; then p = ((p_0 + p_1) + p_2) + … in group order
// and dw = dw0 + pᵀ, db = db0 + p; with one input channel (the one-channel
// backward, on padded images) the same sums. The kernel's dw and db on 1 and 2 threads,
// at the default chunk and at 1, are these bits exactly; the same sums taken
// in one pass over the batch differ in some bits (so the model pins the order).
describe("the conv backward's group sums, modelled in float32", () => {
  it("dw and db are the model's bits for B = 7 (7 groups of one image) and B = 21 (16 groups of one or two), 5 channels and one", async () => {
    const f = Math.fround;
    for (const [B, C] of [[7, 5], [21, 5], [7, 1], [21, 1]]) {
      // C = 1: the one-channel backward (padded images, dw_g (kh·kw, Co) itself, not transposed): the same sums
      const c: MultiCase = { kind: "conv2d", B, inShape: [9, 8, C], s: { filters: 12, kernel: 3, stride: 2, padding: "same" } };
      const { g, nx, ny, nw, xs, ws, bs, dys, dw0, db0 } = caseData(c, 300 + B + C);
      const P = g.outH * g.outW, kc = g.kh * g.kw * g.inC, Co = g.outC, G = convGroups(g, B);
      expect(G, "groups").toBe(B === 7 ? 7 : 16);
      // cols (B·P, kc) = im2col(x)
      const cols = new Float32Array(B * P * kc);
      for (let n = 0; n < B; n++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) {
        for (let ty = 0; ty < g.kh; ty++) for (let tx = 0; tx < g.kw; tx++) for (let ci = 0; ci < g.inC; ci++) {
          const iy = oy * g.strideH - g.padTop + ty, ix = ox * g.strideW - g.padLeft + tx;
          if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue;
          cols[((n * g.outH + oy) * g.outW + ox) * kc + (ty * g.kw + tx) * g.inC + ci] = xs[((n * g.inH + iy) * g.inW + ix) * g.inC + ci];
        }
      }
      // in-order f32 sums of rows [r0, r1): dwᵀ (Co, kc) and db (Co)
      const sums = (r0: number, r1: number) => {
        const dwt = new Float32Array(Co * kc), db = new Float32Array(Co);
        for (let r = r0; r < r1; r++) for (let co = 0; co < Co; co++) {
          const gv = dys[r * Co + co];
          db[co] = f(db[co] + gv);
          for (let j = 0; j < kc; j++) dwt[co * kc + j] = f(dwt[co * kc + j] + f(gv * cols[r * kc + j]));
        }
        return { dwt, db };
      };
      const parts = Array.from({ length: G }, (_, q) => sums(Math.floor(q * B / G) * P, Math.floor((q + 1) * B / G) * P));
      const p = parts[0];
      for (const q of parts.slice(1)) {
        for (let i = 0; i < p.dwt.length; i++) p.dwt[i] = f(p.dwt[i] + q.dwt[i]);
        for (let i = 0; i < Co; i++) p.db[i] = f(p.db[i] + q.db[i]);
      }
      const finish = (s: { dwt: Float32Array; db: Float32Array }) => ({
        dw: Float32Array.from({ length: nw }, (_, i) => f(dw0[i] + s.dwt[(i % Co) * kc + Math.floor(i / Co)])),
        db: Float32Array.from({ length: Co }, (_, i) => f(db0[i] + s.db[i])),
      });
      const want = finish(p), onePass = finish(sums(0, B * P));
      expect(bitsOf(onePass.dw).some((v, i) => v !== bitsOf(want.dw)[i]), `B = ${B}, C = ${C}: one pass differs from the groups in some bit`).toBe(true);
      for (const t of [1, 2]) {
        const { k, arena } = await kernelsOn("plain", t);
        for (const chunk of [convChunkImages(g, B), 1]) {
          arena.reset();
          const x = arena.put(xs), w = arena.put(ws), b = arena.put(bs), y = arena.alloc(ny);
          const dy = arena.put(dys), dx = arena.alloc(nx), dw = arena.put(dw0), db = arena.put(db0);
          const scratch = arena.scratch(k.convScratchBytes(g, chunk));
          k.convForward({ y, x, w, b, batch: B, geometry: g, chunk, scratch });
          k.convBackward({ dx, dw, db, dy, x, w, y, batch: B, geometry: g, chunk, scratch });
          expectSameBits(bitsOf(arena.get(dw, nw)), bitsOf(want.dw), `B = ${B}, C = ${C}, ${t} threads, chunk ${chunk}: dw`);
          expectSameBits(bitsOf(arena.get(db, Co)), bitsOf(want.db), `B = ${B}, C = ${C}, ${t} threads, chunk ${chunk}: db`);
        }
        if (t > 1) k.dispose();
      }
    }
  });
});

// im2col (a copy) and col2im (a scatter-add) at a shape with pads on every
// side, stride 2 × 1 and a kernel wider than the stride, so patches overlap.
const G = { nb: 5, Hi: 21, Wi: 17, Ci: 5, Hp: 11, Wp: 18, kh: 3, kw: 2, sh: 2, sw: 1, pt: 1, pl: 1 };
function im2colRef(img: Float32Array): Float64Array {
  const { nb, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl } = G, kc = kh * kw * Ci;
  const out = new Float64Array(nb * Hp * Wp * kc);
  for (let n = 0; n < nb; n++) for (let oy = 0; oy < Hp; oy++) for (let ox = 0; ox < Wp; ox++) {
    for (let ty = 0; ty < kh; ty++) for (let tx = 0; tx < kw; tx++) for (let c = 0; c < Ci; c++) {
      const iy = oy * sh - pt + ty, ix = ox * sw - pl + tx;
      const inside = iy >= 0 && iy < Hi && ix >= 0 && ix < Wi;
      out[((n * Hp + oy) * Wp + ox) * kc + (ty * kw + tx) * Ci + c] = inside ? img[((n * Hi + iy) * Wi + ix) * Ci + c] : 0;
    }
  }
  return out;
}
function col2imRef(img0: Float32Array, cols: Float32Array): Float64Array {
  const { nb, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl } = G, kc = kh * kw * Ci;
  const out = Float64Array.from(img0);
  for (let n = 0; n < nb; n++) for (let oy = 0; oy < Hp; oy++) for (let ox = 0; ox < Wp; ox++) {
    for (let ty = 0; ty < kh; ty++) for (let tx = 0; tx < kw; tx++) for (let c = 0; c < Ci; c++) {
      const iy = oy * sh - pt + ty, ix = ox * sw - pl + tx;
      if (iy >= 0 && iy < Hi && ix >= 0 && ix < Wi) out[((n * Hi + iy) * Wi + ix) * Ci + c] += cols[((n * Hp + oy) * Wp + ox) * kc + (ty * kw + tx) * Ci + c];
    }
  }
  return out;
}

describe.each(["plain", "relaxed"] as const)("im2col and col2im on threads, %s build", (build) => {
  it("split by rows: against float64, and the bits of one thread on 2 and 3 threads", async () => {
    const { nb, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl } = G;
    const nImg = nb * Hi * Wi * Ci, nCols = nb * Hp * Wp * kh * kw * Ci;
    const img = randomArray(nImg, 21), cols = randomArray(nCols, 22), img0 = randomArray(nImg, 23);
    const results: { cols: Float32Array; img: Float32Array }[] = [];
    for (const t of [1, 2, 3]) {
      const k = t === 1 ? await load(build) : await loadThreadedKernels({ build, threads: t });
      const pool = k.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      const arena = new Arena(k, 1 << 20);
      const pImg = arena.put(img), pCols = arena.alloc(nCols);
      k.raw.conv_im2col(pCols, pImg, nb, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl);
      const gotCols = arena.get(pCols, nCols);
      const pAcc = arena.put(img0), pSrc = arena.put(cols);
      const before = pool?.stats().splitCalls ?? 0;
      k.raw.conv_col2im_acc(pAcc, pSrc, nb, Hi, Wi, Ci, Hp, Wp, kh, kw, sh, sw, pt, pl);
      // split: the row-range tasks ran (on whichever threads claimed them; on a busy
      // machine the calling thread may claim them all before a worker wakes)
      if (pool) expect(pool.stats().splitCalls, "col2im was split").toBeGreaterThan(before);
      results.push({ cols: gotCols, img: arena.get(pAcc, nImg) });
      if (t > 1) k.dispose();
    }
    expectSameBits(bitsOf(results[0].cols), bitsOf(Float32Array.from(im2colRef(img))), "im2col vs the copy it should be");
    expectClose(results[0].img, col2imRef(img0, cols), 1e-6, "col2im vs float64");
    for (const [i, r] of results.slice(1).entries()) {
      expectSameBits(bitsOf(r.cols), bitsOf(results[0].cols), `im2col, ${i + 2} threads vs one`);
      expectSameBits(bitsOf(r.img), bitsOf(results[0].img), `col2im, ${i + 2} threads vs one`);
    }
  });
});

// Kernels on t threads (1: the unshared build), every call split, and an arena.
async function kernelsOn(build: "plain" | "relaxed", t: number) {
  const k = t === 1 ? await load(build) : await loadThreadedKernels({ build, threads: t });
  const pool = k.threadsHandle as ThreadPool | null;
  pool?.tune({ minWork: 0 });
  return { k, pool, arena: new Arena(k, 16 << 20) };
}

// A layer case's geometry, sizes and random operands (seeds from `seed` up).
function caseData(c: { kind: ConvKind; B: number; inShape: [number, number, number]; s: ConvSettings }, seed: number) {
  const g = convGeometry(c.kind, c.inShape, c.s);
  const nx = c.B * g.inH * g.inW * g.inC, ny = c.B * g.outH * g.outW * g.outC, nw = g.kh * g.kw * g.inC * g.outC;
  return {
    g, nx, ny, nw, xs: randomArray(nx, seed), ws: randomArray(nw, seed + 10, -0.3, 0.3), bs: randomArray(g.outC, seed + 20),
    dys: randomArray(ny, seed + 30), dw0: randomArray(nw, seed + 40), db0: randomArray(g.outC, seed + 50),
  };
}

// The one-channel kernels (conv2d Cin = 1, conv2d_transpose Cout = 1) split
// over threads: the transposed forward by images, its backward by batch
// groups (g, db, dw and the group's dx rows in one task), the Cin = 1 conv2d
// forward by rows, its backward's dw by groups and its dx by images. Channel
// counts cross the kernels' 8-, 4-wide and scalar columns (13, 37); against
// float64 and bit for bit on 1, 2 and 3 threads, dw accumulated onto dw0 and
// written (accumulate: false).
type OneCase = { kind: ConvKind; B: number; inShape: [number, number, number]; s: ConvSettings };
const ONE: OneCase[] = [
  { kind: "conv2d_transpose", B: 3, inShape: [28, 28, 32], s: { filters: 1, kernel: 3, stride: 1, padding: "same" } },
  { kind: "conv2d_transpose", B: 5, inShape: [6, 7, 13], s: { filters: 1, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d_transpose", B: 2, inShape: [5, 4, 37], s: { filters: 1, kernel: 2, stride: 1, padding: "valid" } },
  { kind: "conv2d", B: 3, inShape: [28, 28, 1], s: { filters: 32, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d", B: 5, inShape: [9, 8, 1], s: { filters: 13, kernel: 3, stride: 1, padding: "same" } },
];
describe.each(["plain", "relaxed"] as const)("one-channel conv kernels on threads, %s build", (build) => {
  it("against float64, and the bits of one thread on 2 and 3 threads (sigmoid forward, dw accumulated and written)", async () => {
    const tol = build === "plain" ? 1e-5 : 1e-4;
    const results = new Map<OneCase, Float32Array[][]>();
    for (const t of [1, 2, 3]) {
      const { k, pool, arena } = await kernelsOn(build, t);
      for (const [i, c] of ONE.entries()) {
        const { g, nx, ny, nw, xs, ws, bs, dys, dw0, db0 } = caseData(c, 40 + i);
        arena.reset();
        const x = arena.put(xs), w = arena.put(ws), b = arena.put(bs), y = arena.alloc(ny);
        const dy = arena.put(dys), dx = arena.alloc(nx), dw = arena.put(dw0), db = arena.put(db0);
        const chunk = convChunkImages(g, c.B);
        const scratch = arena.scratch(k.convScratchBytes(g, chunk));
        const before = pool?.stats().splitCalls ?? 0;
        k.convForward({ y, x, w, b, batch: c.B, geometry: g, activation: "sigmoid", chunk, scratch });
        const ySig = arena.get(y, ny);
        k.convForward({ y, x, w, b, batch: c.B, geometry: g, chunk, scratch });
        const yId = arena.get(y, ny);
        k.convBackward({ dx, dw, db, dy, x, w, y, batch: c.B, geometry: g, chunk, scratch });
        const got = [ySig, yId, arena.get(dx, nx), arena.get(dw, nw), arena.get(db, g.outC)];
        // written, not accumulated
        k.f32(dy, ny).set(dys);
        k.convBackward({ dx, dw, db, dy, x, w, y, batch: c.B, geometry: g, accumulate: false, chunk, scratch });
        got.push(arena.get(dw, nw));
        if (pool) expect(pool.stats().splitCalls, `${c.kind} ${c.inShape}: split`).toBeGreaterThan(before + 3);
        if (t === 1) {
          const ref = (c.kind === "conv2d" ? conv2dRef : conv2dTransposeRef)(xs, ws, bs, c.B, g, "sigmoid");
          expectClose(got[0], ref.y, tol, `${c.kind} y (sigmoid)`);
          expectClose(got[1], ref.pre, tol, `${c.kind} y`);
          const want = convBackwardRef(c.kind === "conv2d_transpose", dys, xs, ws, c.B, g);
          expectClose(got[2], want.dx, tol, `${c.kind} dx`);
          // dw and db sum one term per patch row in f32 (2,352 at 3 × 28 × 28): n·2⁻²⁴ relative at worst
          const rows = c.B * (c.kind === "conv2d" ? g.outH * g.outW : g.inH * g.inW), tolSum = Math.max(tol, rows * 2 ** -24);
          expectClose(got[3], Float64Array.from(want.dw, (v, j) => v + dw0[j]), tolSum, `${c.kind} dw = dw0 + ∂L/∂w`);
          expectClose(got[4], Float64Array.from(want.db, (v, j) => v + db0[j]), tolSum, `${c.kind} db = db0 + ∂L/∂b`);
          expectClose(got[5], want.dw, tolSum, `${c.kind} dw (accumulate: false)`);
          results.set(c, [got]);
        } else {
          const one = results.get(c)![0];
          for (const [j, what] of ["y sigmoid", "y", "dx", "dw", "db", "dw written"].entries()) {
            expectSameBits(bitsOf(got[j]), bitsOf(one[j]), `${c.kind} ${c.inShape} ${what}: ${t} threads vs one`);
          }
        }
      }
      if (t > 1) k.dispose();
    }
  });
});

// The multi-channel layer kernels on threads: one job per call (tasks take
// chunks or batch groups in turn, each in its own slot). Shapes with groups
// of unequal size (B = 7 over 7 groups of one image; B = 21 over 16 groups of
// one or two), a batch of one (one unit: its task's kernels split as usual)
// and dx skipped; each at the default chunk and at 1 image per chunk, on 1,
// 2, 3 and 5 threads (more threads than slots); against float64 on one
// thread, then bit for bit. dw / db accumulated onto dw0 / db0, then written.
type MultiCase = { kind: ConvKind; B: number; inShape: [number, number, number]; s: ConvSettings; noDx?: boolean };
const MULTI: MultiCase[] = [
  { kind: "conv2d", B: 7, inShape: [9, 8, 5], s: { filters: 12, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d_transpose", B: 21, inShape: [5, 4, 7], s: { filters: 9, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d", B: 1, inShape: [10, 10, 6], s: { filters: 8, kernel: 3, stride: 1, padding: "same" } },
  { kind: "conv2d_transpose", B: 1, inShape: [6, 6, 8], s: { filters: 6, kernel: 3, stride: 2, padding: "same" } },
  { kind: "conv2d", B: 9, inShape: [8, 8, 3], s: { filters: 16, kernel: 3, stride: 1, padding: "valid" }, noDx: true },
  // one channel on the patch side, backward by groups too: without dx, and conv2d with C = 1 with it
  { kind: "conv2d_transpose", B: 4, inShape: [7, 6, 5], s: { filters: 1, kernel: 3, stride: 2, padding: "same" }, noDx: true },
  { kind: "conv2d", B: 6, inShape: [9, 9, 1], s: { filters: 5, kernel: 3, stride: 2, padding: "same" } },
  // one image's cols is 2.4 MB: a 4.7 MB slot, so one slot (the call is one task, its kernels split by tiles)
  { kind: "conv2d", B: 2, inShape: [64, 64, 16], s: { filters: 8, kernel: 3, stride: 1, padding: "same" } },
];
describe.each(["plain", "relaxed"] as const)("multi-channel conv layer kernels on threads, %s build", (build) => {
  it("against float64, and the bits of one thread at every chunk on 2, 3 and 5 threads", async () => {
    const tol = build === "plain" ? 1e-5 : 1e-4;
    const first = new Map<MultiCase, Float32Array[]>();
    for (const t of [1, 2, 3, 5]) {
      const { k, pool, arena } = await kernelsOn(build, t);
      for (const [i, c] of MULTI.entries()) {
        const { g, nx, ny, nw, xs, ws, bs, dys, dw0, db0 } = caseData(c, 140 + i);
        for (const chunk of [convChunkImages(g, c.B), 1]) {
          arena.reset();
          const x = arena.put(xs), w = arena.put(ws), b = arena.put(bs), y = arena.alloc(ny);
          const dy = arena.put(dys), dx = c.noDx ? null : arena.alloc(nx), dw = arena.put(dw0), db = arena.put(db0);
          expect(k.convScratchBytes(g, chunk), "the planner's mirror").toBe(convScratchBytes(g, chunk));
          const scratch = arena.scratch(k.convScratchBytes(g, chunk));
          const before = pool?.stats().splitCalls ?? 0;
          k.convForward({ y, x, w, b, batch: c.B, geometry: g, chunk, scratch });
          const yId = arena.get(y, ny);
          k.convBackward({ dx, dw, db, dy, x, w, y, batch: c.B, geometry: g, chunk, scratch });
          const got = [yId, dx === null ? new Float32Array(0) : arena.get(dx, nx), arena.get(dw, nw), arena.get(db, g.outC)];
          k.f32(dy, ny).set(dys);
          k.convBackward({ dx, dw, db, dy, x, w, y, batch: c.B, geometry: g, accumulate: false, chunk, scratch });
          got.push(arena.get(dw, nw), arena.get(db, g.outC));
          const what = `${c.kind} B=${c.B} ${c.inShape} chunk ${chunk}, ${t} threads`;
          if (pool) expect(pool.stats().splitCalls, `${what}: split`).toBeGreaterThan(before + 2);
          const one = first.get(c);
          if (!one) {
            const ref = (c.kind === "conv2d" ? conv2dRef : conv2dTransposeRef)(xs, ws, bs, c.B, g, "identity");
            expectClose(got[0], ref.pre, tol, `${what}: y`);
            const want = convBackwardRef(c.kind === "conv2d_transpose", dys, xs, ws, c.B, g);
            if (!c.noDx) expectClose(got[1], want.dx, tol, `${what}: dx`);
            const rows = c.B * (c.kind === "conv2d" ? g.outH * g.outW : g.inH * g.inW), tolSum = Math.max(tol, rows * 2 ** -24);
            expectClose(got[2], Float64Array.from(want.dw, (v, j) => v + dw0[j]), tolSum, `${what}: dw = dw0 + ∂L/∂w`);
            expectClose(got[3], Float64Array.from(want.db, (v, j) => v + db0[j]), tolSum, `${what}: db = db0 + ∂L/∂b`);
            expectClose(got[4], want.dw, tolSum, `${what}: dw (accumulate: false)`);
            expectClose(got[5], want.db, tolSum, `${what}: db (accumulate: false)`);
            first.set(c, got);
          } else {
            for (const [j, name] of ["y", "dx", "dw", "db", "dw written", "db written"].entries()) {
              expectSameBits(bitsOf(got[j]), bitsOf(one[j]), `${what}: ${name} vs one thread at the default chunk`);
            }
          }
        }
      }
      if (t > 1) k.dispose();
    }
  });
});
