import { loadMnist, VAE } from "../src/index.js";
import { clockKernels } from "./clock.js";
const mnist = await loadMnist({ limit: 1024 });
const build = (process.argv[2] ?? "plain") as "plain";
const threads = Number(process.argv[3] ?? 1);
for (const B of [128, 1]) {
  const v = await VAE.create({ inputDim: 784, encoder: [400], latentDim: 20, seed: 0, maxBatch: 128 }, { build, threads });
  const x = mnist.images.subarray(0, B * 784);
  const per = B === 1 ? 2000 : 40;
  for (let i = 0; i < per; i++) v.reconstruct(x);
  const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e3; };
  const ts: number[] = [];
  for (let r = 0; r < 5; r++) { const c0 = cpu(); for (let i = 0; i < per; i++) v.reconstruct(x); ts.push((cpu() - c0) / per); }
  ts.sort((a, b) => a - b);
  const { table, undo } = clockKernels(v.kernels);
  const c0 = cpu(); for (let i = 0; i < per; i++) v.reconstruct(x); const clocked = (cpu() - c0) / per;
  undo();
  let kern = 0;
  console.log(`B=${B} ${build} ${threads}t: reconstruct cpu ${ts[2].toFixed(4)} ms (min ${ts[0].toFixed(4)}); clocked ${clocked.toFixed(4)}`);
  for (const [k, e] of table) { kern += e.cpuMs / per; console.log(`  ${k}: ${(e.cpuMs / per).toFixed(4)} ms cpu, ${(e.ms / per).toFixed(4)} wall, ${e.calls / per}/call${e.flops ? `, ${(e.flops / e.ms / 1e6).toFixed(1)} GFLOP/s` : ""}`); }
  console.log(`  kernels ${kern.toFixed(4)}; host ${(clocked - kern).toFixed(4)}`);
  v.dispose();
}
process.exit(0);
