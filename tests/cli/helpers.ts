// Helpers for the CLI tests: run the built CLI as a child process
// (cli/bin/wasm-vae.js, as users get it), temporary folders, and PNG/IDX/CSV fixtures.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pngjs from "pngjs";
import { expect } from "vitest";
import { loadMnist, VAE, type VAEConfig } from "../../src/index.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliResult { code: number | null; signal: string | null; stdout: string; stderr: string }

export function runCli(args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["cli/bin/wasm-vae.js", ...args], {
      cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0" },
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => { stdout += d; });
    child.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`CLI timed out: ${args.join(" ")}\n${stdout}\n${stderr}`)); }, opts.timeoutMs ?? 110_000);
    child.on("error", reject);
    child.on("close", (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

export function tempDir(prefix = "wvae-cli-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function pngSize(path: string): { width: number; height: number } {
  const png = pngjs.PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height };
}

/** A PNG's size, the fraction of pixels that are not near-white, and its distinct colours (up to 1000). */
export function pngInfo(path: string): { width: number; height: number; inked: number; colours: number } {
  const png = pngjs.PNG.sync.read(readFileSync(path));
  let inked = 0;
  const colours = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    if (r < 200 || g < 200 || b < 200) inked++;
    if (colours.size < 1000) colours.add((r << 16) | (g << 8) | b);
  }
  return { width: png.width, height: png.height, inked: inked / (png.width * png.height), colours: colours.size };
}

/** An IDX file (big-endian header) of uint8 values. */
export function writeIdx(path: string, shape: number[], data: Uint8Array, opts: { truncateTo?: number } = {}): void {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = 0x08; head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  let bytes = Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  if (opts.truncateTo !== undefined) bytes = bytes.subarray(0, opts.truncateTo);
  writeFileSync(path, bytes);
}

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; out[i] = s & 0xff; }
  return out;
}

/** A model the library trained one epoch on 256 MNIST images (batch 64,
 *  plain build, one thread), saved as model.wvae in a new temporary folder:
 *  how the CLI tests get a model whose layer list the CLI has no flag for. */
export async function savedModel(config: VAEConfig, prefix: string): Promise<{ dir: string; model: string; vae: VAE }> {
  const dir = tempDir(prefix);
  const train = await loadMnist({ split: "train", limit: 256 });
  const vae = await VAE.create(config, { build: "plain", threads: 1 });
  await vae.fit(train.images, { epochs: 1, batchSize: 64 });
  const model = join(dir, "model.wvae");
  writeFileSync(model, vae.save());
  return { dir, model, vae };
}

/** `eval` on the saved model prints the −ELBO the library computes on the
 *  first 64 test images, and `sample` writes a PNG into `dir`. */
export async function expectEvalAndSample(model: string, vae: VAE, dir: string): Promise<void> {
  const ev = await runCli(["eval", "--model", model, "--limit-test", "64", "--iwae-images", "8", "--iwae-samples", "4", "--build", "plain", "--threads", "1"]);
  expect(ev.stderr).toBe("");
  expect(ev.code).toBe(0);
  const test = await loadMnist({ split: "test", limit: 64 });
  const mine = vae.elbo(test.images).elbo.reduce((a, b) => a + b, 0) / 64;
  const printed = Number(/−ELBO[^0-9]*([0-9.]+)/.exec(ev.stdout)?.[1]);
  expect(printed, ev.stdout).toBeCloseTo(-mine, 1);

  const png = join(dir, "s.png");
  const s = await runCli(["sample", "--model", model, "--n", "4", "--out", png]);
  expect(s.code, s.stderr).toBe(0);
  expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
}
