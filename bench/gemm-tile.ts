// `tsx bench/gemm-tile.ts [--rounds 7]`: where the relaxed GEMM's time goes.
// Compiles bench/gemm-tile/tiles.ts (register-tile variants of the relaxed
// micro-kernel + the library's own gemm) and times, interleaved in one
// process, on one thread: the ceiling (bench/ceiling.ts, relaxed), each tile
// variant's compute alone on packed operands (no packing, no edges; the
// packed A panels of a 128-row block and every 8-column strip, as the library
// lays them out), and the library's gemm on the MLP's shapes. GFLOP per
// CPU-second throughout (the cores are shared). Writes bench/results/gemm-tile.md.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import v8 from "node:v8";
import { CeilingPool } from "./ceiling.js";
import { describeMachine, flag, machine, mdTable, median, ROOT } from "./common.js";

const ROUNDS = Number(flag("rounds") ?? 7);
const BASE_ASM = flag("base-asm") ? String(flag("base-asm")) : "";
const asc = (entry: string, outFile: string) => execFileSync(process.execPath, [join(ROOT, "node_modules/assemblyscript/bin/asc.js"), entry,
  "--outFile", outFile, "--enable", "simd", "--enable", "relaxed-simd", "-O3", "--runtime", "stub", "--exportStart", "_initialize"],
  { cwd: ROOT, stdio: "inherit" });
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
const env = { thread_now: () => performance.now(), thread_fail: () => { throw new Error("thread_fail"); }, abort: () => { throw new Error("abort"); } };
type Exports = Record<string, CallableFunction> & { memory: WebAssembly.Memory };
async function instance(entry: string, outFile: string): Promise<Exports> {
  asc(entry, outFile);
  const ex = (await WebAssembly.instantiate(readFileSync(outFile), { env })).instance.exports as Exports;
  (ex._initialize as () => void)();
  return ex;
}
const ex = await instance(join(ROOT, "bench/gemm-tile/tiles.ts"), "/tmp/gemm-tile.relaxed.wasm");
ex.memory.grow(1024); // 64 MiB
// --base-asm <dir>: another copy of assembly/ (say, main's), its gemm timed beside this checkout's on the same operands
let baseEx: Exports | undefined;
if (BASE_ASM) {
  writeFileSync(join(BASE_ASM, "gemm-tile-entry.ts"), `export { gemm } from "./gemm";\n` +
    "export function heap(): usize { return (__heap_base + 1023) & ~<usize>1023; }\n");
  baseEx = await instance(join(BASE_ASM, "gemm-tile-entry.ts"), "/tmp/gemm-tile-base.relaxed.wasm");
  baseEx.memory.grow(1024);
}
const f32 = () => new Float32Array(ex.memory.buffer);
const base = Math.max(Number(ex.heap()), baseEx ? Number(baseEx.heap()) : 0);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

function cpuTime(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

// buffers: A panels, B strips, C; filled with small values (no subnormals)
let p = base;
const alloc = (floats: number) => { const q = p; p += ((floats * 4 + 1023) & ~1023); return q; };
const EVICT_BYTES = 40 << 20;
const PA = alloc(130 * 800), PB = alloc(800 * 800), PC = alloc(800 * 800), PS = alloc(1 << 20), EV = alloc(EVICT_BYTES / 4);
{ const m = f32(); for (let i = base / 4; i < p / 4; i++) m[i] = ((i * 7919) % 1000) / 1000 - 0.5; }
if (baseEx) {
  new Float32Array(baseEx.memory.buffer).set(f32().subarray(base / 4, p / 4), base / 4);
}

interface Variant { v: number; name: string }
const VARIANTS: Variant[] = [
  { v: 0, name: "6×8 splat (library)" }, { v: 1, name: "6×8 splat, 2 k per trip" }, { v: 2, name: "6×8 splat, madd(b, a, acc)" },
  { v: 3, name: "5×8 splat" }, { v: 4, name: "4×16 splat" }, { v: 5, name: "6×8 lane shuffles (4 k per A load)" },
];
interface Job { name: string; flops: number; run: () => void; kind: string; cold?: boolean }
const jobs: Job[] = [];
for (const kc of [256, 784]) {
  for (const { v, name } of VARIANTS) {
    const mr = Number(ex.tile_rows(v)), nr = Number(ex.tile_cols(v));
    const mb = Math.ceil(128 / mr), nb = Math.ceil(400 / nr);
    const flops = 2 * mb * mr * kc * nb * nr;
    jobs.push({ name: `${name}, kc = ${kc}`, kind: "tile compute", flops, run: () => ex.compute(v, PA, PB, PC, mb, nb, kc, 1) });
  }
}
// the B = 32 step's forward product: the same tile loop over a 32-row block (6 panels, 36 rows)
jobs.push({ name: "6×8 splat (library), 32×784×400 block (6 panels)", kind: "tile compute", flops: 2 * 36 * 784 * 400,
  run: () => ex.compute(0, PA, PB, PC, 6, 50, 784, 1) });
const SHAPES = [
  { name: "32×784×400 NN (+bias)", M: 32, K: 784, N: 400, ta: 0, tb: 0, init: 2 },
  { name: "32×400×784 NT", M: 32, K: 400, N: 784, ta: 0, tb: 1, init: 0 },
  { name: "128×784×400 NN (+bias)", M: 128, K: 784, N: 400, ta: 0, tb: 0, init: 2 },
  { name: "128×400×784 NN (+bias)", M: 128, K: 400, N: 784, ta: 0, tb: 0, init: 2 },
  { name: "784×128×400 TN (acc)", M: 784, K: 128, N: 400, ta: 1, tb: 0, init: 1 },
  { name: "128×400×784 NT", M: 128, K: 400, N: 784, ta: 0, tb: 1, init: 0 },
];
for (const s of SHAPES) {
  jobs.push({ name: `library gemm ${s.name}`, kind: "gemm", flops: 2 * s.M * s.K * s.N,
    run: () => ex.gemm(PC, PA, PB, PS, s.M, s.K, s.N, s.ta, s.tb, s.init, PS + 4 * 8192) });
}
if (baseEx) {
  const bx = baseEx;
  for (const s of SHAPES) {
    jobs.push({ name: `base gemm ${s.name}`, kind: "gemm (base)", flops: 2 * s.M * s.K * s.N,
      run: () => bx.gemm(PC, PA, PB, PS, s.M, s.K, s.N, s.ta, s.tb, s.init, PS + 4 * 8192) });
  }
}
for (const s of SHAPES) {
  jobs.push({ name: `library gemm ${s.name}, caches flushed before each call`, kind: "gemm, cold", flops: 2 * s.M * s.K * s.N, cold: true,
    run: () => ex.gemm(PC, PA, PB, PS, s.M, s.K, s.N, s.ta, s.tb, s.init, PS + 4 * 8192) });
}
// bits: each shape's C from both builds, same operands and the same C to start from (INIT_ACC reads it)
const bitsSame: string[] = [];
if (baseEx) {
  const bm = () => new Float32Array(baseEx!.memory.buffer);
  for (const s of SHAPES) {
    const c0 = f32().slice(PC / 4, PC / 4 + s.M * s.N);
    ex.gemm(PC, PA, PB, PS, s.M, s.K, s.N, s.ta, s.tb, s.init, PS + 4 * 8192);
    bm().set(c0, PC / 4);
    baseEx.gemm(PC, PA, PB, PS, s.M, s.K, s.N, s.ta, s.tb, s.init, PS + 4 * 8192);
    const x = new Uint32Array(f32().slice(PC / 4, PC / 4 + s.M * s.N).buffer), y = new Uint32Array(bm().slice(PC / 4, PC / 4 + s.M * s.N).buffer);
    const same = x.every((v, i) => v === y[i]);
    bitsSame.push(`${s.name}: ${same ? "same bits" : "BITS DIFFER"}`);
    f32().set(c0, PC / 4); bm().set(c0, PC / 4);
  }
  console.log(bitsSame.join("; "));
}
// warm up (TurboFan)
for (const j of jobs) { if (j.cold) continue; const t = performance.now(); while (performance.now() - t < 150) j.run(); }
const pool = new CeilingPool(1);
const ceil: number[] = [];
const per = new Map<string, number[]>();
const loads: string[] = [];
for (let r = 0; r < ROUNDS; r++) {
  loads.push(load());
  ceil.push((await pool.run("relaxed", 14, 1, 2e6)).gflopsPerCpuSecond);
  for (const j of (r % 2 ? [...jobs].reverse() : jobs)) {
    const n = Math.max(3, Math.round(2e8 / j.flops));
    let s = 0;
    if (j.cold) for (let i = 0; i < n; i++) { ex.evict(EV, EVICT_BYTES); s += cpuTime(j.run); }
    else s = cpuTime(() => { for (let i = 0; i < n; i++) j.run(); });
    (per.get(j.name) ?? per.set(j.name, []).get(j.name)!).push(j.flops * n / s / 1e9);
  }
}
await pool.dispose();
const c = median(ceil);
const rows = jobs.map((j) => { const g = median(per.get(j.name)!); return [j.kind, j.name, g.toFixed(1), `${(100 * g / c).toFixed(0)}%`]; });
const md = ["# Where the relaxed GEMM's time goes (`tsx bench/gemm-tile.ts`)", "",
  `Machine: ${describeMachine(machine())}; load during the rounds: ${loads.join(" · ")}.`, "",
  `One thread; medians over ${ROUNDS} interleaved rounds of GFLOP per CPU-second (the process's CPU time). Ceiling`,
  `(relaxed f32x4 multiply-adds, 14 accumulators, nothing else; bench/ceiling.ts) in the same rounds: **${c.toFixed(1)}** GFLOP per CPU-s.`,
  "\"tile compute\": the variant's register tile over a 128×kc×400 block (rounded up to whole tiles) on operands already",
  "packed (A panels 128×kc, in L2; each B strip kc×NR in L1 across its 22 panels), so packing, edge tiles, bias and the",
  "K-block accumulation are not in it. \"library gemm\": the raw `gemm` export, all of it.", "",
  mdTable(["what", "variant / shape", "GFLOP per CPU-s", "of ceiling"], rows), "",
  ...(baseEx ? [`"base gemm": the gemm of \`${BASE_ASM}\` (another copy of assembly/), same operands; its C compared with this checkout's bit for bit: ${bitsSame.join("; ")}.`, ""] : [])];
// earlier runs kept below the latest (the figures move with the machine's load)
const file = join(ROOT, "bench", "results", "gemm-tile.md");
let earlier = "";
try {
  const old = readFileSync(file, "utf8"), at = old.indexOf("\n## Earlier runs");
  earlier = at >= 0 ? old.slice(at + 1) : "";
} catch { /* first run */ }
writeFileSync(file, md.join("\n") + (earlier ? "\n" + earlier : ""));
console.log(md.join("\n"));
process.exit(0);
