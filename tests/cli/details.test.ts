// Small things a user meets (issue 17's details): --version on every command;
// help texts that match the flags; printed paths without "//"; `import` of a
// safetensors file without wasm-vae's metadata names the user's file and
// --config, and --config imports it; `import` and `info` agree on what an
// imported model file holds.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { VAE } from "../../src/index.js";
import { COMMANDS } from "../../cli/src/args.js";
import { ROOT, runCli, tempDir } from "./helpers.js";

const dir = tempDir("wvae-cli-details-");
const model = join(dir, "m.wvae");
const CONFIG = { inputDim: 10, encoder: [6], latentDim: 2, activation: "tanh" as const, seed: 4 };
let weights: Record<string, Float32Array>;

beforeAll(async () => {
  const vae = await VAE.create(CONFIG);
  vae.trainStep(new Float32Array(20).map((_, j) => (Math.sin(j) + 1) / 2));
  weights = vae.getWeights();
  writeFileSync(model, vae.save());
});

/** A safetensors file as PyTorch's save_file writes it without metadata: our export with __metadata__ removed. */
function withoutMetadata(bytes: Uint8Array): Uint8Array {
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8"));
  delete header.__metadata__;
  let text = JSON.stringify(header);
  while (text.length % 8 !== 0) text += " ";
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([len, Buffer.from(text), bytes.subarray(8 + n)]);
}

describe("--version", () => {
  const pkg = (p: string) => JSON.parse(readFileSync(join(ROOT, p), "utf8")).version;
  it("on its own and on every command: the CLI's, the library's and Node's versions", async () => {
    const want = `wasm-vae-cli ${pkg("cli/package.json")} (wasm-vae ${pkg("package.json")}, Node ${process.version})\n`;
    for (const args of [["--version"], ...Object.keys(COMMANDS).map((c) => [c, "--version"])]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout, args.join(" ")).toBe(want);
    }
  });
});

describe("help texts", () => {
  it("the main help does not send a user to `npm start`, which exists only in the repository", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("npm start");
    expect(r.stdout).toContain("--version");
  });

  it("a flag a help text names is a flag of that command", async () => {
    for (const cmd of Object.keys(COMMANDS)) {
      const r = await runCli([cmd, "--help"]);
      expect(r.code).toBe(0);
      const own = new Set(r.stdout.match(/^\s+(?:-\w, )?--([\w-]+)/gm)!.map((l) => l.trim().replace(/^-\w, /, "").slice(2)));
      for (const m of r.stdout.matchAll(/--([a-z][\w-]*\w)/g)) {
        if (own.has(m[1])) continue;
        throw new Error(`wasm-vae ${cmd} --help mentions --${m[1]}, which ${cmd} does not have`);
      }
    }
  });
});

describe("paths", () => {
  it("--out dir/ prints dir/, not dir//", async () => {
    const out = join(dir, "exported") + "/";
    const r = await runCli(["export", "--model", model, "--format", "safetensors", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`in ${join(dir, "exported")}/\n`);
    expect(r.stdout).not.toContain("//");
  });
});

describe("import", () => {
  it("a safetensors file without wasm-vae's metadata: the error names the user's file and --config; --config imports it", async () => {
    const ex = join(dir, "ex");
    expect((await runCli(["export", "--model", model, "--format", "safetensors", "--out", ex])).code).toBe(0);
    const trained = join(dir, "trained.safetensors");
    writeFileSync(trained, withoutMetadata(readFileSync(join(ex, "model.safetensors"))));
    const r = await runCli(["import", "--from", trained, "--out", join(dir, "t.wvae")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`wasm-vae import: error: ${trained}: carries no wasm-vae config; give --config <file.json>, a JSON object with the architecture ` +
      "(inputDim, encoder, latentDim, decoder, activation, likelihood, conditionDim, …)\n");
    const cfg = join(dir, "config.json");
    writeFileSync(cfg, JSON.stringify(CONFIG));
    const ok = await runCli(["import", "--from", trained, "--config", cfg, "--out", join(dir, "t.wvae")]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    const got = (await VAE.load(new Uint8Array(readFileSync(join(dir, "t.wvae"))))).getWeights();
    for (const [k, w] of Object.entries(weights)) expect(Buffer.from(got[k].buffer).equals(Buffer.from(w.buffer)), k).toBe(true);
    // a config whose architecture differs: named as --config
    writeFileSync(cfg, JSON.stringify({ ...CONFIG, latentDim: 3 }));
    const bad = await runCli(["import", "--from", join(ex, "model.safetensors"), "--config", cfg, "--out", join(dir, "u.wvae")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${join(ex, "model.safetensors")}: its architecture`);
    expect(bad.stderr).toContain("differs from --config's");
    expect(bad.stderr).not.toContain("options.config");
    const missing = await runCli(["import", "--from", trained, "--config", join(dir, "none.json"), "--out", join(dir, "v.wvae")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`--config ${join(dir, "none.json")}: no such file`);
  });

  it("import and info give one account of the file: weights only, not resumable", async () => {
    const ex = join(dir, "ex2"), back = join(dir, "back.wvae");
    await runCli(["export", "--model", model, "--format", "tfjs", "--out", ex]);
    const i = await runCli(["import", "--from", ex, "--out", back]);
    expect(i.code).toBe(0);
    expect(i.stdout).toContain("weights only (no optimizer state");
    const info = await runCli(["info", "--model", back]);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain("no optimizer state (weights only)");
    expect(info.stdout).toContain("resumable: no");
    const json = JSON.parse((await runCli(["info", "--model", back, "--json"])).stdout);
    expect(json.resumable).toBe(false);
    expect(json.optimizer).toBeNull();
  });
});
