// `tsx bench/ceiling-ops.ts`: what limits the plain build's ceiling. The
// ceiling loop of bench/ceiling.ts with each operation alone, one thread:
// plain's multiply-add (f32x4.mul then f32x4.add), relaxed_madd, and plain's
// two halves by themselves (acc ← acc·m; acc ← acc + c), over the same
// accumulator counts, in interleaved rounds. Reported as f32x4 operations
// per CPU-second (a plain multiply-add is two, relaxed_madd one) and as
// GFLOP per CPU-second. Writes bench/results/ceiling-ops.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ACCUMULATORS, CeilingPool, type CeilingOp } from "./ceiling.js";
import { describeMachine, machine, mdTable, median, ROOT } from "./common.js";

const OPS: CeilingOp[] = ["plain", "relaxed", "mul", "add"];
const ROUNDS = 5, TRIPS = 4e6;
const m0 = machine();
const pool = new CeilingPool(1);
const best = new Map<CeilingOp, number[]>(OPS.map((o) => [o, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const op of r % 2 ? [...OPS].reverse() : OPS) {
    // the best accumulator count of this round, as bench:limit takes it
    let g = 0;
    for (const A of ACCUMULATORS) g = Math.max(g, (await pool.run(op, A, 1, TRIPS)).gflopsPerCpuSecond);
    best.get(op)!.push(g);
  }
}
await pool.dispose();
const med = (op: CeilingOp) => median(best.get(op)!);
// flops per f32x4 operation: a plain multiply-add is mul + add (8 flops in 2 operations), relaxed_madd 8 in 1, mul or add 4 in 1
const opsPer = (op: CeilingOp) => (op === "relaxed" ? 8 : 4);
const rows = OPS.map((op) => {
  const g = median(best.get(op)!);
  return [op === "plain" ? "plain: f32x4.mul then f32x4.add" : op === "relaxed" ? "relaxed: f32x4.relaxed_madd" : `f32x4.${op} alone`,
          g.toFixed(1), (g / opsPer(op)).toFixed(2), (op === "plain" ? g / 8 : op === "relaxed" ? g / 8 : g / 4).toFixed(2)];
});
const md = `# What limits the plain ceiling (\`tsx bench/ceiling-ops.ts\`)

Machine: ${describeMachine(m0)}

The ceiling loop of bench/ceiling.ts (independent f32x4 operations on ${ACCUMULATORS.join(", ")} accumulators, the best
count per round, nothing else in the loop) with each operation, one thread; medians over ${ROUNDS} interleaved rounds,
per CPU-second. "G f32x4 ops" counts wasm SIMD instructions (a plain multiply-add is two); "G multiply-adds" counts
what a GEMM needs (for mul or add alone: that instruction).

${mdTable(["loop", "GFLOP per CPU-second", "G f32x4 ops per CPU-second", "G multiply-adds (or ops) per CPU-second"], rows)}

In this run plain issues ${(100 * med("plain") / med("relaxed")).toFixed(0)}% of relaxed_madd's multiply-adds. mul and add interleaved
run ${(med("plain") / 4 / Math.max(med("mul") / 4, med("add") / 4)).toFixed(2)}× the f32x4 operations per second of either alone: were they issued on separate pipes
at their own rates this would be 2×, and plain would issue as many multiply-adds per second as mul alone does
operations; the rates measured are what two operations sharing the same vector units' issue capacity give.
This bounds the plain build's GEMM (and issue 19's plain targets), not our kernels: the loop has no loads, no
stores, and its accumulators are independent of each other.
`;
writeFileSync(join(ROOT, "bench/results/ceiling-ops.md"), md);
console.log(md);
