// Item 3 of issue 10: inputs that used to surface as foreign errors
// (TypeError, RangeError, CompileError, ENOENT) now throw named ones:
// ArgumentError for bad arguments, WasmLoadError (naming the build and the
// source) when the wasm cannot be loaded, ModelFormatError for a bad file
// whose message is built from bounded summaries. Nothing changes on a throw.
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, fit, ModelFormatError, VAE, WasmLoadError } from "../../src/index.js";
import { crc32, loadKernels, planMemory } from "../../src/kernels.js";
import { expectThrows } from "./harden-helpers.js";

const cfg = { inputDim: 6, encoder: [4], latentDim: 2, seed: 1 };
let vae: VAE;
const x = new Float32Array(2 * cfg.inputDim).fill(0.5);

beforeAll(async () => {
  vae = await VAE.create(cfg);
  vae.trainStep(x); // non-trivial moments, step count and streams
});

describe("ArgumentError instead of TypeError", () => {
  it("setWeights with keys inherited from Object.prototype or an own __proto__", async () => {
    for (const key of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
      const w = JSON.parse(`{${JSON.stringify(key)}: [1, 2, 3]}`);
      expect(Object.keys(w)).toEqual([key]);
      await expectThrows(() => vae.setWeights(w), ArgumentError, `weights["${key}"]`, [vae]);
    }
    await expectThrows(() => vae.setWeights({ constructor: new Float32Array(3) } as never), ArgumentError, "weights", [vae]);
  });

  it("setWeights with values that are not numbers", async () => {
    const n = 6 * 4;
    await expectThrows(() => vae.setWeights({ "encoder.0.weight": Array(n).fill("1") }), ArgumentError, 'weights["encoder.0.weight"][0]', [vae]);
    await expectThrows(() => vae.setWeights({ "encoder.0.weight": { length: n } as never }), ArgumentError, 'weights["encoder.0.weight"]', [vae]);
  });

  it("null where an object is expected", async () => {
    await expectThrows(() => new Adam(null as never), ArgumentError, "options", [vae]);
    await expectThrows(() => Adam.fromState(null as never), ArgumentError, "state", [vae]);
    await expectThrows(() => vae.importState(null as never), ArgumentError, "state", [vae]);
    await expectThrows(() => vae.importState({ weights: vae.getWeights(), m: null } as never), ArgumentError, "state.m", [vae]);
    await expectThrows(() => VAE.create(cfg, null as never), ArgumentError, "options", [vae]);
    await expectThrows(() => VAE.load(vae.save(), null as never), ArgumentError, "options", [vae]);
    await expectThrows(() => crc32(null as never), ArgumentError, "bytes");
    await expectThrows(() => crc32(new Uint8Array(4), 5), ArgumentError, "end");
    await expectThrows(() => planMemory(null as never), ArgumentError, "spec");
    await expectThrows(() => planMemory({} as never), ArgumentError, "spec.");
    await expectThrows(() => planMemory({ layers: [null], encoderIn: 1, inputDim: 1, latentDim: 1, conditionDim: 0, outDim: 1, batch: 1 } as never), ArgumentError, "spec.layers[0]");
    await expectThrows(() => fit(null as never, x), ArgumentError, "model");
    await expectThrows(() => fit({} as never, x), ArgumentError, "model");
  });

  it("stepRows with out = null throws before the forward pass (streams and counters unchanged)", async () => {
    await expectThrows(() => vae.stepRows(x, undefined, 0, 2, null, 1, null as never), ArgumentError, "out", [vae]);
  });

  it("an unknown field of a saved state is refused", async () => {
    await expectThrows(() => vae.importState({ ...vae.exportState(), extra: 1 } as never), ArgumentError, "state.extra", [vae]);
    await expectThrows(() => Adam.fromState({ ...vae.optimizer.state(), learningRate: 1 } as never), ArgumentError, "state.learningRate");
  });
});

describe("WasmLoadError names the build and the source", () => {
  it("bytes that do not compile (was a raw CompileError)", async () => {
    const e = await expectThrows(() => VAE.create(cfg, { wasm: { plain: new Uint8Array([1, 2, 3]) } }), WasmLoadError, ['"plain" build', "Uint8Array(3)", "CompileError"]);
    expect((e as Error & { cause?: unknown }).cause).toBeInstanceOf(WebAssembly.CompileError);
  });

  it("a missing file (was a raw ENOENT)", async () => {
    const e = await expectThrows(() => loadKernels({ wasm: { plain: "/nonexistent/dir/vae.wasm" } }), WasmLoadError, ['"plain" build', "/nonexistent/dir/vae.wasm", "ENOENT"]);
    expect((e as Error & { cause?: { code?: string } }).cause?.code).toBe("ENOENT");
    await expectThrows(() => loadKernels({ wasm: { plain: new URL("file:///nonexistent/x.wasm") } }), WasmLoadError, "file:///nonexistent/x.wasm");
  });

  it("a valid wasm module that is not the kernels", async () => {
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    expect(WebAssembly.validate(empty)).toBe(true);
    await expectThrows(() => loadKernels({ wasm: { plain: empty } }), WasmLoadError, ["not a wasm-vae kernel module", "Uint8Array(8)"]);
  });

  it("the real build from bytes still loads (the control)", async () => {
    const bytes = await readFile(new URL("../../build/vae.plain.wasm", import.meta.url));
    const k = await loadKernels({ wasm: { plain: new Uint8Array(bytes) } });
    expect(k.build).toBe("plain");
  });

  it("a bad source type is an ArgumentError, not a load failure", async () => {
    await expectThrows(() => loadKernels({ wasm: { plain: 42 as never } }), ArgumentError, "wasm.plain");
    await expectThrows(() => loadKernels({ wasm: { fast: "x" } as never }), ArgumentError, "options.wasm.fast");
  });
});

describe("ModelFormatError messages are bounded summaries", () => {
  /** vae's weights-only file with the JSON header text rewritten by f (CRC fixed). */
  function rewriteHeader(f: (json: string) => string): Uint8Array {
    const bytes = vae.save({ optimizer: false });
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const H = dv.getUint32(8, true);
    const json = new TextEncoder().encode(f(new TextDecoder().decode(bytes.subarray(12, 12 + H)).trimEnd()));
    const pad = Math.ceil(json.length / 4) * 4;
    const out = new Uint8Array(12 + pad + bytes.length - 12 - H);
    out.set(bytes.subarray(0, 12));
    new DataView(out.buffer).setUint32(8, pad, true);
    out.fill(0x20, 12, 12 + pad);
    out.set(json, 12);
    out.set(bytes.subarray(12 + H), 12 + pad);
    new DataView(out.buffer).setUint32(out.length - 4, crc32(out, out.length - 4), true);
    return out;
  }
  const deep = (n: number) => "[".repeat(n) + '"x"' + "]".repeat(n);

  it("a tensor name nested 5,000 deep (was RangeError: Maximum call stack size exceeded)", async () => {
    const bytes = rewriteHeader((j) => j.replace('"name":"encoder.0.weight"', `"name":${deep(5000)}`));
    await expectThrows(() => VAE.load(bytes), ModelFormatError, ["tensor 0", "Array(1)", "encoder.0.weight"]);
    await expectThrows(() => vae.load(bytes), ModelFormatError, "tensor 0", [vae]);
  });

  it("a shape nested 5,000 deep and a config value nested 5,000 deep", async () => {
    const shape = rewriteHeader((j) => j.replace(/"shape":\[6,4\]/, `"shape":[${deep(5000)},4]`));
    await expectThrows(() => VAE.load(shape), ModelFormatError, ["encoder.0.weight", "shape"]);
    const config = rewriteHeader((j) => j.replace('"seed":1', `"seed":${deep(5000)}`));
    await expectThrows(() => VAE.load(config), ModelFormatError, "config.seed");
  });

  it("the unmodified file loads (the control)", async () => {
    const bytes = rewriteHeader((j) => j);
    const copy = await VAE.load(bytes);
    expect(copy.getWeights()).toEqual(vae.getWeights());
  });
});

describe("setWeights containers", () => {
  it("any typed array or number[] of finite numbers is accepted; BigInt arrays and DataViews are ArgumentErrors", async () => {
    const m = await VAE.create(cfg);
    const n = 6 * 4;
    m.setWeights({ "encoder.0.weight": new Int16Array(n).fill(-2) });
    expect(Array.from(m.getWeights()["encoder.0.weight"])).toEqual(Array(n).fill(-2));
    await expectThrows(() => m.setWeights({ "encoder.0.weight": new BigInt64Array(n) as never }), ArgumentError, 'weights["encoder.0.weight"][0]', [m]);
    await expectThrows(() => m.setWeights({ "encoder.0.weight": new DataView(new ArrayBuffer(4 * n)) as never }), ArgumentError, 'weights["encoder.0.weight"]', [m]);
  });
});

describe("WorkerTrainer argument errors are ArgumentErrors (were TypeErrors)", () => {
  it("a non-worker, and an unknown event name", async () => {
    const { WorkerTrainer } = await import("../../src/worker/worker.js");
    for (const bad of [{}, null, 5]) await expectThrows(() => new WorkerTrainer(bad as never), ArgumentError, "WorkerTrainer");
    const { port1, port2 } = new MessageChannel(); // a real MessagePort as the worker end
    const t = new WorkerTrainer(port1 as never);
    await expectThrows(() => t.on("bogus" as never, () => {}), ArgumentError, '"bogus"');
    expect(typeof t.on("batch", () => {})).toBe("function"); // the control
    port1.close(); port2.close();
  });
});

// review of issue 18: README says "setting `vae.steps` moves" the categorical
// latent's τ schedule; a bad value used to be accepted, then saved into a file
// that load refused ("header.steps must be an integer ≥ 0"), or made the next
// step's loss NaN.
describe("the step and epoch counters take integers ≥ 0 only", () => {
  it("vae.steps and vae.epochs refuse negative, fractional, NaN and string values, and change nothing", async () => {
    for (const key of ["steps", "epochs"] as const) {
      for (const bad of [-1, 1.5, NaN, Infinity, "7"]) {
        await expectThrows(() => { (vae as unknown as Record<string, unknown>)[key] = bad; }, ArgumentError, `${key}: expected an integer ≥ 0`, [vae]);
      }
    }
  });

  it("a valid value is kept, saved and loaded (the control)", async () => {
    const v = await VAE.create(cfg);
    v.steps = 12345;
    v.epochs = 3;
    const back = await VAE.load(v.save());
    expect([back.steps, back.epochs]).toEqual([12345, 3]);
  });
});
