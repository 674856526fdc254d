// safetensors export/import (src/interop/safetensors.ts):
// - The file, read by this test's own parser: 8-byte LE header length, data
//   start 8-aligned, tensors contiguous in parameter order, exactly the names
//   and (out, in) / (out) shapes the README documents, metadata with the config.
// - PyTorch conventions: encodings and decodings recomputed in float64 from the
//   file's tensors as the README's nn.Module computes them (y = x Wᵀ + b,
//   chunk(2), sigmoid) match vae.encode / vae.decode within 1e-5, for every
//   activation, likelihood and a condition (and on MNIST at 784-400-20).
// - The reverse path: a file laid out as PyTorch's save_file writes it (sorted
//   names, no CRC, a config of architecture keys only, or none plus
//   options.config) imports and encodes as the float64 module does.
// - Round trip: export → import is bit-identical, config included.
// - Unknown, missing, misshapen, non-F32 and non-finite tensors, mismatched
//   configs and missing configs → InteropFormatError naming the tensor/field.
// - Fuzz: seeded bit flips, truncations, garbage headers and lengths: only
//   InteropFormatError, and nothing corrupt is accepted.
// - The README's module text makes the choices torchForward implements.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ACTIVATIONS, ArgumentError, exportModel, importModel, InteropFormatError, loadMnist, readModel, VAE, type VAEConfig } from "../../src/index.js";
import { ACTS } from "../../src/interop/network.js";
import { randomArray } from "../reference.js";
import {
  asTorchStateDict, BYTE_MUTATIONS, CONFIGS, differingTensors, expectClose, inputs, parseSafetensors, randomModel, rng, torchForward, writeSafetensorsAsTorch,
} from "./helpers.js";

const ROWS = 5;

function safetensorsOf(vae: VAE): Uint8Array {
  const files = exportModel(vae, "safetensors");
  expect(Object.keys(files)).toEqual(["model.safetensors"]);
  return files["model.safetensors"];
}

describe("the exported file", () => {
  it("has the documented names, PyTorch shapes, layout and metadata", async () => {
    const config: VAEConfig = { inputDim: 13, encoder: [11, 7], latentDim: 3, decoder: [6, 9], conditionDim: 2, likelihood: "gaussian_learned" };
    const vae = await randomModel(config, 1);
    const bytes = safetensorsOf(vae);
    const f = parseSafetensors(bytes);
    expect((8 + f.headerLength) % 8).toBe(0);
    expect(f.order).toEqual([
      "encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias", "encoder.2.weight", "encoder.2.bias",
      "decoder.0.weight", "decoder.0.bias", "decoder.1.weight", "decoder.1.bias", "decoder.2.weight", "decoder.2.bias",
    ]);
    const shapes = Object.fromEntries([...f.tensors].map(([n, t]) => [n, t.shape]));
    expect(shapes).toEqual({
      "encoder.0.weight": [11, 15], "encoder.0.bias": [11], "encoder.1.weight": [7, 11], "encoder.1.bias": [7],
      "encoder.2.weight": [6, 7], "encoder.2.bias": [6],
      "decoder.0.weight": [6, 5], "decoder.0.bias": [6], "decoder.1.weight": [9, 6], "decoder.1.bias": [9],
      "decoder.2.weight": [26, 9], "decoder.2.bias": [26],
    });
    // contiguous, in order, covering the data section
    let at = 0;
    for (const n of f.order) { expect(f.tensors.get(n)!.begin).toBe(at); at = f.tensors.get(n)!.end; }
    expect(8 + f.headerLength + at).toBe(bytes.length);
    // the weight is the transpose of ours: W_torch[o][i] = W_ours[i][o]
    const ours = vae.getWeights()["encoder.1.weight"], theirs = f.tensors.get("encoder.1.weight")!.data;
    for (let i = 0; i < 11; i++) for (let o = 0; o < 7; o++) expect(theirs[o * 11 + i]).toBe(ours[i * 7 + o]);
    expect(f.metadata.format).toBe("pt");
    const { crc32, ...carried } = JSON.parse(f.metadata.wasm_vae_config);
    expect(carried).toEqual(vae.config);
    expect(crc32).toMatch(/^[0-9a-f]{8}$/);
  });
});

/** vae.encode / vae.decode against the float64 module on the tensors `get` gives. */
function expectModuleMatches(vae: VAE, get: (name: string) => { shape: number[]; data: ArrayLike<number> },
                             x: Float32Array, c: Float32Array | undefined, z: Float32Array, rows: number): void {
  const config = vae.config;
  const [mean, logvar] = torchForward(config, get, "encoder", x, c, rows);
  const enc = vae.encode(x, { condition: c });
  expectClose("mean", enc.mean, mean);
  expectClose("logvar", enc.logvar, logvar);
  expectClose("decode", vae.decode(z, { condition: c }), torchForward(config, get, "decoder", z, c, rows)[0]);
}

describe("PyTorch conventions: the README's module on the exported tensors", () => {
  for (const [label, config] of Object.entries(CONFIGS)) {
    it(label, async () => {
      const vae = await randomModel(config, 2);
      const f = parseSafetensors(safetensorsOf(vae));
      const get = (n: string) => { const t = f.tensors.get(n); expect(t, n).toBeDefined(); return t!; };
      const { x, c, z } = inputs(config, ROWS, 3);
      expectModuleMatches(vae, get, x, c, z, ROWS);
    });
  }

  it("MNIST 784-400-20 Bernoulli", async () => {
    const config: VAEConfig = { inputDim: 784, encoder: [400], latentDim: 20, init: "pytorch", seed: 5 };
    const vae = await VAE.create(config, { build: "plain" });
    const x = (await loadMnist({ split: "test", limit: 8 })).images;
    const f = parseSafetensors(safetensorsOf(vae));
    expectModuleMatches(vae, (n) => f.tensors.get(n)!, x, undefined, vae.encode(x).mean, 8);
  });
});

describe("the reverse path: a state_dict saved by PyTorch", () => {
  const config: VAEConfig = { inputDim: 9, encoder: [8], latentDim: 2, likelihood: "gaussian_learned", activation: "leaky_relu", activationAlpha: 0.2, conditionDim: 3 };
  /** A PyTorch model's state_dict: (out, in) weights with values of its own. */
  const stateDict = () => {
    const t: Record<string, { shape: number[]; data: Float32Array }> = {};
    const dims = { encoder: [12, 8, 4], decoder: [5, 8, 18] };
    let seed = 40;
    for (const [part, d] of Object.entries(dims)) {
      for (let i = 0; i + 1 < d.length; i++) {
        t[`${part}.${i}.weight`] = { shape: [d[i + 1], d[i]], data: randomArray(d[i] * d[i + 1], seed++, -0.5, 0.5) };
        t[`${part}.${i}.bias`] = { shape: [d[i + 1]], data: randomArray(d[i + 1], seed++, -0.5, 0.5) };
      }
    }
    return t;
  };

  it("imports with the config in metadata (architecture keys only) and encodes as the module does", async () => {
    const sd = stateDict();
    const arch = { inputDim: 9, encoder: [8], latentDim: 2, likelihood: "gaussian_learned", activation: "leaky_relu", activationAlpha: 0.2, conditionDim: 3 };
    const bytes = writeSafetensorsAsTorch(sd, { format: "pt", wasm_vae_config: JSON.stringify(arch) });
    const vae = await importModel(bytes, "safetensors");
    const { x, c, z } = inputs(config, ROWS, 7);
    expectModuleMatches(vae, (n) => sd[n], x, c, z, ROWS);
  });

  it("without a config in the file: named error, then options.config", async () => {
    const sd = stateDict();
    const bytes = writeSafetensorsAsTorch(sd);
    await expect(importModel(bytes)).rejects.toThrow(/carries no wasm-vae config; pass options.config/);
    const vae = await importModel(bytes, "safetensors", { config: { ...config, beta: 0.5, seed: 9 } });
    expect(vae.config.beta).toBe(0.5);
    const { x, c } = inputs(config, ROWS, 8);
    expectClose("mean", vae.encode(x, { condition: c }).mean, torchForward(config, (n) => sd[n], "encoder", x, c, ROWS)[0]);
  });
});

describe("round trip", () => {
  for (const [label, config] of Object.entries(CONFIGS)) {
    it(`bit-identical: ${label}`, async () => {
      const vae = await randomModel({ ...config, beta: 0.25, seed: 77, init: "he" }, 4);
      const back = await importModel(safetensorsOf(vae));
      expect(back.config).toEqual(vae.config);
      expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
    });
  }
});

describe("named errors", () => {
  const config: VAEConfig = { inputDim: 6, encoder: [5], latentDim: 2 };
  let sd: Record<string, { shape: number[]; data: Float32Array; dtype?: string }>;
  const meta = { wasm_vae_config: JSON.stringify(config) };
  beforeAll(async () => { sd = asTorchStateDict(await randomModel(config, 6)); });
  const rejects = (bytes: Uint8Array, re: RegExp, given?: VAEConfig) => {
    let err: unknown;
    try { readModel(bytes, "safetensors", { config: given }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InteropFormatError);
    expect((err as Error).message).toMatch(re);
  };

  it("unknown tensor", () => rejects(writeSafetensorsAsTorch({ ...sd, "encoder.9.weight": { shape: [1], data: new Float32Array(1) } }, meta), /unknown tensor "encoder\.9\.weight"/));
  it("missing tensor", () => {
    const { ["decoder.1.bias"]: _, ...rest } = sd;
    rejects(writeSafetensorsAsTorch(rest, meta), /tensor "decoder\.1\.bias" is missing/);
  });
  it("misshapen tensor (our (in, out) layout instead of PyTorch's)", () => {
    rejects(writeSafetensorsAsTorch({ ...sd, "encoder.0.weight": { ...sd["encoder.0.weight"], shape: [6, 5] } }, meta),
      /tensor "encoder\.0\.weight" has shape \[6, 5\], expected \[5, 6\]/);
  });
  it("non-F32 tensor", () => {
    rejects(writeSafetensorsAsTorch({ ...sd, "decoder.0.bias": { ...sd["decoder.0.bias"], dtype: "F16" } }, meta), /tensor "decoder\.0\.bias" has dtype F16; wasm-vae reads F32 only/);
  });
  it("non-finite value", () => {
    const data = sd["encoder.1.bias"].data.slice(); data[2] = NaN;
    rejects(writeSafetensorsAsTorch({ ...sd, "encoder.1.bias": { shape: [4], data } }, meta), /tensor "encoder\.1\.bias" holds a non-finite value \(NaN\) at index 2/);
  });
  it("architecture differs from options.config", () => {
    rejects(writeSafetensorsAsTorch(sd, meta), /differs from options\.config/, { ...config, activation: "tanh" });
  });
  it("invalid config in metadata", () => {
    rejects(writeSafetensorsAsTorch(sd, { wasm_vae_config: JSON.stringify({ ...config, latentDim: 0 }) }), /config it carries is invalid.*latentDim/);
  });
  it("a file edited after export (CRC)", async () => {
    const bytes = safetensorsOf(await randomModel(config, 6));
    bytes[bytes.length - 3] ^= 0x10;
    rejects(bytes, /checksum mismatch/);
  });
  it("bad arguments", async () => {
    await expect(importModel(new Uint8Array(0), "pickle" as never)).rejects.toThrow(ArgumentError);
    await expect(importModel(null as never)).rejects.toThrow(/files: expected/);
    expect(() => exportModel({} as never, "safetensors")).toThrow(/vae: expected a VAE/);
    await expect(importModel(new Uint8Array(8), "safetensors", { bogus: 1 } as never)).rejects.toThrow(/options\.bogus/);
  });
});

describe("fuzz: corrupted files", () => {
  type Mutation = (b: Uint8Array, r: () => number) => Uint8Array;
  const headerEnd = (b: Uint8Array) => 8 + new DataView(b.buffer).getUint32(0, true);
  const MUTATIONS: Record<string, Mutation> = {
    ...BYTE_MUTATIONS,
    "bit flip in the header": (b, r) => { const o = b.slice(); o[8 + Math.floor(r() * (headerEnd(b) - 8))] ^= 1 << Math.floor(r() * 8); return o; },
    "bit flip in the data": (b, r) => { const o = b.slice(); const h = headerEnd(b); o[h + Math.floor(r() * (o.length - h))] ^= 1 << Math.floor(r() * 8); return o; },
    "random header length": (b, r) => { const o = b.slice(); new DataView(o.buffer).setUint32(0, Math.floor(r() * 2 ** 32), true); if (r() < 0.3) new DataView(o.buffer).setUint32(4, Math.floor(r() * 4), true); return o; },
    "garbage header": (b, r) => { const o = b.slice(); for (let i = 8; i < headerEnd(b); i++) if (r() < 0.05) o[i] = Math.floor(r() * 256); return o; },
    "header shuffled digits": (b, r) => {
      const o = b.slice();
      for (let i = 8; i < headerEnd(b); i++) if (o[i] >= 0x30 && o[i] <= 0x39 && r() < 0.02) o[i] = 0x30 + Math.floor(r() * 10);
      return o;
    },
  };

  it("ours (with CRC): every corruption is refused with InteropFormatError, none accepted", async () => {
    const vae = await randomModel({ inputDim: 6, encoder: [5], latentDim: 2, conditionDim: 1 }, 8);
    const good = safetensorsOf(vae);
    const orig = readModel(good);
    const r = rng(2026);
    let tried = 0;
    for (const [label, mutate] of Object.entries(MUTATIONS)) {
      for (let i = 0; i < 150; i++) {
        const bad = mutate(good, r);
        if (bad.length === good.length && bad.every((v, j) => v === good[j])) continue;
        tried++;
        let got: ReturnType<typeof readModel> | undefined, err: unknown;
        try { got = readModel(bad, "safetensors"); } catch (e) { err = e; }
        if (got) {
          // accepted: only acceptable if it is exactly the original model
          expect(got.config, `${label} #${i} accepted with another config`).toEqual(orig.config);
          expect(differingTensors(got.weights, orig.weights), `${label} #${i} accepted with other weights`).toEqual([]);
        } else {
          expect(err, `${label} #${i}: ${String(err)}`).toBeInstanceOf(InteropFormatError);
        }
      }
    }
    expect(tried).toBeGreaterThan(1200);
  });

  it("foreign (no CRC): never a foreign error; data flips are the only thing a file without a checksum can hide", async () => {
    const config: VAEConfig = { inputDim: 6, encoder: [5], latentDim: 2 };
    const sd = asTorchStateDict(await randomModel(config, 9));
    const good = writeSafetensorsAsTorch(sd);
    const r = rng(7);
    for (const [label, mutate] of Object.entries(MUTATIONS)) {
      for (let i = 0; i < 100; i++) {
        const bad = mutate(good, r);
        try { readModel(bad, "safetensors", { config }); } catch (e) {
          expect(e, `${label} #${i}: ${String(e)}`).toBeInstanceOf(InteropFormatError);
        }
      }
    }
  });
});

describe("the README's PyTorch module", () => {
  // Python is not available here: the float64 module (torchModuleForward in
  // helpers.ts, run in conv.test.ts on every config) is what the tests check;
  // this pins the README's text to the same choices, line by line.
  const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
  const py = readme.slice(readme.indexOf("```python"), readme.indexOf("```", readme.indexOf("```python") + 3));

  it("uses the names, layouts and conventions the tests check", () => {
    for (const line of [
      'self.encoder, self.decoder = nn.ModuleDict(), nn.ModuleDict()',
      'if k == "dense": getattr(self, part)[i] = nn.Linear(a, b)',
      'if k == "conv2d": getattr(self, part)[i] = nn.Conv2d(a, b, l["kernel"], l["stride"])',
      'nn.ConvTranspose2d(a, b, l["kernel"], l["stride"], output_padding=l["output_padding"])',
      'if c is not None and not any(l["kind"] == "condition" for l in mine): h = torch.cat([h, c], 1)',
      'if k == "condition": h = torch.cat([h, c], 1)',
      'elif k == "conv2d": h = getattr(self, part)[i](F.pad(h, (left, right, top, bottom)))',
      'elif k == "conv2d_transpose": h = getattr(self, part)[i](h)[:, :, top:top + out[0], left:left + out[1]]',
      'if h.dim() == 4: chw, h = h.shape[1:], h.flatten(1)',
      'elif prev == "dense": h = h.view(-1, out[2], out[0], out[1])',
      'else: h, chw = nhwc(h, chw).view(-1, *out).permute(0, 3, 1, 2), None',
      'h, prev = ACT[l["activation"]](h, self.cfg["activationAlpha"]), k',
      'return self.run("encoder", x, c)[0].chunk(2, dim=1)',
      'mean = nhwc(h.chunk(n, 1)[0], None) if h.dim() == 4 else nhwc(h, chw).chunk(n, 1)[0]',
      'return torch.sigmoid(mean) if self.cfg["likelihood"] == "bernoulli" else mean',
      'cfg, layers = json.loads(meta["wasm_vae_config"]), json.loads(meta["wasm_vae_layers"])',
      'cfg.pop("crc32", None)',
      'model.load_state_dict(load_file(path))',
    ]) expect(py, line).toContain(line);
  });

  it("save_wasm_vae writes what load_wasm_vae and importModel read: the config and the layer list, float32", async () => {
    // the writer's metadata keys are the reader's (the loader needs wasm_vae_layers, which a config alone lacks)
    const save = py.slice(py.indexOf("def save_wasm_vae"), py.indexOf("\n\n", py.indexOf("def save_wasm_vae")));
    const load = py.slice(py.indexOf("def load_wasm_vae"), py.indexOf("\n\n", py.indexOf("def load_wasm_vae")));
    const read = [...load.matchAll(/meta\["(\w+)"\]/g)].map((m) => m[1]).sort();
    const written = [...save.matchAll(/"(wasm_vae_\w+)": json\.dumps/g)].map((m) => m[1]).sort();
    expect(read).toEqual(["wasm_vae_config", "wasm_vae_layers"]);
    expect(written).toEqual(read);
    expect(save).toContain(".float()");
    expect(save).toContain('"wasm_vae_config": json.dumps(model.cfg)');
    expect(save).toContain('"wasm_vae_layers": json.dumps(model.layers)');
    expect(load).toContain('cfg.pop("crc32", None)');   // a saved file has no checksum
    // a file as save_wasm_vae writes it: cfg (without crc32) and layers from an export, tensors sorted by save_file
    for (const config of [Object.values(CONFIGS)[0], { inputDim: 6, encoder: [5], latentDim: 2, conditionDim: 1 } as VAEConfig]) {
      const vae = await randomModel(config, 12);
      const meta = parseSafetensors(safetensorsOf(vae)).metadata as Record<string, string>;
      const cfg = JSON.parse(meta.wasm_vae_config);
      delete cfg.crc32;
      const bytes = writeSafetensorsAsTorch(asTorchStateDict(vae), { format: "pt", wasm_vae_config: JSON.stringify(cfg), wasm_vae_layers: meta.wasm_vae_layers });
      const back = await importModel(bytes, "safetensors");
      expect(differingTensors(back.getWeights(), vae.getWeights())).toEqual([]);
      // and what load_wasm_vae reads from it is there: the layer list, parseable
      expect(JSON.parse(parseSafetensors(bytes).metadata!.wasm_vae_layers)).toEqual(JSON.parse(meta.wasm_vae_layers));
    }
  });

  it("maps every activation, with α where ours has one", () => {
    const act = py.slice(py.indexOf("ACT = {"), py.indexOf("}", py.indexOf("ACT = {")));
    const entries = Object.fromEntries([...act.matchAll(/"(\w+)": (lambda h, a: [^,}\n]+|F\.\w+)/g)].map((m) => [m[1], m[2].trim()]));
    expect(Object.keys(entries).sort()).toEqual([...ACTIVATIONS].sort());
    // the table's PyTorch form: F.leaky_relu(h, a) is written F.leaky_relu (negative_slope=α), F.elu(h, a) F.elu (alpha=α)
    for (const a of ACTIVATIONS) {
      const t = ACTS[a].torch;
      expect(entries[a], a).toBe(t.endsWith("(h, a)") ? t.slice(0, -"(h, a)".length) : `lambda h, a: ${t}`);
    }
    expect(entries.leaky_relu).toBe("F.leaky_relu");
  });
});
