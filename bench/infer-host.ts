// `tsx bench/infer-host.ts [--build plain|relaxed] [--threads 1|2] [--batches 1,128] [--base-src <dir> --base <wasm dir>]`:
// where VAE.reconstruct's time goes on the MLP VAE (784-400-20-400-784):
// one call is recorded (every kernel export called, with its arguments),
// then, in interleaved rounds, the whole call and a replay of the recorded
// kernel calls alone (the same exports, arguments and memory, no TypeScript
// between them) are timed; host = call − replay: validation, copies, the
// output allocation and the TypeScript between kernels. Per kernel, the
// replay's own time (CPU time per call, medians over rounds); last, the call
// with every kernel export a no-op: the host part alone, without the noise of
// a difference (first_outside answers "all in range"). With --base-src
// (another checkout's src/, say main's) and --base (its four build/vae.*.wasm),
// that library is measured instead.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadMnist, VAE, type Build } from "../src/index.js";
import { flag, median } from "./common.js";
import { recordKernelCalls } from "./replay.js";
import type { ThreadPool } from "../src/threads/pool.js";

const build = String(flag("build") ?? "plain") as Build, threads = Number(flag("threads") ?? 1);
const BATCHES = String(flag("batches") ?? "1,128").split(",").map(Number);
const ROUNDS = Number(flag("rounds") ?? 15);
const mnist = await loadMnist({ limit: 1024 });
const baseSrc = flag("base-src") === undefined ? null : resolve(String(flag("base-src")));
const Lib: typeof VAE = baseSrc ? (await import(pathToFileURL(join(baseSrc, "index.ts")).href)).VAE : VAE;
const wasm = baseSrc ? Object.fromEntries(["plain", "relaxed", "plain.shared", "relaxed.shared"].map((v) => [v, readFileSync(join(String(flag("base")), `vae.${v}.wasm`))])) : undefined;
if (baseSrc) console.log(`library: ${baseSrc} with the wasm in ${flag("base")}`);
const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e3; };
for (const B of BATCHES) {
  const v = await Lib.create({ inputDim: 784, encoder: [400], latentDim: 20, seed: 0, maxBatch: 128 }, { build, threads, wasm });
  const x = mnist.images.subarray(0, B * 784);
  const calls = recordKernelCalls(v.kernels, () => v.reconstruct(x));
  const replay = () => { for (const c of calls) c.run(); };
  const per = Math.max(4, Math.round(2000 / B));
  const call: number[] = [], rep: number[] = [], each: number[][] = calls.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    let c0 = cpu();
    for (let i = 0; i < per; i++) v.reconstruct(x);
    call.push((cpu() - c0) / per);
    c0 = cpu();
    for (let i = 0; i < per; i++) replay();
    rep.push((cpu() - c0) / per);
    calls.forEach((c, j) => { const c1 = cpu(); for (let i = 0; i < per; i++) c.run(); each[j].push((cpu() - c1) / per); });
  }
  // on 2+ threads: the split calls (the pool's counters) against the call's wall time
  const pool = v.kernels.threadsHandle as ThreadPool | null;
  if (pool) {
    const s0 = pool.stats(), t0 = performance.now();
    for (let i = 0; i < per * 3; i++) v.reconstruct(x);
    const wall = (performance.now() - t0) / (per * 3), s1 = pool.stats(), n = per * 3;
    const splitMs = (s1.splitMs - s0.splitMs) / n;
    console.log(`B=${B} ${build} ${threads}t: wall ${wall.toFixed(4)} ms per call; ${((s1.splitCalls - s0.splitCalls) / n).toFixed(1)} split calls, ${splitMs.toFixed(4)} ms in them ` +
      `(${((s1.waitMs - s0.waitMs) / n).toFixed(4)} ms waiting for the other thread), ${(wall - splitMs).toFixed(4)} ms on one thread`);
  }
  // the host part on its own: the call with every kernel a no-op (first_outside: "all in range")
  const raw = v.kernels.raw as unknown as Record<string, unknown>;
  const saved = Object.entries(raw).filter(([n, f]) => typeof f === "function" && !n.startsWith("threads_") && n !== "heap_base");
  for (const [n] of saved) raw[n] = n === "first_outside" ? () => -1 : () => undefined;
  const stub: number[] = [];
  for (let r = 0; r < ROUNDS; r++) { const c0 = cpu(); for (let i = 0; i < per; i++) v.reconstruct(x); stub.push((cpu() - c0) / per); }
  for (const [n, f] of saved) raw[n] = f;
  const d = B <= 2 ? 4 : 3;
  console.log(`B=${B} ${build} ${threads}t: the call with no-op kernels (the host part alone) ${median(stub).toFixed(d)} ms`);
  console.log(`B=${B} ${build} ${threads}t: call ${median(call).toFixed(d)} ms, kernels replayed ${median(rep).toFixed(d)} ms, host ${(median(call) - median(rep)).toFixed(d)} ms (CPU per call)`);
  calls.forEach((c, j) => console.log(`  ${c.name}(${c.args.slice(4, 7).join(", ")}…): ${median(each[j]).toFixed(d)} ms`));
  v.dispose();
}
process.exit(0);
