// Issue 16, item 4: WorkerTrainer is built from one declaration
// (VAE_SURFACE in src/worker/worker.ts) and VAE's own signatures.
// - Every member of VAE.prototype and every static has an entry; every
//   "call" entry is a method of WorkerTrainer; no hand-written one is left.
// - The type-level checks in src/worker/worker.ts fail tsc when a public VAE member
//   or a rows option is added without an entry (compiled in memory against a
//   modified vae.ts), and pass on the real one.
// - The methods that had drifted (impute's method/burnIn/initial,
//   logLikelihood) give in a worker what they give in-process, bit for bit.
// - A Node script using WorkerTrainer on a worker_threads Worker exits by
//   itself after dispose() (even mid-fit), and when left idle.
import { spawn as spawnChild } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VAE } from "../../src/vae.js";
import { ROW_OPTIONS, VAE_SURFACE, WorkerTrainer } from "../../src/worker/worker.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function spawnWorker(): Worker {
  const entry = new URL("../../src/worker-entry.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}

const served = Object.entries(VAE_SURFACE).filter(([, e]) => e.serve === "call").map(([k]) => k);

describe("VAE_SURFACE lists every VAE member", () => {
  it("every own member of VAE.prototype and every static has an entry", () => {
    const proto = Object.getOwnPropertyNames(VAE.prototype).filter((n) => n !== "constructor");
    const statics = Object.getOwnPropertyNames(VAE).filter((n) => !["length", "name", "prototype"].includes(n));
    expect(proto.length).toBeGreaterThan(30);
    expect(statics.sort()).toEqual(["create", "load"]);
    const unlisted = [...proto, ...statics].filter((n) => !Object.prototype.hasOwnProperty.call(VAE_SURFACE, n));
    expect(unlisted, "VAE members without a VAE_SURFACE entry").toEqual([]);
  });

  it("every \"call\" entry is a WorkerTrainer method and a VAE method; trainer-own names are WorkerTrainer's", () => {
    expect(served).toEqual(expect.arrayContaining(["impute", "logLikelihood", "encode", "setWeights", "trainStep"]));
    for (const name of served) {
      expect(typeof (VAE.prototype as unknown as Record<string, unknown>)[name], `VAE.${name}`).toBe("function");
      expect(typeof (WorkerTrainer.prototype as unknown as Record<string, unknown>)[name], `WorkerTrainer.${name}`).toBe("function");
    }
    for (const [name, e] of Object.entries(VAE_SURFACE)) {
      if (e.serve === "trainer" && name !== "create") expect(typeof (WorkerTrainer.prototype as unknown as Record<string, unknown>)[name], name).toBe("function");
      if (e.serve === "internal" || e.serve === "private" || e.serve === "local") expect(name in WorkerTrainer.prototype, name).toBe(false);
    }
  });
});

/** tsc diagnostics of src/worker/worker.ts with src/vae.ts's text replaced. */
function workerDiagnostics(editModel: (text: string) => string): string[] {
  const cfg = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options = { ...cfg.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const model = join(root, "src", "vae.ts");
  const edited = editModel(readFileSync(model, "utf8"));
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (f, v) => (resolve(f) === model ? ts.createSourceFile(f, edited, v) : getSource(f, v));
  const program = ts.createProgram([join(root, "src", "worker", "worker.ts")], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? d.file.fileName.slice(root.length + 1) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
}

describe("the type-level checks in src/worker/worker.ts (compiled by tsc)", () => {
  it("pass on the real VAE", () => {
    expect(workerDiagnostics((t) => t)).toEqual([]);
  }, 120_000);

  it("fail, naming it, when VAE gains a public method without an entry, or an option taking rows the worker does not resolve", () => {
    const marker = "  /** Importance-weighted estimate of log p(x) per row";
    const errors = workerDiagnostics((t) => {
      expect(t).toContain(marker);
      return t.replace(marker, `  /** A new method. */\n  brandNew(): number { return 1; }\n${marker}`)
        .replace("logLikelihood(x: Rows, options: {", "logLikelihood(x: Rows, options: { reference?: Rows;");
    });
    expect(errors.some((e) => e.startsWith("src/worker/worker.ts") && /unlisted: "brandNew"/.test(e)), errors.join("\n")).toBe(true);
    expect(errors.some((e) => e.startsWith("src/worker/worker.ts") && /unresolved: "reference"/.test(e)), errors.join("\n")).toBe(true);
  }, 120_000);
});

describe("the forwarded methods in a worker equal the VAE's", () => {
  const config = { inputDim: 20, encoder: [12], latentDim: 3, seed: 7, conditionDim: 2 };
  const x = new Float32Array(6 * 20).map((_, i) => ((i * 37) % 11) / 11);
  const c = new Float32Array(6 * 2).map((_, i) => (i % 3) / 3);
  const mask = new Uint8Array(6 * 20).map((_, i) => (i % 20 < 12 ? 1 : 0));
  let trainer: WorkerTrainer;
  let local: VAE;
  beforeAll(async () => {
    trainer = new WorkerTrainer(spawnWorker());
    await trainer.create(config, { build: "plain", threads: 1 });
    local = await VAE.create(config, { build: "plain", threads: 1 });
    // both models take the same training steps first, so the weights are not the initial ones
    await trainer.setData("x", x);
    await trainer.setData("c", c);
    await trainer.fit("x", { epochs: 3, batchSize: 3, condition: "c" });
    await local.fit(x, { epochs: 3, batchSize: 3, condition: c, yieldEvery: 0 });
  });
  afterAll(async () => { await trainer?.terminate(); });

  it("impute with method, burnIn and initial (each a VAE option the worker lacked), rows and condition as DataRefs", async () => {
    expect(await trainer.getWeights()).toEqual(local.getWeights());
    for (const o of [{ method: "pseudo_gibbs" as const, iterations: 7, initial: 0.5 }, { method: "metropolis" as const, iterations: 9, burnIn: 4, initial: 0.25 }]) {
      const remote = await trainer.impute("x", mask, { ...o, condition: "c" });
      const mine = local.impute(x, mask, { ...o, condition: c });
      expect(remote).toEqual(mine);
    }
    // the options reach VAE.impute's checks (burnIn ≥ iterations is refused there)
    await expect(trainer.impute("x", mask, { method: "metropolis", iterations: 5, burnIn: 5, condition: "c" })).rejects.toMatchObject({ name: "ArgumentError", message: expect.stringMatching(/burnIn/) });
  });

  it("logLikelihood, on a slice of stored rows", async () => {
    const remote = await trainer.logLikelihood({ data: "x", start: 1, count: 4 }, { samples: 16, condition: { data: "c", start: 1, count: 4 } });
    const mine = local.logLikelihood(x.subarray(20, 100), { samples: 16, condition: c.subarray(2, 10) });
    expect(remote).toBeInstanceOf(Float64Array);
    expect(remote).toEqual(mine);
  });

  it("trainStep, computeGradients, exportState/importState and setWeights (with transfer)", async () => {
    const batch = { x: "x", condition: "c" };
    const r = await trainer.trainStep(batch, { beta: 0.5 });
    expect(r).toEqual(local.trainStep({ x, condition: c }, { beta: 0.5 }));
    const noise = new Float32Array(6 * 3).map((_, i) => Math.sin(i));
    const g = await trainer.computeGradients({ x, condition: c }, { noise });
    expect(g).toEqual(local.computeGradients({ x, condition: c }, { noise }));
    const state = await trainer.exportState();
    expect(state).toEqual(local.exportState());
    const w = local.getWeights();
    for (const k of Object.keys(w)) w[k] = w[k].map((v) => v * 0.5);
    const sent = w["encoder.0.weight"];
    await trainer.setWeights(w, { transfer: true });
    expect(sent.byteLength).toBe(0);  // moved to the worker
    local.setWeights(Object.fromEntries(Object.entries(local.getWeights()).map(([k, v]) => [k, v.map((u) => u * 0.5)])));
    expect(await trainer.getWeights()).toEqual(local.getWeights());
    await trainer.importState(state);
    local.importState(state);
    expect(await trainer.getWeights()).toEqual(local.getWeights());
  });

  it("info reports every \"info\" property of VAE_SURFACE as the VAE has it", async () => {
    const info = await trainer.info();
    for (const [k, e] of Object.entries(VAE_SURFACE)) {
      if (e.serve !== "info") continue;
      const mine = k === "optimizer" ? local.optimizer.state() : (local as unknown as Record<string, unknown>)[k];
      expect(info[k as keyof typeof info], k).toEqual(mine);
    }
    expect(Object.keys(ROW_OPTIONS)).toEqual(["x", "condition", "validation", "noise"]);
  });

  it("a function (which cannot cross postMessage) is refused by name, and a mutating call during fit is refused", async () => {
    await expect(trainer.importState({ weights: {} }, (() => 1e-3) as never)).rejects.toMatchObject({ name: "ArgumentError", message: expect.stringMatching(/argument 2: a function cannot cross/) });
    let started!: () => void;
    const go = new Promise<void>((r) => { started = r; });
    const p = trainer.fit("x", { epochs: 1000, batchSize: 3, condition: "c", onBatch: () => started() });
    await go;
    await expect(trainer.trainStep({ x: "x", condition: "c" })).rejects.toThrow(/training is running/);
    await expect(trainer.setWeights({})).rejects.toThrow(/training is running/);
    expect(await trainer.elbo("x", { condition: "c" })).toHaveProperty("elbo"); // inference is served between steps
    await trainer.stop();
    expect((await p).aborted).toBe(true);
  });

});

/** Runs the exit fixture; resolves with its exit code, or a string when it
 *  was still running after `ms`. */
function runExitScript(mode: string, ms: number): Promise<{ code: number | string; out: string; err: string }> {
  const script = fileURLToPath(new URL("./fixtures/worker-exit.mts", import.meta.url));
  const child = spawnChild(process.execPath, ["--import", "tsx", script, mode], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  return new Promise((res) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); res({ code: `still running after ${ms / 1000} s`, out, err }); }, ms);
    child.on("exit", (code) => { clearTimeout(timer); res({ code: code ?? -1, out, err }); });
  });
}

describe("a Node script using WorkerTrainer exits by itself", () => {
  it("after dispose(), called while a fit runs: the fit resolves aborted, later calls reject", async () => {
    const r = await runExitScript("dispose", 60_000);
    expect(r.code, `stderr: ${r.err}`).toBe(0);
    expect(r.out).toContain("trained steps=8 threads=2");
    expect(r.out).toContain("fit after dispose: aborted=true");
    expect(r.out).toContain("info after dispose: WorkerTrainer: disposed");
    expect(r.out).toContain("returning");
  }, 70_000);

  it("when the trainer is left idle without dispose()", async () => {
    const r = await runExitScript("idle", 60_000);
    expect(r.code, `stderr: ${r.err}`).toBe(0);
    expect(r.out).toContain("returning");
  }, 70_000);
});
