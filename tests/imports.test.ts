// The modules of src/ import each other without a circle (type-only imports
// included): every relative import / re-export of every src/**/*.ts file is
// an edge, and a depth-first search finds no back edge. A circle is reported
// as the path that closes it.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []);
}

/** Relative imports of a file, as src-relative paths of .ts files. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  // import … from "./x.js"; export … from "./x.js"; import "./x.js"; import("./x.js")
  const re = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of text.matchAll(re)) out.push(relative(SRC, normalize(join(dirname(file), m[1].replace(/\.js$/, ".ts")))));
  return out;
}

/** A circle in the graph as a path [a, b, …, a], or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>(), stack: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 2) return null;
    if (state.get(n) === 1) return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 1); stack.push(n);
    for (const m of graph.get(n) ?? []) { const c = visit(m); if (c) return c; }
    stack.pop(); state.set(n, 2);
    return null;
  };
  for (const n of graph.keys()) { const c = visit(n); if (c) return c; }
  return null;
}

describe("src/ has no import circle", () => {
  it("the detector finds a planted circle and passes a chain", () => {
    expect(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]))).toEqual(["a", "b", "c", "a"]);
    expect(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", []]]))).toBeNull();
    expect(importsOf(join(SRC, "m.ts"), `import type { A } from "./a.js";\nexport { B } from "./layers/b.js";\nconst c = import("../c.js");`))
      .toEqual(["a.ts", "layers/b.ts", "../c.ts"]);
  });

  it("the import graph of src/**/*.ts is acyclic", () => {
    const graph = new Map<string, string[]>();
    for (const f of files(SRC)) graph.set(relative(SRC, f), importsOf(f, readFileSync(f, "utf8")));
    expect(graph.get("vae.ts")!.length).toBeGreaterThan(5); // the parser sees imports
    expect(findCycle(graph)).toBeNull();
  });
});

// The folders of src/, lowest first: a file may import its own folder, any
// lower folder, and nothing above it; the entry files at the top (index,
// node, browser, onnx, worker-entry, vae) may import any folder, and a folder
// may import the entry vae.ts (the VAE class) only from interop/ and worker/,
// which the entries above them do not import back.
export const FOLDER_ORDER = ["base", "data", "optim", "kernels", "threads", "layers", "objectives", "model", "training", "persistence", "interop", "worker"];

/** Edges from a folder to a higher folder (or to an entry file it may not use), as "from → to". */
export function backEdges(graph: Map<string, string[]>): string[] {
  const rank = (f: string): number => (f.includes("/") ? FOLDER_ORDER.indexOf(f.split("/")[0]) : FOLDER_ORDER.length);
  const out: string[] = [];
  for (const [from, tos] of graph) {
    if (!from.includes("/")) continue;
    for (const to of tos) {
      const entryOk = to === "vae.ts" && ["interop", "worker"].includes(from.split("/")[0]);
      if (rank(to) > rank(from) && !entryOk) out.push(`${from} → ${to}`);
    }
  }
  return out;
}

describe("src/ folders follow the import direction", () => {
  it("the checker reports an upward edge and passes downward ones", () => {
    const g = new Map([["layers/a.ts", ["kernels/wasm.ts", "base/validate.ts"]], ["kernels/wasm.ts", ["model/config.ts"]], ["worker/w.ts", ["vae.ts"]], ["model/x.ts", ["vae.ts"]]]);
    expect(backEdges(g)).toEqual(["kernels/wasm.ts → model/config.ts", "model/x.ts → vae.ts"]);
  });

  it("every folder of src/ is in the order, and no folder imports a higher one", () => {
    const graph = new Map<string, string[]>();
    for (const f of files(SRC)) graph.set(relative(SRC, f), importsOf(f, readFileSync(f, "utf8")));
    const folders = new Set([...graph.keys()].filter((f) => f.includes("/")).map((f) => f.split("/")[0]));
    expect([...folders].filter((f) => !FOLDER_ORDER.includes(f))).toEqual([]);
    expect(backEdges(graph)).toEqual([]);
  });
});

