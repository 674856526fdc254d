// `tsx bench/conv-one-ab.ts --base <dir>`: the Keras conv VAE's one-channel
// output layer (conv2d_transpose 28×28×32 → 28×28×1, 3×3, stride 1, "same",
// B = 128) alone: forward, backward without dx (dW, db) and backward, this
// checkout's kernels against a base build's (the wasm files in <dir>, as
// bench/ab.ts) on 1 thread, and this checkout's on 2 threads, in interleaved
// rounds in one process (--rounds 15); medians of wall and CPU ms per call.
// Outputs are compared bit for bit first. --spin N: the 2-thread workers'
// spin before sleeping (default 0: CPU time is the work, not spinning).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadKernels, type Kernels } from "../src/kernels/wasm.js";
import { loadThreadedKernels } from "../src/threads/threads.js";
import { convGeometry, convScratchBytes } from "../src/kernels/conv-shape.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { flag, median } from "./common.js";

const baseDir = String(flag("base") ?? "");
if (!baseDir) throw new Error("usage: tsx bench/conv-one-ab.ts --base <dir with the vae.*.wasm files>");
const ROUNDS = Number(flag("rounds") ?? 15);
const B = 128;
const g = convGeometry("conv2d_transpose", [28, 28, 32], { filters: 1, kernel: 3, stride: 1, padding: "same" });
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
for (const build of ["plain", "relaxed"] as const) {
  const base = await loadKernels({ build, wasm: { [build]: readFileSync(join(baseDir, `vae.${build}.wasm`)) } });
  const ours = await loadKernels({ build });
  const two = await loadThreadedKernels({ build, threads: 2 });
  (two.threadsHandle as ThreadPool).tune({ spinUs: Number(flag("spin") ?? 0) });
  const ks: [string, Kernels][] = [["base 1t", base], ["this 1t", ours], ["this 2t", two]];
  const setups = ks.map(([, k]) => {
    let p = k.base;
    const al = (n: number) => { const q = p; p += Math.ceil(n * 4 / 64) * 64; return q; };
    const nx = B * 28 * 28 * 32, ny = B * 28 * 28;
    const x = al(nx), w = al(9 * 32), b = al(1), y = al(ny), dy = al(ny), dx = al(nx), dw = al(9 * 32), db = al(1);
    const scratch = al(convScratchBytes(g, 4) / 4);
    k.reserve(p - k.base);
    const m = new Float32Array(k.raw.memory.buffer);
    for (let i = x / 4; i < scratch / 4; i++) m[i] = Math.sin(i - x / 4) * 0.5;
    const a = { y, x, w, b, batch: B, geometry: g, chunk: 4, scratch };
    return {
      fwd: () => k.convForward(a),
      "bwd (no dx)": () => k.convBackward({ ...a, dx: null, dw, db, dy, accumulate: false }),
      bwd: () => k.convBackward({ ...a, dx, dw, db, dy, accumulate: false }),
      out: () => [...k.f32(y, ny), ...k.f32(dx, nx), ...k.f32(dw, 9 * 32), ...k.f32(db, 1)],
    };
  });
  for (const s of setups) { s.fwd(); s.bwd(); }
  const ref = setups[0].out();
  const same = setups.map((s) => s.out().every((v, i) => Object.is(v, ref[i])));
  const names = ["fwd", "bwd (no dx)", "bwd"] as const;
  const wall = new Map<string, number[]>(), cpu = new Map<string, number[]>();
  const l0 = load();
  for (let r = 0; r < ROUNDS; r++) {
    for (let j0 = 0; j0 < ks.length; j0++) {
      const j = (j0 + r) % ks.length;
      for (const n of names) {
        const key = `${ks[j][0]} ${n}`;
        const c0 = process.cpuUsage(), t0 = performance.now();
        setups[j][n]();
        const w = performance.now() - t0, c = process.cpuUsage(c0);
        (wall.get(key) ?? wall.set(key, []).get(key)!).push(w);
        (cpu.get(key) ?? cpu.set(key, []).get(key)!).push((c.user + c.system) / 1e3);
      }
    }
  }
  console.log(`${build}: bits vs base: ${ks.map(([n], i) => `${n} ${same[i] ? "same" : "DIFFER"}`).join(", ")}; load ${l0} → ${load()}`);
  for (const n of names) {
    console.log(`  ${n}: ` + ks.map(([kn]) => `${kn} wall ${median(wall.get(`${kn} ${n}`)!).toFixed(2)} cpu ${median(cpu.get(`${kn} ${n}`)!).toFixed(2)}`).join(" | "));
  }
  two.dispose();
}
