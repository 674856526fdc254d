import { loadKernels } from "../src/wasm.js";
const k = await loadKernels({ build: "plain" });
k.reserve(64 << 20);
const r = k.raw; const base = k.base;
const B = 128, D = 784, H = 400, L = 20;
const a = base, b = a + 4*(1<<20), c = b + 4*(1<<20), s = c + 4*(1<<20), st = s + 8*(1<<20);
const F = k.f32(base, 16 << 20); for (let i = 0; i < F.length; i++) F[i] = Math.sin(i) * 0.5 + 0.5;
r.rng_seed(st, 1, 0);
function t(name: string, f: () => void, reps = 50) {
  for (let i = 0; i < 20; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); }
  ts.sort((x, y) => x - y); console.log(name.padEnd(40), ts[reps >> 1].toFixed(3), "ms");
}
t("bernoulli fwd+bwd 128x784", () => r.bernoulli_nll_forward_backward(a, b, c, s, B, D, 1/B));
t("relu fwd 128x400", () => r.activation_forward(a, b, B*H, 1, 0));
t("adam 650k", () => r.adam_step(a, b, c, s, 650000, 1e-3, 0.9, 0.999, 1e-8, 0, 1.1, 1.2));
t("sum_squares 650k", () => r.sum_squares(a, 650000));
t("fill 650k", () => r.fill(a, 650000, 0));
t("kl+sample", () => { r.rng_normal(st, a, B*L); r.gaussian_sample_forward(b, c, a, B, L); r.kl_normal_forward(s, c, B, L); });
t("dense fwd 128x784x400", () => r.dense_forward(a, b, c, s, B, 784, 400, 1, 0, st + 64));
t("dense bwd 128x784x400 nodx", () => r.dense_backward(0, a, b, c, s, st+1e6, st + 2e6, B, 784, 400, 1, 0, st + 64));
t("dense bwd 128x400x784 dx", () => r.dense_backward(a, b, c, s, st+1e6, st + 2e6, st+3e6, B, 400, 784, 0, 0, st + 64*4096));
