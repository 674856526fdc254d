// The learned priors on threads: training with a mixture prior and with the
// VampPrior (ELBO and IWAE k = 3) on 1, 2 and 3 threads, every kernel call
// split (minWork 0), gives bit-identical weights, Adam moments and random
// streams; so does the prior kernels' split on its own (rows for log p and
// dz, components for the parameters' gradients) at sizes that do not divide
// evenly into tasks.
// Not here: the kernels' values (tests/kernels/prior-mixture.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import { VAE, type VAEConfig } from "../../src/index.js";
import type { ThreadPool } from "../../src/threads/pool.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import type { Kernels } from "../../src/kernels/wasm.js";
import { randomArray } from "../reference.js";
import { Arena, expectSameBits, load } from "../kernels/helpers.js";
import { stateBits } from "../helpers.js";

const created: { dispose(): void }[] = [];
afterAll(() => created.forEach((v) => v.dispose()));

const BASE: VAEConfig = { inputDim: 29, encoder: [23], latentDim: 5, decoder: [19], activation: "tanh", seed: 5, maxBatch: 37 };
const CASES: [string, VAEConfig][] = [
  ["mixture K = 11, ELBO", { ...BASE, prior: { type: "mixture", components: 11 } }],
  ["mixture K = 11, IWAE k = 3", { ...BASE, prior: { type: "mixture", components: 11 }, objective: { type: "iwae", samples: 3 } }],
  ["vamp K = 13, ELBO", { ...BASE, prior: { type: "vamp", components: 13 } }],
  ["vamp K = 13, IWAE k = 3", { ...BASE, prior: { type: "vamp", components: 13 }, objective: { type: "iwae", samples: 3 } }],
];

describe.each(["plain", "relaxed"] as const)("%s build", (build) => {
  it.each(CASES)("%s: 15 steps at B = 37 give the same bits on 1, 2 and 3 threads", async (_name, cfg) => {
    const x = randomArray(37 * 29, 3, 0, 1);
    let ref: { bits: Uint32Array; losses: number[] } | null = null;
    for (const t of [1, 2, 3]) {
      const vae = await VAE.create(cfg, { threads: t, build });
      created.push(vae);
      expect(vae.threads).toBe(t);
      const pool = vae.kernels.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      const losses: number[] = [];
      for (let s = 0; s < 15; s++) losses.push(vae.trainStep(x).loss);
      // calls were split (whether a worker or the caller ran a task depends on the load)
      if (pool) expect(pool.stats().splitCalls, "calls split").toBeGreaterThan(15 * 5);
      const bits = stateBits(vae);
      if (!ref) ref = { bits, losses };
      else {
        expect(losses, `${t} threads: losses`).toEqual(ref.losses);
        expectSameBits(bits, ref.bits, `${t} threads: weights, moments, streams`);
      }
      vae.dispose();
    }
  });

  it("prior_mixture_logp forward and backward split over 2 and 3 threads: same bits as one thread", async () => {
    const n = 23, K = 13, L = 7;
    const z = randomArray(n * L, 1, -2, 2), mu = randomArray(K * L, 2, -1, 1), lv = randomArray(K * L, 3, -1, 1);
    const logits = randomArray(K, 4), c = randomArray(n, 5, 0.1, 1), dz0 = randomArray(n * L, 6);
    const runOn = (k: Kernels) => {
      const a = new Arena(k, 1 << 20);
      const zp = a.put(z), mp = a.put(mu), lp = a.put(lv), gp = a.put(logits), cp = a.put(c);
      const logp = a.alloc(n), resp = a.alloc(n * K), prep = a.alloc(K * (L + 1)), dz = a.put(dz0), dm = a.alloc(K * L), dl = a.alloc(K * L), dg = a.alloc(K);
      k.mixtureLogpForward({ logp, resp, prep, z: zp, means: mp, logvars: lp, ld: L, logits: gp, n, K, L });
      k.mixtureLogpBackward({ dz, dmeans: dm, dlogvars: dl, dlogits: dg, z: zp, means: mp, prep, ld: L, logits: gp, resp, c: cp, n, K, L });
      return [a.bits(logp, n), a.bits(resp, n * K), a.bits(dz, n * L), a.bits(dm, K * L), a.bits(dl, K * L), a.bits(dg, K)];
    };
    const one = runOn(await load(build));
    for (const t of [2, 3]) {
      const k = await loadThreadedKernels({ build, threads: t });
      created.push(k);
      const pool = k.threadsHandle as ThreadPool;
      pool.tune({ minWork: 0 });
      const before = pool.stats().splitCalls;
      const got = runOn(k);
      expect(pool.stats().splitCalls - before, "forward, dz and parameter passes split").toBeGreaterThanOrEqual(3);
      got.forEach((g, i) => expectSameBits(g, one[i], `${t} threads, output ${i}`));
    }
  });
});
