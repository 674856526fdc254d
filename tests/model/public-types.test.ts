// Item 5 of issue 10: the published types are the supported API. The
// declarations tsc emits with this repo's tsconfig (stripInternal) must not
// show the internals (VAE.kernels, hostRng, checkRows, stepRows, adamUpdate,
// restoreState; Adam.apply; Kernels.raw), and a user's code that reaches for
// one fails to type-check against them, while the public methods still do.
// Declarations are emitted in memory (no files written).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const INTERNAL = {
  VAE: ["kernels", "hostRng", "checkRows", "stepRows", "adamUpdate", "restoreState"],
  Adam: ["apply"],
  Kernels: ["raw"],
  Trainable: ["hostRng", "binarizeRng", "checkRows", "stepRows", "restoreState", "withThreads"],
};
/** The low-level names "wasm-vae" exported before issue 16; they live in "wasm-vae/kernels" now. */
const LOW_LEVEL = ["Kernels", "loadKernels", "loadThreadedKernels", "resolveBuild", "planMemory", "crc32", "entryLabel", "encodeModel", "decodeModel", "FORMAT_VERSION", "READ_VERSIONS"];
const dts = new Map<string, string>();
const libs = new Map<string, ts.SourceFile | undefined>();

beforeAll(() => {
  const cfg = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options = { ...cfg.options, emitDeclarationOnly: true, declarationMap: false, sourceMap: false, noEmit: false };
  expect(options.stripInternal).toBe(true);
  const host = ts.createCompilerHost(options);
  const getSource = host.getSourceFile.bind(host);
  host.getSourceFile = (f, v) => { // lib files are parsed once, for both programs
    if (!libs.has(f)) libs.set(f, getSource(f, v));
    return libs.get(f);
  };
  // the package's entry points (package.json "exports") and what they import
  const entries = ["index", "kernels", "node", "browser", "worker/worker", "worker/host", "worker-entry"].map((n) => join(root, "src", `${n}.ts`));
  const program = ts.createProgram(entries, options, host);
  program.emit(undefined, (name, text) => { dts.set(name.slice(name.indexOf("/dist/") + 6), text); });
});

/** Type errors of a user's file compiled against the emitted declarations,
 *  with the 0-based line of each. */
function typeErrors(code: string): { line: number; text: string }[] {
  const files = new Map<string, string>([...dts].map(([n, t]) => [`/pkg/${n}`, t]));
  files.set("/pkg/user.ts", code);
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ["lib.es2022.d.ts", "lib.dom.d.ts"] };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host), exists = host.fileExists.bind(host), getSource = host.getSourceFile.bind(host);
  host.readFile = (f) => files.get(f) ?? read(f);
  host.fileExists = (f) => files.has(f) || exists(f);
  const dirExists = host.directoryExists?.bind(host);
  host.directoryExists = (d) => d === "/pkg" || d.startsWith("/pkg/") || (dirExists ? dirExists(d) : false);
  host.getSourceFile = (f, v) => {
    if (files.has(f)) return ts.createSourceFile(f, files.get(f)!, v);
    if (!libs.has(f)) libs.set(f, getSource(f, v));
    return libs.get(f);
  };
  const program = ts.createProgram(["/pkg/user.ts"], options, host);
  const user = program.getSourceFile("/pkg/user.ts")!;
  return ts.getPreEmitDiagnostics(program, user).map((d) => ({
    line: d.start === undefined ? -1 : user.getLineAndCharacterOfPosition(d.start).line,
    text: ts.flattenDiagnosticMessageText(d.messageText, "\n"),
  }));
}

describe("published declarations", () => {
  it("omit every @internal member", () => {
    const classBody = (file: string, cls: string) => {
      const text = dts.get(file)!, at = text.indexOf(`export declare class ${cls} `);
      expect(at, `${cls} in ${file}`).toBeGreaterThanOrEqual(0);
      return text.slice(at, text.indexOf("\n}\n", at));
    };
    const model = classBody("vae.d.ts", "VAE"), adam = dts.get("optim/adam.d.ts")!, wasm = classBody("kernels/wasm.d.ts", "Kernels");
    expect(model).toMatch(/trainStep\(/);
    for (const m of INTERNAL.VAE) expect(model, `VAE.${m}`).not.toMatch(new RegExp(`\\b${m}\\b[?]?[(:]`));
    expect(adam).toMatch(/rate\(t: number\)/);
    expect(adam).not.toMatch(/\bapply\(/);
    expect(adam).not.toMatch(/OptimizerTarget/);
    expect(wasm).toMatch(/denseForward\(/);
    expect(wasm).not.toMatch(/readonly raw:/);
  });

  it("a user's code cannot reach the internals, and public calls type-check (the control)", () => {
    const ok = `import { VAE, Adam, fit } from "./index.js"; import { loadKernels } from "./kernels.js";
      declare const v: VAE; declare const a: Adam;
      v.trainStep(new Float32Array(4)); v.encode(new Float32Array(4)); a.rate(1); v.resetMoments(); void fit(v, new Float32Array(4));
      void loadKernels().then((k) => k.denseForward);`;
    const uses = [
      ...INTERNAL.VAE.map((m) => `v.${m}`), ...INTERNAL.Adam.map((m) => `a.${m}`),
      ...INTERNAL.Kernels.map((m) => `void loadKernels().then((k) => k.${m})`),
      // fit's model parameter: no structural Trainable with the internals to fill in
      ...INTERNAL.Trainable.map((m) => `(m: Parameters<typeof fit>[0]) => m.${m}`),
    ];
    // one program: line 0 is the public control, line i + 1 reaches for uses[i]
    const errs = typeErrors([ok.replace(/\n\s*/g, " "), ...uses.map((u) => `void (${u});`)].join("\n"));
    expect(errs.filter((e) => e.line === 0).map((e) => e.text)).toEqual([]);
    uses.forEach((use, i) => {
      const mine = errs.filter((e) => e.line === i + 1).map((e) => e.text).join("\n");
      expect(mine, use).toMatch(/does not exist on type/);
    });
    expect(errs.every((e) => e.line >= 1 && e.line <= uses.length)).toBe(true);
  });

  it("the main entry leaves the low-level pieces to wasm-vae/kernels, and Trainable to no entry", async () => {
    const main = await import("../../src/index.js"), kernels = await import("../../src/kernels.js");
    for (const name of LOW_LEVEL) {
      expect(main, `"wasm-vae" exports ${name}`).not.toHaveProperty(name);
      expect(kernels, `"wasm-vae/kernels" exports ${name}`).toHaveProperty(name);
    }
    for (const entry of ["index", "kernels", "node", "browser"]) {
      const errs = typeErrors(`import type { Trainable } from "./${entry}.js"; export type T = Trainable;`);
      expect(errs.map((e) => e.text).join("\n"), entry).toMatch(/has no exported member 'Trainable'/);
    }
  });

  it("the package's own entry points still declare what the README uses", () => {
    const index = dts.get("index.d.ts")!;
    for (const name of ["VAE", "Adam", "fit", "ArgumentError", "ModelFormatError", "NonFiniteLossError", "WasmLoadError"]) expect(index).toContain(name);
    expect(readFileSync(join(root, "tsconfig.json"), "utf8")).toContain('"stripInternal": true');
  });

  it("LayerConfig is derived from the table of layer kinds: every kind's config (Keras spellings included) type-checks, anything else does not", () => {
    // the published declaration maps LAYER_KINDS' kinds to their config types (no hand-written union)
    expect(dts.get("layers/index.d.ts")).toMatch(/export type LayerConfig = \{\s*\[T in LayerType\]: ConfigOf<\(typeof LAYER_KINDS\)\[T\]>;\s*\}\[LayerType\];/);
    expect(dts.get("layers/index.d.ts")).toMatch(/dense: LayerKind<.*DenseLayerConfig>;/);
    const ok = `import type { LayerConfig } from "./index.js"; const ok: LayerConfig[] = [{ type: "dense", units: 3, activation: "linear" }, { type: "flatten" }, { type: "reshape", shape: [1, 1, 3] }, { type: "conv2d", filters: 2, kernel: 3, stride: 2, padding: "same" }, { type: "conv2d", filters: 2, kernelSize: [3, 3], strides: [1, 2] }, { type: "conv2d_transpose", filters: 1, kernelSize: 3, outputPadding: 1 }, { type: "activation", activation: "tanh" }, { type: "dropout", rate: 0.5 }]; void ok;`;
    const bad = [
      `{ type: "conv2d", filters: 2, kernel: 3, kernelSize: 3 }`, // both spellings
      `{ type: "pool2d", size: 2 }`,                              // no such kind
      `{ type: "dense" }`,                                        // units missing
      `{ type: "dense", units: 3, activation: "softmax" }`,       // no such activation
      `{ type: "dropout", rate: 0.5, activation: "relu" }`,       // dropout takes none
    ];
    const errs = typeErrors([ok, ...bad.map((b) => `const b: LayerConfig = ${b}; void b;`)].join("\n"));
    expect(errs.filter((e) => e.line === 0).map((e) => e.text)).toEqual([]);
    bad.forEach((b, i) => expect(errs.filter((e) => e.line === i + 1).length, b).toBeGreaterThan(0));
  });
});
