// The GEMMs of a conv2d_transpose backward in two orientations, timed alone on
// one thread by CPU time (medians), both builds, with a bit-for-bit check
// that the two give the same floats:
//   dw (kc, C) = colsᵀ·x   (transA: cols (rows, kc) packed by scalar gathers)
//   dwᵀ (C, kc) = xᵀ·cols  (A = x: M = C rows; B = cols packed by vector loads)
//   dx (rows, C) = cols·w  (A = cols packed by scalar strided stores)
//   dxᵀ (C, rows) = wᵀ·colsᵀ (A = w; B = cols by 4×4 register transposes)
// Each product timed alone (16 calls per sample, medians of --reps samples), one after the other:
// compare GFLOP/s within a run. ms/step = the calls of one B = 128 step (1-thread chunks).
//   npx tsx bench/conv-gemm-orient.ts [--reps 15]
import { loadKernels } from "../src/kernels/wasm.js";
import { flag } from "./common.js";

const REPS = Number(flag("reps") ?? 15);
// per chunk: rows = nb·H·W, kc = 9·Co, C = Cin (the Keras conv VAE's two decoder layers, 1-thread chunks)
const LAYERS = [
  { name: "convT 14²×64→28²×32, 1 image", rows: 196, kc: 288, C: 64, pixels: 196 },
  { name: "convT 7²×64→14²×64, 2 images", rows: 98, kc: 576, C: 64, pixels: 49 },
];
const cpuMed = (f: () => void) => {
  for (let i = 0; i < 3; i++) f();
  const t: number[] = [];
  for (let i = 0; i < REPS; i++) { const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); t.push((c.user + c.system) / 1000); }
  return t.sort((a, b) => a - b)[t.length >> 1];
};
for (const build of ["plain", "relaxed"] as const) {
  const k = await loadKernels({ build });
  const r = k.raw as unknown as Record<string, (...a: number[]) => number>;
  for (const L of LAYERS) {
    const { rows, kc, C } = L;
    const chunks = 128 * L.pixels / rows;   // calls per B = 128 step
    let p = k.base;
    const al = (n: number) => { const q = p; p += Math.ceil(n * 4 / 64) * 64; return q; };
    const cols = al(rows * kc), x = al(rows * C), w = al(kc * C), o1 = al(Math.max(rows, kc) * C), o2 = al(Math.max(rows, kc) * C);
    const sc = al(Number(r.gemm_scratch_bytes(Math.max(rows, kc, C), Math.max(rows, kc))) / 4);
    k.reserve(p - k.base + 64);
    const mem = () => new Float32Array(k.raw.memory.buffer);
    let s = 1;
    const rnd = () => { s = (s * 1103515245 + 12345) >>> 0; return s / 2 ** 32 - 0.5; };
    for (const [ptr, n] of [[cols, rows * kc], [x, rows * C], [w, kc * C]]) { const m = mem(); for (let i = 0; i < n; i++) m[ptr / 4 + i] = rnd(); }
    const dw = () => r.gemm(o1, cols, x, 0, kc, rows, C, 1, 0, 0, sc);
    const dwT = () => r.gemm(o2, x, cols, 0, C, rows, kc, 1, 0, 0, sc);
    const dx = () => r.gemm(o1, cols, w, 0, rows, kc, C, 0, 0, 0, sc);
    const dxT = () => r.gemm(o2, w, cols, 0, C, kc, rows, 1, 1, 0, sc);
    // same bits?
    const same = (M: number, N: number) => { const m = mem(); for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) if (!Object.is(m[o1 / 4 + i * N + j], m[o2 / 4 + j * M + i])) return false; return true; };
    dw(); dwT(); const sw = same(kc, C); dx(); dxT(); const sx = same(rows, C);
    const flop = 2 * rows * kc * C;
    const res: string[] = [];
    for (const [n, f] of [["dw colsᵀ·x", dw], ["dwᵀ xᵀ·cols", dwT], ["dx cols·w", dx], ["dxᵀ wᵀ·colsᵀ", dxT]] as const) {
      const t = cpuMed(() => { for (let i = 0; i < 16; i++) f(); }) / 16;
      res.push(`${n} ${(t * chunks).toFixed(2)} ms/step (${(flop / t / 1e6).toFixed(1)} GFLOP/s)`);
    }
    console.log(`${build} ${L.name}: same bits dw ${sw} dx ${sx}\n  ${res.join("\n  ")}`);
  }
}
