// `npm run bench:limit`: how close to the machine each benchmark runs.
//   1. The ceiling, measured in this run (bench/ceiling.ts): a loop of
//      independent f32x4 multiply-adds, plain and relaxed, on 1 and 2 threads.
//   2. The MLP VAE step (784-400-20-400-784, Bernoulli, Adam, real MNIST,
//      B = 128 and 32): wasm-vae plain / relaxed on 1 and 2 threads, jax-js
//      (@jax-js/jax, wasm backend, one jit-compiled step; one thread: its
//      worker pool needs a global Worker, which Node lacks), tfjs-backend-wasm
//      (one thread), tfjs-backend-cpu and native PyTorch (Debian's
//      python3-torch on 1 and 2 threads, a child process: bench/torch-peer.ts,
//      bench/torch-vae.py), in interleaved rounds, after a gate: every peer's
//      loss and gradients from the same weights and ε agree with ours.
//   3. The GEMM shapes of that step, each checked against float64 first:
//      ours (1 and 2 threads), jax-js (jit), tfjs-wasm, PyTorch (1 and 2
//      threads: torch.addmm / torch.mm on transposed views, as its step runs
//      them).
//   3b. Inference: reconstruct (encoder mean → decoder → sigmoid) at B = 1 and
//      128, ours (plain / relaxed, 1 and 2 threads), tfjs-wasm (one tidy,
//      one read-back) and PyTorch (1 and 2 threads, the MLPVAE module under
//      torch.inference_mode), interleaved, after checking the outputs agree.
//   4. The Keras conv VAE step (--arch keras-conv, latent 2, B = 128), ours and
//      native PyTorch (1 and 2 threads, after the same gate), interleaved.
//   5. Where our steps go: every kernel call of the step timed (the exports
//      wrapped with a clock), with its flops and GFLOP/s, and for 2 threads
//      the time the calling thread spent in split calls and waiting.
// Every GFLOP/s figure is also given as a percentage of threads × the
// per-core ceiling of the build it runs (plain for the peers, whose wasm uses
// no relaxed multiply-add). Times are medians over rounds; each row carries
// the load average when it was measured and the CPU time the process got per
// wall time ("cores"), since other processes share these cores; the
// GFLOP/s per CPU-second figures are the ones least disturbed by them.
// Writes bench/results/limit.md and bench/results/limit.json.
//
// PyTorch times its own steps and calls (time.perf_counter / time.process_time
// in the child, one command of n steps or calls per round), so the pipe is not
// in its figures.
// Without PyTorch (it needs python3-torch: scripts/ensure-torch.mjs installs
// it with apt when missing), --no-torch leaves it out.
//
//   npm run bench:limit [-- --rounds 7] [-- --quick] [-- --no-conv] [-- --no-tfjs-cpu] [-- --no-torch] [-- --only step,gemm,infer,breakdown,conv] [-- --out /tmp/limit-trial]
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { presetLayers } from "../cli/src/presets.js";
import { loadMnist, VAE, type Build } from "../src/index.js";
import { loadKernels, type Kernels } from "../src/kernels/wasm.js";
import { loadThreadedKernels } from "../src/threads/threads.js";
import { checkRows } from "../src/model/rows.js";
import type { ThreadPool } from "../src/threads/pool.js";
import { gemmRef, randomArray, randomNormals } from "../tests/reference.js";
import { ACCUMULATORS, CeilingPool, type CeilingBuild } from "./ceiling.js";
import { clockKernels, type KernelTime } from "./clock.js";
import { recordKernelCalls } from "./replay.js";
import { describeMachine, flag, machine, mdTable, median, relError, ROOT, useBackend } from "./common.js";
import { initJax, JaxVAE, jaxThreads } from "./jax-vae.js";
import { TfVAE } from "./tfjs-vae.js";
import { TorchPeer, type TorchInfo, type TorchTimes } from "./torch-peer.js";

const quick = flag("quick") === true;
const ROUNDS = Number(flag("rounds") ?? (quick ? 3 : 7));
// a failed gate or a peer that stopped: its message, not a stack trace (TORCH_PEER_TRACE=1 prints the child's)
for (const ev of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(ev, (e) => { console.error(`bench/limit.ts: stopping: ${e instanceof Error ? e.message : String(e)}`); process.exit(1); });
}
/** --from <limit.json>: write the report again from a run's JSON, measuring nothing. */
const FROM = flag("from") === undefined ? null : JSON.parse(readFileSync(String(flag("from")), "utf8"));
const ONLY = new Set(FROM ? [] : String(flag("only") ?? "step,gemm,infer,breakdown,conv").split(","));
const withConv = flag("no-conv") !== true && ONLY.has("conv");
const withTfCpu = flag("no-tfjs-cpu") !== true && !quick;
const withTorch = !FROM && flag("no-torch") !== true && (["step", "gemm", "infer"].some((x) => ONLY.has(x)) || withConv);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const log = (s: string) => console.log(s);
const f1 = (x: number) => x.toFixed(1), f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const m0 = FROM ? FROM.machine : machine();
log(`machine: ${describeMachine(m0)}`);
// native PyTorch is a peer of the step, GEMM, inference and conv sections: installed (apt) if missing, before anything is timed
if (withTorch) {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "ensure-torch.mjs")], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error("bench/limit.ts: stopping: native PyTorch, a peer of the step, GEMM, inference and conv sections, is not available (see above). " +
      "Run with --no-torch to leave it out.");
    process.exit(1);
  }
}

// ------------------------------------------------------------------ ceiling
interface Ceil { build: CeilingBuild; threads: number; gflops: number; perCpuSecond: number; cores: number; accumulators: number; load: string }
const ceilings: Ceil[] = FROM ? FROM.ceilings : [];
if (!FROM) {
  const pool = new CeilingPool(2);
  const trips = quick ? 2_000_000 : 6_000_000;
  for (const build of ["plain", "relaxed"] as const) {
    for (const threads of [1, 2]) {
      const l = load();
      let best: Ceil | null = null;
      for (const A of ACCUMULATORS) {
        const rs = [];
        for (let r = 0; r < ROUNDS; r++) rs.push(await pool.run(build, A, threads, trips));
        const c: Ceil = { build, threads, accumulators: A, load: l, gflops: median(rs.map((r) => r.gflops)),
          perCpuSecond: median(rs.map((r) => r.gflopsPerCpuSecond)), cores: median(rs.map((r) => r.cores)) };
        if (!best || c.perCpuSecond > best.perCpuSecond) best = c;
      }
      ceilings.push(best!);
      log(`ceiling ${build} ${threads}t: ${f1(best!.gflops)} GFLOP/s wall, ${f1(best!.perCpuSecond)} per CPU-second (${best!.accumulators} accumulators, ${f2(best!.cores)} cores; load ${l})`);
    }
  }
  await pool.dispose();
}
// The memory side of the machine in the same run: one thread copying a
// Float32Array (read + write counted) that stays in L2 (256 KiB) and one far
// past L3 (64 MiB). The ceiling loop touches no memory, so a slow hour that
// leaves it alone (other tenants on the host's caches and memory) shows here.
interface Copy { what: string; gbps: number }
const copies: Copy[] = FROM ? FROM.copies ?? [] : [];
if (!FROM) {
  for (const [what, bytes] of [["256 KiB (in L2)", 256 << 10], ["64 MiB (past L3)", 64 << 20]] as const) {
    const src = new Float32Array(bytes / 4).fill(1), dst = new Float32Array(bytes / 4);
    const reps = Math.max(3, Math.round((256 << 20) / bytes));
    for (let i = 0; i < reps; i++) dst.set(src);
    const rs = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) dst.set(src);
      rs.push((2 * bytes * reps) / ((performance.now() - t0) / 1e3) / 1e9);
    }
    copies.push({ what, gbps: median(rs) });
    log(`copy ${what}: ${f1(median(rs))} GB/s (read + write, one thread)`);
  }
}
/** Per-core ceiling of a build: its one-thread loop per CPU-second. */
const CORE: Record<CeilingBuild, number> = {
  plain: ceilings.find((c) => c.build === "plain" && c.threads === 1)!.perCpuSecond,
  relaxed: ceilings.find((c) => c.build === "relaxed" && c.threads === 1)!.perCpuSecond,
};
const ofMachine = (gflops: number, build: CeilingBuild, threads: number) => gflops / (threads * CORE[build]);

// ------------------------------------------------------------------ timing
interface Timed { ms: number; cpuMs: number; cores: number }
/** Median over rounds of the mean wall and CPU ms per call; fns alternate
 *  within each round. */
function interleave(fns: (() => unknown)[], perRound: number[], rounds = ROUNDS): Timed[] {
  fns.forEach((f, j) => { for (let i = 0; i < Math.max(2, perRound[j]); i++) f(); });
  const wall = fns.map(() => [] as number[]), cpu = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((f, j) => {
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let i = 0; i < perRound[j]; i++) f();
      const w = performance.now() - t0, c = process.cpuUsage(c0);
      wall[j].push(w / perRound[j]);
      cpu[j].push((c.user + c.system) / 1e3 / perRound[j]);
    });
  }
  return fns.map((_, j) => ({ ms: median(wall[j]), cpuMs: median(cpu[j]), cores: median(cpu[j]) / median(wall[j]) }));
}

// --------------------------------------------------------------------- MLP
const mnist = FROM ? { count: 0, images: new Float32Array(0) } : await loadMnist({ limit: 4096 });
const batchOf = (B: number, i: number) => {
  const s = (i * B) % (mnist.count - B);
  return mnist.images.subarray(s * 784, (s + B) * 784);
};
const SPEC = { inputDim: 784, encoder: [400], latentDim: 20, decoder: [400] };
// the PyTorch children, one per thread count: started (torch imported) before the step rounds, given the same images
const TORCH_THREADS = [1, 2];
// OpenMP's wait policy, per section, PyTorch's faster one where it leaves our rows alone (measured here,
// bench/results/limit-*-omp-*.md): libgomp's default (spin a while after each parallel region, then sleep) for
// the MLP step, GEMMs and inference, whose many short regions follow each other (MLP step on 2 threads 5.54 ms,
// 8.57 with PASSIVE: limit-step-omp-default.md, -passive.md); PASSIVE for the conv step, where the default's
// spinning made PyTorch's own 2-thread step slower (160 and 188 ms against 118: limit-conv-omp-default-0428.md,
// -default.md, -passive.md) and ours in the same rounds 12–70% slower than without PyTorch (-none.md). A policy
// set in the environment is used everywhere.
const OMP_ENV = process.env.OMP_WAIT_POLICY;
function startTorch(ompWait?: "PASSIVE"): TorchPeer[] {
  const peers: TorchPeer[] = [];
  try {
    for (const threads of TORCH_THREADS) peers.push(TorchPeer.start(threads, OMP_ENV ? undefined : ompWait));
  } catch (e) {
    console.error(`bench/limit.ts: stopping: ${(e as Error).message}. Run with --no-torch to leave PyTorch out.`);
    process.exit(1);
  }
  for (const p of peers) p.images(mnist.images, mnist.count, 784);
  return peers;
}
const torchPeers: TorchPeer[] = withTorch && (ONLY.has("step") || ONLY.has("gemm") || ONLY.has("infer")) ? startTorch() : [];
const torchConvPeers: TorchPeer[] = withTorch && withConv ? startTorch("PASSIVE") : [];
if (withTorch) {
  const t = (torchPeers[0] ?? torchConvPeers[0]).info, ob = t.blas.openblas;
  log(`pytorch: torch ${t.torch} (${t.executable}, python ${t.python}), BLAS ${ob ? `${ob.config.split(" ").slice(0, 2).join(" ")} core ${ob.core}` : t.blas.libraries.join(", ") || "?"}, oneDNN ${t.mkldnn ? "on" : "off"}; ` +
    `children on ${TORCH_THREADS.join(" and ")} threads, OMP_WAIT_POLICY ${OMP_ENV ?? `default${torchConvPeers.length ? " (conv: PASSIVE)" : ""}`}`);
}
/** The PyTorch children's OMP_WAIT_POLICY per section, as the report states it. */
const ompPolicy: { mlp: string; conv: string } | null = FROM ? FROM.ompPolicy ?? null
  : withTorch ? { mlp: OMP_ENV ?? "libgomp's default", conv: OMP_ENV ?? "PASSIVE" } : null;
const torchInfo: TorchInfo | null = FROM ? FROM.torch ?? null : (torchPeers[0] ?? torchConvPeers[0])?.info ?? null;
/** A PyTorch peer of a section: its child (thread count), its model or call (checked against ours) and its rounds' own timings. */
interface TorchRun { peer: TorchPeer; id: string; threads: number; times: TorchTimes[] }
/** A PyTorch row's timing: medians over the last `rounds` commands of the child's per-step (per-call) means. */
/** Its CPU ms include what the child used after the command, until the next (OpenMP's spin after the last
 *  parallel region: as our 2-thread rows' CPU includes their workers' spin), spread over the command's n steps. */
const torchTimed = (r: TorchRun, rounds: number, n: number) => {
  const at = r.times.length - rounds, xs = r.times.slice(at);
  const cpu = xs.map((t, k) => t.cpuMs + (r.times[at + k + 1]?.idleCpuMs ?? median(xs.slice(1).map((u) => u.idleCpuMs ?? 0))) / n);
  // cores: inside the command only (the spin after it is outside its wall time)
  const ms = median(xs.map((t) => t.wallMs)), cpuMs = median(cpu);
  return { ms, cpuMs, cores: median(xs.map((t) => t.cpuMs)) / ms };
};
/** Per PyTorch row: the CPU its child used between its rounds (while ours and the other peers ran). */
const torchIdle: string[] = FROM ? FROM.torchIdle ?? [] : [];
function noteIdle(what: string, r: TorchRun, rounds: number): void {
  const xs = r.times.slice(-rounds).map((t) => t.idleCpuMs).filter((x): x is number => x !== null);
  if (!xs.length) return;
  torchIdle.push(`${what}, PyTorch ${r.threads} thread${r.threads > 1 ? "s" : ""}: ${median(xs).toFixed(2)} ms CPU per round (median; max ${Math.max(...xs).toFixed(2)})`);
  log(`pytorch idle ${torchIdle.at(-1)}`);
}
/** interleave() with PyTorch's rows after ours: each of `nodeFns` runs `per` times a round in this process; each
 *  PyTorch run is one command a round of `per` steps or calls, timed by its child (its interleave figure is
 *  replaced by the child's medians: torchTimed), then its model or call is dropped. Returns the timings in the
 *  order of nodeFns, then pts. */
function interleaveWithTorch(nodeFns: (() => unknown)[], pts: TorchRun[], per: number, what: "steps" | "calls", label: string,
                             rounds = ROUNDS): Timed[] {
  const fns = [...nodeFns, ...pts.map((p) => () => p.times.push(what === "steps" ? p.peer.steps(p.id, per) : p.peer.calls(p.id, per)))];
  const ts = interleave(fns, fns.map((_, j) => (j < nodeFns.length ? per : 1)), rounds);
  pts.forEach((p, k) => { ts[nodeFns.length + k] = torchTimed(p, rounds, per); noteIdle(label, p, rounds); p.peer.drop(p.id); });
  return ts;
}
/** The PyTorch rows' labels, in the order of pts. */
const torchWho = (pts: TorchRun[], who: string) => pts.map((p) => ({ who, build: "native" as const, threads: p.threads }));
/** The gate's check of a peer's loss and gradients against ours; throws when they disagree. */
function gateCheck(label: string, r: { loss: number; gradients: Record<string, Float32Array> }, g: { loss: number; gradients: Record<string, Float32Array> }): void {
  let worst = 0, at = "";
  for (const [n, a] of Object.entries(g.gradients)) {
    if (!r.gradients[n]) throw new Error(`gate failed: ${label} has no gradient ${n}`);
    const e = relError(r.gradients[n], a);
    if (!Number.isNaN(worst) && (Number.isNaN(e) || e > worst)) { worst = e; at = n; }
  }
  const lossRel = Math.abs(r.loss - g.loss) / Math.abs(g.loss);
  gates.push(`${label}: loss ${r.loss.toFixed(4)} vs ours ${g.loss.toFixed(4)} (rel ${lossRel.toExponential(1)}), worst gradient ${at} rel ${worst.toExponential(1)}`);
  log(`gate ${gates.at(-1)}`);
  if (!(lossRel <= 1e-4) || !(worst <= 1e-3)) throw new Error(`gate failed: ${gates.at(-1)}`);
}
/** The optimizer's gate: ours' weights after one Adam step (ref.optimizer, fresh, on the gradients its
 *  computeGradients left) against a peer's after its own first step from the same weights, batch and ε. The
 *  first step moves each weight by lr·g/(|g| + ε) ≈ ±lr, so where a gradient is tiny (|g| ≤ 1e-5 × its
 *  tensor's RMS gradient, or near Adam's ε) the peer's float order can give it another sign or size and the
 *  weight another move: such elements are counted, not failed; any other difference above 1e-3·lr fails. */
function adamGate(label: string, g: Record<string, Float32Array>, ours: Record<string, Float32Array>,
                  theirs: Record<string, Float32Array>, lr = 1e-3): void {
  let worst = 0, at = "", flips = 0, n = 0;
  for (const [name, a] of Object.entries(ours)) {
    const b = theirs[name], gr = g[name];
    if (!b || b.length !== a.length) throw new Error(`gate failed: ${label} has no weights ${name} of ${a.length} values`);
    let ss = 0;
    for (const v of gr) ss += v * v;
    const tiny = 1e-5 * Math.sqrt(ss / gr.length);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]) / lr;
      n++;
      if (!(d <= 1e-3)) {
        if (Math.abs(gr[i]) <= tiny) { flips++; continue; }
        if (!(d <= worst)) { worst = d; at = `${name}[${i}]`; }
      }
    }
  }
  gates.push(`${label}, one Adam step: worst weight difference ${at ? `${at} ${worst.toExponential(1)}` : "≤ 1e-3"}·lr, ${flips} of ${n} weights differ more on a gradient ≤ 1e-5 × its tensor's RMS`);
  log(`gate ${gates.at(-1)}`);
  if (at) throw new Error(`gate failed: ${gates.at(-1)}`);
}
/** ours' weights after one Adam step on the gradients `ref` holds (computeGradients just ran); ref is spent. */
function oursAfterAdam(ref: VAE): Record<string, Float32Array> {
  ref.optimizer.apply(ref);
  return ref.getWeights();
}
const mlp = (B: number) => ({ ...SPEC, activation: "relu" as const, likelihood: "bernoulli" as const, seed: 0, maxBatch: B });

/** Flops of one step of v (its kernels' multiply-adds), from one clocked step. */
function stepFlops(v: VAE, x: Float32Array): { flops: number; table: Map<string, KernelTime> } {
  const { table, undo } = clockKernels(v.kernels);
  v.trainStep(x);
  undo();
  let flops = 0;
  for (const e of table.values()) flops += e.flops;
  return { flops, table };
}

/** "native": PyTorch's own machine code (OpenBLAS, oneDNN: 256-bit FMA), put against the wasm plain ceiling. */
type StepBuild = CeilingBuild | "native";
const ceilingOf = (b: StepBuild): CeilingBuild => (b === "native" ? "plain" : b);
interface StepRow { who: string; build: StepBuild; threads: number; B: number; ms: number; cpuMs: number; cores: number; gflops: number; ofMachine: number; load: string }
const steps: StepRow[] = FROM ? FROM.steps : [];
const gates: string[] = FROM ? FROM.gates : [];
if (!FROM) { await initJax(); await useBackend("wasm"); }
for (const B of !ONLY.has("step") ? [] : quick ? [128] : [128, 32]) {
  const ours: { v: VAE; build: Build; threads: number }[] = [];
  for (const build of ["plain", "relaxed"] as const) {
    for (const threads of [1, 2]) {
      const v = await VAE.create(mlp(B), { build, threads });
      if (v.threads !== threads || v.build !== build) throw new Error(`asked for ${build} on ${threads} threads, got ${v.build} on ${v.threads}`);
      ours.push({ v, build, threads });
    }
  }
  const flops = stepFlops(ours[0].v, batchOf(B, 0)).flops;
  // gate: the peers' loss and gradients against ours, same weights and ε
  const ref = await VAE.create(mlp(B), { build: "plain", threads: 1 });
  const x0 = batchOf(B, 1), eps = Float32Array.from(randomNormals(B * 20, 5));
  const g = ref.computeGradients(x0, { noise: eps });
  const peers: { who: string; step: (i: number) => void }[] = [];
  const jx = new JaxVAE(SPEC, ref.getWeights());
  const tw = new TfVAE(SPEC, ref.getWeights(), "transpose-free");
  for (const [who, r] of [["jax-js", jx.computeGradients(x0, eps)], ["tfjs-wasm", tw.computeGradients(x0, eps)]] as const) gateCheck(`B=${B} ${who}`, r, g);
  // PyTorch: its own model per thread count (its own Adam state, as each of ours), same weights and ε
  const pts: TorchRun[] = [];
  const w0 = ref.getWeights();
  for (const peer of torchPeers) {
    const id = `mlp-B${B}`, threads = peer.threads;
    peer.create(id, { arch: "mlp", spec: SPEC }, B, w0, eps);
    gateCheck(`B=${B} pytorch ${threads} thread${threads > 1 ? "s" : ""}`, peer.grad(id, x0), g);
    pts.push({ peer, id, threads, times: [] });
  }
  if (pts.length) {
    const w1 = oursAfterAdam(ref);
    for (const p of pts) adamGate(`B=${B} pytorch ${p.threads} thread${p.threads > 1 ? "s" : ""}`, g.gradients, w1, p.peer.grad(p.id, x0, true).gradients);
  }
  peers.push({ who: "jax-js", step: (i) => jx.trainStep(batchOf(B, i), eps) });
  peers.push({ who: "tfjs-wasm", step: (i) => { tw.trainStep(batchOf(B, i), eps); } });
  ref.dispose();
  let i = 0;
  const per = Math.max(2, Math.round(1200 / B));
  const l = load();
  const ts = interleaveWithTorch([...ours.map((o) => () => o.v.trainStep(batchOf(B, i++))), ...peers.map((p) => () => p.step(i++))],
    pts, per, "steps", `MLP B = ${B}`);
  const who: { who: string; build: StepBuild; threads: number }[] = [...ours.map((o) => ({ who: "wasm-vae", build: o.build as CeilingBuild, threads: o.threads })),
    { who: "jax-js", build: "plain" as const, threads: jaxThreads() }, { who: "tfjs-wasm", build: "plain" as const, threads: 1 },
    ...torchWho(pts, "pytorch")];
  ts.forEach((t, j) => {
    const gflops = flops / t.ms / 1e6;
    steps.push({ ...who[j], B, ...t, gflops, ofMachine: ofMachine(gflops, ceilingOf(who[j].build), who[j].threads), load: l });
    log(`step B=${B} ${who[j].who} ${who[j].build} ${who[j].threads}t: ${f2(t.ms)} ms (cpu ${f2(t.cpuMs)} ms, ${f2(t.cores)} cores), ${f1(gflops)} GFLOP/s, ${pct(steps.at(-1)!.ofMachine)} of the ${who[j].build === "native" ? "wasm plain ceiling" : "machine"}; load ${l}`);
  });
  if (withTfCpu && B === 128) {
    await useBackend("cpu");
    const tc = new TfVAE(SPEC, ours[0].v.getWeights(), "transpose-free");
    const l2 = load();
    const [t] = interleave([() => tc.trainStep(batchOf(B, i++), eps)], [1], 3);
    const gflops = flops / t.ms / 1e6;
    steps.push({ who: "tfjs-cpu", build: "plain", threads: 1, B, ...t, gflops, ofMachine: ofMachine(gflops, "plain", 1), load: l2 });
    log(`step B=${B} tfjs-cpu: ${f1(t.ms)} ms; load ${l2}`);
    tc.dispose();
    await useBackend("wasm");
  }
  tw.dispose();
  ours.forEach((o) => o.v.dispose());
}

// -------------------------------------------------------------------- GEMM
type Variant = "NN" | "TN" | "NT";
const SHAPES: { use: string; v: Variant; M: number; K: number; N: number }[] = [
  { use: "encoder forward x·W+b", v: "NN", M: 128, K: 784, N: 400 },
  { use: "decoder forward h·W+b", v: "NN", M: 128, K: 400, N: 784 },
  { use: "dW = xᵀ·g", v: "TN", M: 784, K: 128, N: 400 },
  { use: "dx = g·Wᵀ", v: "NT", M: 128, K: 400, N: 784 },
];
interface GemmRow { shape: string; use: string; who: string; build: StepBuild; threads: number; ms: number; cpuMs?: number; gflops: number; ofMachine: number; err: number; load: string }
const gemms: GemmRow[] = FROM ? FROM.gemms : [];
if (ONLY.has("gemm")) {
  const kern: { k: Kernels; who: string; build: CeilingBuild; threads: number }[] = [];
  for (const build of ["plain", "relaxed"] as const) {
    kern.push({ k: await loadKernels({ build }), who: "wasm-vae", build, threads: 1 });
    kern.push({ k: await loadThreadedKernels({ build, threads: 2 }), who: "wasm-vae", build, threads: 2 });
  }
  const worst = (got: ArrayLike<number>, want: Float64Array) => {
    let e = 0;
    for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / (Math.abs(want[i]) + 1));
    return e;
  };
  for (const s of SHAPES) {
    const { M, K, N } = s, tA = s.v === "TN", tB = s.v === "NT";
    const a = randomArray(M * K, 11), b = randomArray(K * N, 12, -1 / Math.sqrt(K), 1 / Math.sqrt(K)), bias = randomArray(N, 13);
    const want = gemmRef(a, b, M, K, N, { transA: tA, transB: tB, bias: s.v === "NN" ? bias : undefined });
    const fns: (() => unknown)[] = [], errs: number[] = [];
    for (const { k } of kern) {
      let p = k.base;
      const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; };
      const pa = take(M * K), pb = take(K * N), pbias = take(N), pc = take(M * N), ps = take(k.gemmScratchBytes(M, K) / 4);
      k.reserve(p - k.base);
      k.f32(pa, M * K).set(a); k.f32(pb, K * N).set(b); k.f32(pbias, N).set(bias);
      const init = s.v === "NN" ? 2 : 0;
      const run = () => k.raw.gemm(pc, pa, pb, pbias, M, K, N, tA ? 1 : 0, tB ? 1 : 0, init, ps);
      run();
      errs.push(worst(k.f32(pc, M * N), want));
      fns.push(run);
    }
    const jf = JaxVAE.gemm(a, b, M, K, N, tA, tB, s.v === "NN" ? bias : undefined);
    errs.push(worst(jf(), want));
    fns.push(jf);
    const ta = tA ? tf.tensor2d(a, [K, M]) : tf.tensor2d(a, [M, K]), tb = tB ? tf.tensor2d(b, [N, K]) : tf.tensor2d(b, [K, N]), tbias = tf.tensor1d(bias);
    const tcall = () => s.v === "NN" ? tf.fused.matMul({ a: ta, b: tb, bias: tbias }) : tf.matMul(ta, tb, tA, tB);
    { const o = tcall(); errs.push(worst(o.dataSync(), want)); o.dispose(); }
    fns.push(() => { const o = tcall(); o.dataSync(); o.dispose(); });
    // PyTorch: the operands sent once (stored as ours) and kept in each child; its result checked like the others'
    const pts: TorchRun[] = [];
    for (const peer of torchPeers) {
      const id = `gemm-${s.v}-${M}x${K}x${N}`;
      errs.push(worst(peer.gemm(id, s.v, a, b, bias, M, K, N), want));
      pts.push({ peer, id, threads: peer.threads, times: [] });
    }
    for (const e of errs) if (!(e < 1e-4)) throw new Error(`GEMM ${s.v} ${M}×${K}×${N}: an implementation is off by ${e} against float64`);
    const l = load();
    const ts = interleaveWithTorch(fns, pts, 20, "calls", `GEMM ${M}×${K}×${N} ${s.v}`);
    const who: { who: string; build: StepBuild; threads: number }[] = [...kern.map((x) => ({ who: x.who, build: x.build as StepBuild, threads: x.threads })),
      { who: "jax-js", build: "plain" as const, threads: jaxThreads() }, { who: "tfjs-wasm", build: "plain" as const, threads: 1 },
      ...torchWho(pts, "pytorch")];
    ts.forEach((t, j) => {
      const gflops = 2 * M * K * N / t.ms / 1e6;
      gemms.push({ shape: `${M}×${K}×${N} ${s.v}`, use: s.use, ...who[j], ms: t.ms, cpuMs: t.cpuMs, gflops, ofMachine: ofMachine(gflops, ceilingOf(who[j].build), who[j].threads), err: errs[j], load: l });
      log(`gemm ${s.v} ${M}×${K}×${N} ${who[j].who} ${who[j].build} ${who[j].threads}t: ${t.ms.toFixed(3)} ms, ${f1(gflops)} GFLOP/s, ${pct(gemms.at(-1)!.ofMachine)}` +
        `${who[j].build === "native" ? " of the wasm plain ceiling" : ""}; err ${errs[j].toExponential(1)}`);
    });
    tf.dispose([ta, tb, tbias]);
  }
  kern.forEach((x) => x.k.dispose());
}

// --------------------------------------------------------------- inference
interface InferRow { who: string; build: StepBuild; threads: number; B: number; ms: number; cpuMs: number; cores: number; gflops: number; err: number; load: string }
const infers: InferRow[] = FROM ? FROM.infers ?? [] : [];
/** Where a reconstruct call goes (one thread): the call, a replay of its kernel calls, and each kernel call. */
interface InferPart { key: string; ms: number; flops: number; weightBytes: number }
interface InferSplit { B: number; build: CeilingBuild; callMs: number; kernelsMs: number; hostMs: number; parts: InferPart[]; load: string }
const inferSplits: InferSplit[] = FROM ? FROM.inferSplits ?? [] : [];
if (ONLY.has("infer")) {
  for (const B of [1, 128]) {
    const ours: { v: VAE; build: CeilingBuild; threads: number }[] = [];
    for (const build of ["plain", "relaxed"] as const) for (const threads of [1, 2]) ours.push({ v: await VAE.create(mlp(128), { build, threads }), build, threads });
    const tw = new TfVAE(SPEC, ours[0].v.getWeights(), "transpose-free");
    const x = batchOf(B, 2);
    const want = ours[0].v.reconstruct(x);
    // PyTorch: the MLPVAE module with the same weights and the batch x, kept in each child (x a tensor there)
    const pts: TorchRun[] = torchPeers.map((peer) => ({ peer, id: `reconstruct-B${B}`, threads: peer.threads, times: [] }));
    const ptOut = pts.map((p) => p.peer.reconstruct(p.id, SPEC, ours[0].v.getWeights(), x));
    const errs = [...ours.map((o) => o.v.reconstruct(x)), tw.reconstruct(x), ...ptOut].map((got) => {
      let e = 0;
      for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
      return e;
    });
    if (!errs.every((e) => e < 1e-4)) throw new Error(`reconstruct B=${B}: outputs disagree (${errs.join(", ")})`);
    // flops: the four dense layers' multiply-adds (encoder 784→400→40, decoder 20→400→784)
    const flops = 2 * B * (784 * 400 + 400 * 40 + 20 * 400 + 400 * 784);
    const fns: (() => unknown)[] = [...ours.map((o) => () => o.v.reconstruct(x)), () => tw.reconstruct(x)];
    const per = B === 1 ? 400 : 10;
    const l = load();
    const ts = interleaveWithTorch(fns, pts, per, "calls", `reconstruct B = ${B}`, Math.max(ROUNDS, 7));
    const who: { who: string; build: StepBuild; threads: number }[] = [...ours.map((o) => ({ who: "wasm-vae", build: o.build as StepBuild, threads: o.threads })),
      { who: "tfjs-wasm", build: "plain" as const, threads: 1 }, ...torchWho(pts, "pytorch")];
    ts.forEach((t, j) => {
      infers.push({ ...who[j], B, ...t, gflops: flops / t.ms / 1e6, err: errs[j], load: l });
      log(`reconstruct B=${B} ${who[j].who} ${who[j].build} ${who[j].threads}t: ${t.ms.toFixed(4)} ms (cpu ${t.cpuMs.toFixed(4)}, ${f2(t.cores)} cores), max diff ${errs[j].toExponential(1)}; load ${l}`);
    });
    // where the call goes: the call against a replay of its kernel calls (bench/replay.ts), CPU time, one thread
    for (const o of ours.filter((q) => q.threads === 1)) {
      const calls = recordKernelCalls(o.v.kernels, () => o.v.reconstruct(x));
      const parts = calls.map((c) => c.name === "dense_forward"
        ? { key: `dense_forward ${c.args[4]}×${c.args[5]}→${c.args[6]}`, flops: 2 * c.args[4] * c.args[5] * c.args[6], weightBytes: 4 * c.args[5] * c.args[6] }
        : { key: `${c.name} (${c.name === "first_outside" ? c.args[1] : "…"})`, flops: 0, weightBytes: 0 });
      const fs = [() => o.v.reconstruct(x), () => { for (const c of calls) c.run(); }, ...calls.map((c) => c.run)];
      const ls = load(), tt = interleave(fs, fs.map(() => per), Math.max(ROUNDS, 7));
      // the host part alone: the call with every kernel export a no-op (first_outside: all in range)
      const raw = o.v.kernels.raw as unknown as Record<string, unknown>;
      const real = Object.entries(raw).filter(([n, f]) => typeof f === "function" && !n.startsWith("threads_") && n !== "heap_base");
      for (const [n] of real) raw[n] = n === "first_outside" ? () => -1 : () => undefined;
      const hostMs = interleave([() => o.v.reconstruct(x)], [per], Math.max(ROUNDS, 7))[0].cpuMs;
      for (const [n, f] of real) raw[n] = f;
      const split = { B, build: o.build, callMs: tt[0].cpuMs, kernelsMs: tt[1].cpuMs, hostMs, parts: parts.map((q, j) => ({ ...q, ms: tt[j + 2].cpuMs })), load: ls };
      inferSplits.push(split);
      log(`reconstruct B=${B} ${o.build} 1t: call ${split.callMs.toFixed(4)} ms CPU, its kernels replayed ${split.kernelsMs.toFixed(4)} ms, the call with no-op kernels ${hostMs.toFixed(4)} ms`);
    }
    tw.dispose();
    ours.forEach((o) => o.v.dispose());
  }
}

// the MLP children are done: the breakdown and conv sections run without them (conv has its own)
for (const p of torchPeers) p.close();

// --------------------------------------------------------------- breakdown
interface Part { key: string; ms: number; cpuMs: number; calls: number; gflops: number; ofMachine: number; perCpu: number; share: number }
interface Breakdown { model: string; build: CeilingBuild; threads: number; B: number; stepMs: number; bareMs?: number; rowCheck?: { tsMs: number; stagedMs: number }; kernelsMs: number; splitMs: number; waitMs: number; splitCalls: number; parts: Part[]; load: string }
const breakdowns: Breakdown[] = FROM ? FROM.breakdowns : [];
async function breakdown(model: string, cfg: object, B: number, n: number): Promise<void> {
  for (const build of ["plain", "relaxed"] as const) {
    for (const threads of [1, 2]) {
      const v = await VAE.create({ ...cfg, maxBatch: B } as never, { build, threads });
      for (let i = 0; i < 3; i++) v.trainStep(batchOf(B, i));
      const pool = v.kernels.threadsHandle as ThreadPool | null;
      const l = load();
      // the same steps without the clock (its process.cpuUsage calls would count as host time)
      const tb = performance.now();
      for (let i = 0; i < n; i++) v.trainStep(batchOf(B, i));
      const bareMs = (performance.now() - tb) / n;
      const { table, undo } = clockKernels(v.kernels);
      const s0 = pool?.stats(), t0 = performance.now();
      for (let i = 0; i < n; i++) v.trainStep(batchOf(B, i));
      const stepMs = (performance.now() - t0) / n, s1 = pool?.stats();
      undo();
      const kernelsMs = [...table.values()].reduce((s, e) => s + e.ms, 0) / n;
      const parts = [...table.entries()].map(([key, e]) => {
        const gflops = e.flops / e.ms / 1e6;
        const perCpu = e.cpuMs > 0 ? e.flops / e.cpuMs / 1e6 : 0;
        return { key, ms: e.ms / n, cpuMs: e.cpuMs / n, calls: e.calls / n, gflops, ofMachine: ofMachine(gflops, build, threads), perCpu, share: e.ms / n / stepMs };
      }).sort((a, b) => b.ms - a.ms);
      // the per-step row check, before (a TypeScript scan, then loadRows copies the batch) and now
      // (the batch copied into the arena and scanned there by first_outside; loadRows reuses it)
      let rowCheck: { tsMs: number; stagedMs: number } | undefined;
      if (model.startsWith("784")) {
        const x = batchOf(B, 7), xin = new Float32Array(x.length);
        const scan = (v as unknown as { obj: { scanStaged: (a: Float32Array, lo: number, hi: number) => number | null } }).obj.scanStaged;
        const [ts, st] = interleave([() => { checkRows(v.config, "batch", x, 784, true); xin.set(x); }, () => checkRows(v.config, "batch", x, 784, true, scan)], [50, 50]);
        rowCheck = { tsMs: ts.ms, stagedMs: st.ms };
      }
      breakdowns.push({ model, build, threads, B, stepMs, bareMs, kernelsMs, rowCheck, load: l,
        splitMs: s0 && s1 ? (s1.splitMs - s0.splitMs) / n : 0, waitMs: s0 && s1 ? (s1.waitMs - s0.waitMs) / n : 0,
        splitCalls: s0 && s1 ? (s1.splitCalls - s0.splitCalls) / n : 0, parts });
      log(`breakdown ${model} ${build} ${threads}t: step ${f2(stepMs)} ms, kernels ${f2(kernelsMs)} ms; ${parts.slice(0, 3).map((p) => `${p.key} ${f2(p.ms)} ms`).join("; ")}`);
      v.dispose();
    }
  }
}
// B = 32 as well: its 2-thread speedup (issue 19 target ≥ 1.6×) is read off the two tables side by side
if (ONLY.has("breakdown")) for (const B of [128, 32]) await breakdown("784-400-20-400-784", mlp(B), B, quick ? 10 : B === 32 ? 120 : 40);

// -------------------------------------------------------------------- conv
const convCfg = { ...presetLayers("keras_conv", [28, 28, 1], "bernoulli"), latentDim: 2, seed: 3 };
if (withConv) {
  const B = 128, vs: { v: VAE; build: CeilingBuild; threads: number }[] = [];
  for (const build of ["plain", "relaxed"] as const) for (const threads of [1, 2]) vs.push({ v: await VAE.create({ ...convCfg, maxBatch: B }, { build, threads }), build, threads });
  const flops = stepFlops(vs[0].v, batchOf(B, 0)).flops;
  // PyTorch: gate (loss and every gradient against ours, same weights and ε), then in the same rounds
  const pts: TorchRun[] = [];
  if (torchConvPeers.length) {
    const ref = await VAE.create({ ...convCfg, maxBatch: B }, { build: "plain", threads: 1 });
    const x0 = batchOf(B, 1), eps = Float32Array.from(randomNormals(B * convCfg.latentDim, 7));
    const g = ref.computeGradients(x0, { noise: eps });
    const w0 = ref.getWeights();
    for (const peer of torchConvPeers) {
      const id = `conv-B${B}`, threads = peer.threads;
      peer.create(id, { arch: "keras_conv", latent: convCfg.latentDim }, B, w0, eps);
      gateCheck(`keras-conv B=${B} pytorch ${threads} thread${threads > 1 ? "s" : ""}`, peer.grad(id, x0), g);
      pts.push({ peer, id, threads, times: [] });
    }
    const w1 = oursAfterAdam(ref);
    for (const p of pts) adamGate(`keras-conv B=${B} pytorch ${p.threads} thread${p.threads > 1 ? "s" : ""}`, g.gradients, w1, p.peer.grad(p.id, x0, true).gradients);
    ref.dispose();
  }
  let i = 0;
  const rounds = quick ? 2 : Math.min(ROUNDS, 5), per = 2;
  const l = load();
  const ts = interleaveWithTorch(vs.map((o) => () => o.v.trainStep(batchOf(B, i++))), pts, per, "steps", `keras-conv B = ${B}`, rounds);
  const who: { who: string; build: StepBuild; threads: number }[] = [...vs.map((o) => ({ who: "wasm-vae (keras-conv)", build: o.build as StepBuild, threads: o.threads })),
    ...torchWho(pts, "pytorch (keras-conv)")];
  ts.forEach((t, j) => {
    const gflops = flops / t.ms / 1e6;
    steps.push({ ...who[j], B, ...t, gflops, ofMachine: ofMachine(gflops, ceilingOf(who[j].build), who[j].threads), load: l });
    log(`conv step ${who[j].who.split(" ")[0]} ${who[j].build} ${who[j].threads}t: ${f1(t.ms)} ms (cpu ${f1(t.cpuMs)}, ${f2(t.cores)} cores), ${f1(gflops)} GFLOP/s, ${pct(steps.at(-1)!.ofMachine)}; load ${l}`);
  });
  vs.forEach((o) => o.v.dispose());
  await breakdown("keras-conv", convCfg, 128, quick ? 2 : 4);
}

// The one-thread ceiling again after every section, at the accumulator counts chosen at the start: the machine's
// speed moves within an hour here (README, fifth and eighth rounds), and a run whose ceiling moved says so.
const ceilingEnd: { build: CeilingBuild; perCpuSecond: number }[] = FROM ? FROM.ceilingEnd ?? [] : [];
if (!FROM) {
  const pool = new CeilingPool(1);
  for (const c of ceilings.filter((x) => x.threads === 1)) {
    const rs = [];
    for (let r = 0; r < ROUNDS; r++) rs.push(await pool.run(c.build, c.accumulators, 1, quick ? 2_000_000 : 6_000_000));
    ceilingEnd.push({ build: c.build, perCpuSecond: median(rs.map((r) => r.gflopsPerCpuSecond)) });
    log(`ceiling ${c.build} 1t at the end: ${f1(ceilingEnd.at(-1)!.perCpuSecond)} per CPU-second (start ${f1(c.perCpuSecond)})`);
  }
  await pool.dispose();
}
const ceilingMoved = ceilingEnd.some((e) => Math.abs(e.perCpuSecond / CORE[e.build] - 1) > 0.05);

// ------------------------------------------------------------------ report
/** What the report says about PyTorch: how it ran, and issue 19's target (MLP, B = 128: ours on 2 threads ≥ 1.25× PyTorch's best of 1 and 2 threads). */
function torchReport(): { intro: string; lines: string[] } {
  if (!torchInfo) {
    return FROM && !FROM.torch
      ? { intro: "Native PyTorch did not run in this run (bench/limit.ts had no PyTorch peer then).", lines: [] }
      : { intro: `Native PyTorch did not run (${flag("no-torch") === true ? "--no-torch" : "this run has none of the step, GEMM, inference and conv sections"}).`, lines: [] };
  }
  const t = torchInfo, ob = t.blas.openblas;
  const obEnv = Object.entries(t.env).filter(([k]) => k.startsWith("OPENBLAS_") && k !== "OPENBLAS_NUM_THREADS").map(([k, v]) => `${k}=${v}`);
  const blas = ob ? `OpenBLAS (${ob.config}; kernels for core ${ob.core}${obEnv.length ? `; from the environment: ${obEnv.join(" ")}` : ""})`
    : t.blas.libraries.join(", ") || "no BLAS library mapped";
  const build = t.config.find((l) => l.includes("CPU capability")) ?? "";
  const calls = gemms.some((g) => g.who === "pytorch") || infers.some((r) => r.who === "pytorch");
  const mallocEnv = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"].map((k) => `${k}=${t.env[k]}`).join(" ");
  const lines = [
    (t.executable === "/usr/bin/python3" ? "PyTorch: Debian's `python3-torch` (scripts/ensure-torch.mjs installs it with `libopenblas0-openmp` when missing; " : "PyTorch: (") +
      `torch ${t.torch}, ${t.executable}, Python ${t.python}),`,
    `BLAS: ${blas}; oneDNN (MKL-DNN) ${t.mkldnn ? "available" : "not available"}${build ? `; ${build.replace(/^\s*-\s*/, "")}` : ""}. Threads: ${TORCH_THREADS.join(" and ")}, one child process`,
    "each (`OMP_NUM_THREADS` and `torch.set_num_threads`; OpenBLAS's OpenMP build follows them). The models are written as a PyTorch user writes them",
    '(bench/torch-vae.py: nn.Linear / nn.Conv2d / nn.ConvTranspose2d, `F.binary_cross_entropy_with_logits(reduction="sum")` + the',
    "closed-form KL, batch mean, `torch.optim.Adam(lr=1e-3)`, `zero_grad(set_to_none=True)`, `loss.backward()`, `opt.step()`), fed",
    'ε from our side (fixed, as jax-js and tfjs); Keras\' asymmetric "same" padding as F.pad before the conv and a crop after the',
    "conv-transpose, NCHW. The children are driven over named pipes in the same interleaved rounds as ours; each round",
    `is one command running the round's steps${calls ? " (or calls: GEMM shapes, inference)" : ""}, **timed by the child itself** (\`time.perf_counter\` for wall, \`time.process_time\` for`,
    "CPU: all its threads, plus what it used after the command until the next, spread over the command's steps), so the pipe is",
    "not in its figures. The child's glibc malloc " + (t.env.MALLOC_MMAP_THRESHOLD_ ? `keeps freed memory (${mallocEnv}), as PyTorch's performance guides do with jemalloc or tcmalloc` : "has glibc's defaults") + ".",
    ...(ompPolicy ? [`OpenMP wait policy: MLP step, GEMMs and inference ${ompPolicy.mlp}; conv step ${ompPolicy.conv}: PyTorch's faster policy in each`,
      "section that leaves our rows alone (measured: README, \"Eighth round\"; bench/results/limit-step-omp-*.md, limit-conv-omp-*.md)."] : []),
    'PyTorch rows (build "native") give their GFLOP/s as a percentage of threads × the **wasm plain** ceiling, marked †: native',
    "code has 256-bit FMA (OpenBLAS's Haswell kernels, oneDNN's AVX2), about 2× the wasm f32x4 ceiling per core, so 100% is not its roof.",
  ];
  const target: string[] = [];
  for (const B of [128, 32]) {
    const mlpRows = steps.filter((s) => s.B === B && !s.who.includes("conv"));
    const pt = mlpRows.filter((s) => s.who === "pytorch");
    if (!pt.length) continue;
    const best = pt.reduce((a, b) => (a.ms <= b.ms ? a : b));
    const bestCpu = pt.reduce((a, b) => (a.cpuMs <= b.cpuMs ? a : b));
    for (const build of ["plain", "relaxed"] as const) {
      const o = mlpRows.find((s) => s.who === "wasm-vae" && s.build === build && s.threads === 2);
      if (!o) continue;
      const ratio = best.ms / o.ms;
      target.push(`- MLP B = ${B}: ours ${build} on 2 threads ${f2(o.ms)} ms vs PyTorch's best of 1 and 2 threads (${best.threads} thread${best.threads > 1 ? "s" : ""}, ${f2(best.ms)} ms): ` +
        `**${ratio.toFixed(2)}×**` + (B === 128 ? `; ≥ 1.25× target: **${ratio >= 1.25 ? "met" : "missed"}**` : " (no target at B = 32)") +
        ` (CPU ms per step: ours ${f2(o.cpuMs)}, PyTorch's least ${f2(bestCpu.cpuMs)} on ${bestCpu.threads} thread${bestCpu.threads > 1 ? "s" : ""})`);
    }
  }
  if (!target.length) target.push("- not measured in this run (no MLP step section)");
  const conv: string[] = [];
  const convPt = steps.filter((s) => s.who === "pytorch (keras-conv)");
  if (convPt.length) {
    const best = convPt.reduce((a, b) => (a.ms <= b.ms ? a : b));
    for (const o of steps.filter((s) => s.who === "wasm-vae (keras-conv)" && s.threads === 2)) {
      conv.push(`- keras-conv B = ${o.B}: ours ${o.build} on 2 threads ${f1(o.ms)} ms vs PyTorch's best of 1 and 2 threads (${best.threads} thread${best.threads > 1 ? "s" : ""}, ${f1(best.ms)} ms): **${(best.ms / o.ms).toFixed(2)}×**`);
    }
  }
  // older JSON files (--from) have PyTorch rows in the step tables only
  return { intro: "Native PyTorch runs in the same interleaved rounds (see Training steps" +
    `${gemms.some((g) => g.who === "pytorch") ? ", GEMM shapes" : ""}${infers.some((r) => r.who === "pytorch") ? ", Inference" : ""}).`, lines: [...lines, "",
    "Issue 19's target (MLP step on 2 threads ≥ 1.25× native PyTorch's best of 1 and 2 threads, same run), wall time per step:", "", ...target,
    ...(conv.length ? ["", "The Keras conv VAE step against PyTorch's best of 1 and 2 threads (no target), wall time per step:", "", ...conv] : [])] };
}
const tr = torchReport();
/** The PyTorch children's idle CPU notes of one section (noteIdle's labels: "GEMM …", "reconstruct …", else the steps'). */
const idleOf = (section: "step" | "gemm" | "infer") =>
  torchIdle.filter((x) => (x.startsWith("GEMM ") ? "gemm" : x.startsWith("reconstruct ") ? "infer" : "step") === section);
const idleText = (xs: string[]) => xs.length ? ["CPU the PyTorch children used between their rounds, i.e. while the other rows ran (the 2-thread child's is",
  "mostly OpenMP's spin-wait after its last parallel region; see Training steps):", "",
  ...xs.map((x) => `- ${x}`), ""] : [];
/** Inference: ours on 2 threads against PyTorch's best of 1 and 2 threads, per B (no target; informative). */
function inferVsTorch(): string[] {
  const out: string[] = [];
  for (const B of [128, 1]) {
    const pt = infers.filter((r) => r.B === B && r.who === "pytorch");
    if (!pt.length) continue;
    const best = pt.reduce((a, b) => (a.ms <= b.ms ? a : b));
    for (const build of ["plain", "relaxed"] as const) {
      const o = infers.find((r) => r.B === B && r.who === "wasm-vae" && r.build === build && r.threads === 2);
      if (!o) continue;
      out.push(`- B = ${B}: ours ${build} on 2 threads ${o.ms.toFixed(4)} ms vs PyTorch's best of 1 and 2 threads (${best.threads} thread${best.threads > 1 ? "s" : ""}, ` +
        `${best.ms.toFixed(4)} ms): **${(best.ms / o.ms).toFixed(2)}×** (CPU ms per call: ours ${o.cpuMs.toFixed(4)}, PyTorch's ${best.cpuMs.toFixed(4)})`);
    }
  }
  return out;
}
const gemmTorch = gemms.some((g) => g.who === "pytorch"), inferTorch = infers.some((r) => r.who === "pytorch");
const md: string[] = [
  "# How close to the machine (`npm run bench:limit`)", "",
  "Written by bench/limit.ts. The ceiling is measured in the same run as the benchmarks (bench/ceiling.ts: independent",
  "f32x4 multiply-adds, nothing else; plain = mul then add, relaxed = f32x4.relaxed_madd), and every GFLOP/s figure is",
  "given as a percentage of threads × the per-core ceiling of the build it runs (plain for jax-js and tfjs, whose",
  "wasm has no relaxed multiply-add). Times are medians over interleaved rounds. The cores are shared with other",
  "processes: each row gives the load average when it was measured and \"cores\", the CPU time this process got per",
  "wall time; a row with fewer cores than threads was measured while other work held a core, and its wall time is",
  "pessimistic. " + tr.intro, "",
  `Machine: ${describeMachine(m0)}`, "",
  "## The ceiling", "",
  mdTable(["build", "threads", "GFLOP/s (wall)", "GFLOP/s per CPU-second", "cores", "accumulators", "load"],
    ceilings.map((c) => [c.build, c.threads, f1(c.gflops), f1(c.perCpuSecond), f2(c.cores), c.accumulators, c.load])), "",
  `Per-core ceiling used below (one thread, per CPU-second): plain ${f1(CORE.plain)}, relaxed ${f1(CORE.relaxed)} GFLOP/s.` +
    (ceilingEnd.length ? ` Measured again after the last section: ${ceilingEnd.map((e) => `${e.build} ${f1(e.perCpuSecond)}`).join(", ")}` +
      (ceilingMoved ? " — **the machine's speed moved by more than 5% during this run: its percentages are not comparable with other runs'.**" : " (within 5%).") : ""), "",
  `Memory in the same run (one thread, \`Float32Array.set\`, read + write): ${copies.map((c) => `${c.what} ${f1(c.gbps)} GB/s`).join(", ") || "not measured"}. ` +
    "The ceiling loop touches no memory: an hour in which the kernels run slower at the same ceiling shows here.", "",
  "## Training steps", "",
  "MLP: 784-400-20-400-784, ReLU, Bernoulli, Adam, real MNIST; the step's flops are its GEMMs' (2 per multiply-add,",
  "counted from the kernel calls of one step). jax-js: `@jax-js/jax` " + JSON.parse(readFileSync(join(ROOT, "node_modules/@jax-js/jax/package.json"), "utf8")).version +
  ", wasm backend, the loss, `valueAndGrad` and Adam in one `jit`; it runs on **one thread** in Node (its worker pool needs a",
  "global `Worker`, which Node does not have). tfjs: 4.22, transpose-free gradients (bench/tfjs-vae.ts), wasm on one thread.", "",
  ...(tr.lines.length ? [...tr.lines, ""] : []),
  "Gate before timing (same weights and ε as ours; loss relative difference ≤ 1e-4, every gradient's relative L2 error ≤ 1e-3):", "", ...gates.map((g) => `- ${g}`), "",
  mdTable(["model", "who", "build", "threads", "B", "ms / step", "CPU ms / step", "cores", "GFLOP/s", "of threads × ceiling", "GFLOP per CPU-second", "of one core's ceiling", "load"],
    steps.map((s) => [s.who.includes("conv") ? "keras-conv" : "MLP", s.who.replace(" (keras-conv)", ""), s.build, s.threads, s.B, s.ms < 100 ? f2(s.ms) : f1(s.ms), s.cpuMs < 100 ? f2(s.cpuMs) : f1(s.cpuMs), f2(s.cores), f1(s.gflops),
      pct(s.ofMachine) + (s.build === "native" ? " †" : ""),
      f1(s.gflops * s.ms / s.cpuMs), pct(s.gflops * s.ms / s.cpuMs / CORE[ceilingOf(s.build)]) + (s.build === "native" ? " †" : ""), s.load])), "",
  ...(steps.some((s) => s.build === "native") ? ["† native code (PyTorch) against the wasm plain ceiling; its own per-core roof (256-bit FMA) is about twice that.", ""] : []),
  ...(idleOf("step").length ? ["CPU the PyTorch children used between their rounds, i.e. while the other rows ran (counted in their CPU ms",
    "above; with libgomp's default policy mostly its spin after the last parallel region):", "", ...idleOf("step").map((x) => `- ${x}`), ""] : []),
  "\"GFLOP per CPU-second\" divides the step's flops by the CPU time the process used (all its threads, spinning",
  "included): the efficiency of the CPU time it got, the figure least disturbed by other processes.", "",
  "## GEMM shapes of the MLP step", "",
  "Ours: the raw `gemm` export (1 thread: the ordinary build; 2 threads: the shared build with one worker). jax-js: a",
  "jitted `matmul` (+ bias) with the operands on the device, result read back; tfjs-wasm: `matMul` / `fused.matMul`,",
  "result read back. Each checked against float64 (max error relative to |value| + 1 under 1e-4) before timing.", "",
  ...(gemmTorch ? ["PyTorch (1 and 2 threads, the step's children): what its MLP step runs for these products, on float32 tensors",
    "stored as ours and sent once (kept in the child between rounds): `torch.addmm(bias, a, b)` for NN + bias (nn.Linear's",
    "forward), `torch.mm(a.t(), b)` for TN (A stored (K, M)) and `torch.mm(a, b.t())` for NT (B stored (N, K)), transposed views",
    "of contiguous tensors (OpenBLAS sgemm with a transpose flag, no copy), a new result tensor per call. Checked the same way;",
    "each round is one command of 20 calls timed by the child (wall and CPU ms per call, medians over rounds).", ""] : []),
  mdTable(["shape", "use", "who", "build", "threads", "ms", "GFLOP/s", "of threads × ceiling", "GFLOP per CPU-second", "max err", "load"],
    gemms.map((g) => [g.shape, g.use, g.who, g.build, g.threads, g.ms.toFixed(3), f1(g.gflops), pct(g.ofMachine) + (g.build === "native" ? " †" : ""),
      g.cpuMs ? f1(g.gflops * g.ms / g.cpuMs) : "", g.err.toExponential(1), g.load])), "",
  ...(gemmTorch ? ["† native code (PyTorch) against the wasm plain ceiling; its own per-core roof (256-bit FMA) is about twice that.", ""] : []),
  ...idleText(idleOf("gemm")),
  "## Inference: reconstruct", "",
  "`VAE.reconstruct` (encoder mean → decoder → sigmoid, a new Float32Array out) against tfjs-wasm's encoder and decoder",
  "in one `tf.tidy` with one read-back (bench/tfjs-vae.ts `reconstruct`), same weights, outputs checked (max abs",
  "difference from ours, plain, 1 thread) before timing; interleaved rounds. jax-js has no inference path in bench/.",
  ...(inferTorch ? ["", "PyTorch (1 and 2 threads, the step's children): the MLPVAE module of bench/torch-vae.py with the same weights,",
    "`reconstruct` as a PyTorch user writes it: under `torch.inference_mode()` (entered per call), encoder → μ (the first 20",
    "outputs) → decoder → `torch.sigmoid`; the batch is a tensor kept in the child and the result a new tensor (no copy in or out,",
    "which ours and tfjs' calls make from and to a Float32Array). Checked like tfjs (max abs difference from ours) before timing;",
    "each round is one command of as many calls as our rows make, timed by the child (wall and CPU ms per call, medians over",
    "rounds). At B = 1 its figure includes PyTorch's per-call overhead (Python, the module calls, the dispatcher, entering and",
    "leaving inference_mode) around four one-row products: what a PyTorch user gets per call.", ""] : []),
  "Targets (issue 19): B = 1 ≤ 0.06 ms; B = 128 ≥ 2× tfjs-wasm.", "",
  mdTable(["B", "who", "build", "threads", "ms", "CPU ms", "cores", "GFLOP/s", "tfjs-wasm ms / ours", "max diff", "load"],
    infers.map((r) => {
      const peer = infers.find((p) => p.B === r.B && p.who === "tfjs-wasm")!;
      return [r.B, r.who, r.build, r.threads, r.ms.toFixed(4), r.cpuMs.toFixed(4), f2(r.cores), f1(r.gflops), r.who !== "wasm-vae" ? "" : `${(peer.ms / r.ms).toFixed(2)}×`, r.err.toExponential(1), r.load];
    })), "",
  ...(inferTorch ? ["Ours on 2 threads against PyTorch's best of 1 and 2 threads (no target; informative), wall time per call; the ratio is PyTorch's ms / ours (above 1: ours is faster):", "", ...inferVsTorch(), ""] : []),
  ...idleText(idleOf("infer")),
  "### Where a reconstruct call goes (one thread)", "",
  "The call recorded once (every kernel export it calls, with the arguments: bench/replay.ts), then in interleaved rounds",
  "the call, a replay of its kernel calls alone (same exports, arguments and memory, nothing between them) and each",
  "kernel call on its own; CPU ms per call (medians). The host part (validation, the copy in, the result's allocation",
  "and copy out, the TypeScript between kernels) is timed as the call with every kernel export a no-op (call − replay",
  "would give it too, but the difference of two noisy figures is noisier than the part). \"weights GB/s\": the layer's weight bytes over its time",
  "(at B = 1 the weights, 2.6 MB in all, are read once per call from L3: the bound there).", "",
  ...inferSplits.flatMap((b) => [
    `**B = ${b.B}, ${b.build}** (load ${b.load}): call ${b.callMs.toFixed(4)} ms; its kernels replayed ${b.kernelsMs.toFixed(4)} ms; the host part alone ${b.hostMs.toFixed(4)} ms.`, "",
    mdTable(["kernel call", "CPU ms", "GFLOP/s", "of ceiling", "weights GB/s"],
      b.parts.map((q) => [q.key, q.ms.toFixed(4), q.flops ? f1(q.flops / q.ms / 1e6) : "", q.flops ? pct(q.flops / q.ms / 1e6 / CORE[b.build]) : "",
        q.weightBytes ? f1(q.weightBytes / q.ms / 1e6) : ""])), ""]),
  "## Where our steps go", "",
  "Every kernel export called during the step timed with performance.now() around the call (the calling thread's view:",
  "a split kernel's time includes its wait for the other thread). \"host\" = step − kernels: the TypeScript between",
  "calls, plus the clock's own process.cpuUsage calls (two per kernel call); the same steps timed without the clock",
  "just before give the host figure in parentheses. GFLOP/s only for the kernels with multiply-adds; the rest are",
  "memory-bound passes.", "",
];
for (const b of breakdowns) {
  md.push(`### ${b.model}, ${b.build}, ${b.threads} thread${b.threads > 1 ? "s" : ""}, B = ${b.B} (load ${b.load})`, "",
    `Step ${f2(b.stepMs)} ms; kernels ${f2(b.kernelsMs)} ms; host ${f2(b.stepMs - b.kernelsMs)} ms` +
    (b.bareMs !== undefined ? ` (the same steps without the kernel clock: ${f2(b.bareMs)} ms, host ${f2(Math.max(0, b.bareMs - b.kernelsMs))} ms)` : "") +
    (b.rowCheck ? `; the batch's row check + copy: ${b.rowCheck.tsMs.toFixed(3)} ms as before (TypeScript scan, then a copy), ${b.rowCheck.stagedMs.toFixed(3)} ms now (copy into the arena + first_outside)` : "") +
    (b.threads > 1 ? `; ${f1(b.splitCalls)} split calls per step, ${f2(b.splitMs)} ms in them, of which ${f2(b.waitMs)} ms waiting for the other thread; ${f2(b.stepMs - b.splitMs)} ms on one thread.` : "."), "",
    mdTable(["kernel call", "calls / step", "ms / step", "CPU ms / step", "share of step", "GFLOP/s", "of threads × ceiling", "GFLOP per CPU-second", "of ceiling"],
      b.parts.map((p) => [p.key, p.calls, p.ms.toFixed(3), p.cpuMs.toFixed(3), pct(p.share), p.gflops > 0 ? f1(p.gflops) : "", p.gflops > 0 ? pct(p.ofMachine) : "",
        p.perCpu > 0 ? f1(p.perCpu) : "", p.perCpu > 0 ? pct(p.perCpu / CORE[b.build]) : ""])), "");
}
const loadEnd = FROM ? FROM.loadEnd ?? "not recorded" : load();
md.push(`Load at the end: ${loadEnd}`, "");
// a partial run (--only) keeps the full run's files and writes its own
const partial = FROM || ["step", "gemm", "infer", "breakdown", "conv"].every((x) => ONLY.has(x)) ? "" : `-${[...ONLY].join("-")}`;
// --out <path prefix>: write <prefix>.md and <prefix>.json instead (a trial run that leaves bench/results/ alone)
const OUT = flag("out") === undefined ? join(ROOT, "bench", "results", `limit${partial}`) : String(flag("out")).replace(/\.(md|json)$/, "");
writeFileSync(`${OUT}.md`, md.join("\n"));
writeFileSync(`${OUT}.json`, JSON.stringify({ machine: m0, ceilings, core: CORE, steps, gemms, infers, inferSplits, breakdowns, gates, loadEnd, copies, torch: torchInfo, torchIdle, ompPolicy, ceilingEnd }, null, 2) + "\n");
log(`wrote ${OUT}.md and .json`);
process.exit(0);
