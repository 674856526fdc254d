// In-process tests of the CLI's pure parts: the .npy and CSV readers, the
// normal quantile, the power-iteration PCA, tick placement and masks.
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../cli/src/csv.js";
import { halfMask } from "../../cli/src/figures.js";
import { encodeNpy, parseNpy } from "../../cli/src/npy.js";
import { percentile } from "../../cli/src/charts.js";
import { normalQuantile, pca2 } from "../../cli/src/stats.js";
import { Flags, parse, UsageError } from "../../cli/src/args.js";
import { ARCHS } from "../../cli/src/presets.js";
import { IMPUTE_METHODS, LIKELIHOODS } from "../../src/index.js";

/** A .npy file with a hand-written header of any version. */
function npy(major: number, dict: string, body: Uint8Array): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  let head = dict;
  head += " ".repeat((64 - ((pre + head.length + 1) % 64)) % 64) + "\n";
  const h = new TextEncoder().encode(head);
  const out = new Uint8Array(pre + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, h.length, true); else dv.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(body, pre + h.length);
  return out;
}

describe("parseNpy", () => {
  const f32 = new Float32Array([0, 0.5, 1, -2, 3.25, 1e-7]);
  const body = new Uint8Array(f32.buffer);

  it("reads versions 1, 2 and 3 (float32, uint8)", () => {
    for (const v of [1, 2, 3]) {
      const a = parseNpy(npy(v, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", body), "t.npy", ["float32"]);
      expect(a.shape).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual(Array.from(f32));
    }
    const u = parseNpy(encodeNpy(Uint8Array.from([1, 2, 255]), [3, 1]), "u.npy", ["uint8"]);
    expect(u).toMatchObject({ descr: "|u1", dtype: "uint8", shape: [3, 1] });
    expect(Array.from(u.data)).toEqual([1, 2, 255]);
  });

  it("reads an unaligned header and 1-tuple shapes", () => {
    const b = npy(1, '{"descr": "<i4", "fortran_order": False, "shape": (2,)}', new Uint8Array(new Int32Array([7, -1]).buffer));
    expect(Array.from(parseNpy(b, "l.npy", ["int32"]).data)).toEqual([7, -1]);
  });

  it("rejects what it cannot read, naming the file and the fix", () => {
    const bad = (b: Uint8Array, re: RegExp, allowed: ("float32" | "uint8")[] = ["uint8", "float32"]) =>
      expect(() => parseNpy(b, "x.npy", allowed)).toThrow(re);
    bad(new Uint8Array([1, 2, 3]), /x\.npy: truncated: 3 byte/);
    bad(new TextEncoder().encode("PK\x03\x04 not npy at all"), /not a NumPy \.npy file/);
    bad(npy(4, "{}", new Uint8Array(0)), /unsupported \.npy format version 4\.0/);
    bad(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(48)), /dtype '<f8' \(float64\) is not supported here: expected '\|u1' \(uint8\) or '<f4' \(float32\) — convert/);
    bad(npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", body), /big-endian dtype '>f4'/);
    bad(npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", body), /dtype '<c8' is not supported/);
    bad(npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", body), /structured dtypes/);
    bad(npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", body), /fortran_order is True/);
    bad(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", body), /truncated data: shape 2×4 '<f4' needs 32 data bytes, the file has 24/);
    bad(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", body), /trailing bytes: .* \(12 extra\)/);
    bad(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new Uint8Array(4)), /0-d/);
    bad(npy(1, "{'descr': '<f4', 'shape': (2, 3), }", body), /no 'fortran_order'/);
    const b = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", body);
    bad(b.subarray(0, 40), /truncated header/);
  });
});

describe("parseCsv", () => {
  const o = { name: "d.csv", labelColumn: null, header: false } as const;
  it("reads rows, labels (first or last column), CRLF, blank lines and a header", () => {
    const r = parseCsv("a,b,c\r\n1,0.5,2e-1\r\n\r\n0,.25,+1\r\n", { ...o, header: true, labelColumn: 0 });
    expect(r).toMatchObject({ rows: 2, cols: 2 });
    expect(Array.from(r.labels!)).toEqual([1, 0]);
    expect(Array.from(r.x)).toEqual([0.5, Math.fround(0.2), 0.25, 1]);
    const l = parseCsv("0.5,3\n0.25,7\n", { ...o, labelColumn: "last" });
    expect(Array.from(l.labels!)).toEqual([3, 7]);
  });
  it("names the line and column of each problem", () => {
    expect(() => parseCsv("1,2\n3,4,5\n", o)).toThrow("d.csv line 2: 3 columns, expected 2 (as on line 1)");
    expect(() => parseCsv("1,2\n3,\n", o)).toThrow("d.csv line 2: column 2: empty field");
    expect(() => parseCsv("1,2\n3,NaN\n", o)).toThrow('d.csv line 2: column 2: "NaN" is not a number');
    expect(() => parseCsv("1,2\n3,1e39\n", o)).toThrow("outside the float32 range");
    expect(() => parseCsv("1.5,2\n", { ...o, labelColumn: 0 })).toThrow("d.csv line 1: label column 1: 1.5 is not an integer label 0..255");
    expect(() => parseCsv("1,2\n", { ...o, labelColumn: 5 })).toThrow("--label-column 5 is out of range: the rows have 2 columns");
    expect(() => parseCsv("\n\n", o)).toThrow("d.csv: no data rows");
  });
});

describe("numeric helpers", () => {
  it("normalQuantile matches known quantiles", () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 7);
    expect(normalQuantile(0.025)).toBeCloseTo(-1.959963985, 7);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 6);
    expect(() => normalQuantile(0)).toThrow(RangeError);
  });

  it("pca2 finds the principal axes of a stretched, rotated cloud", () => {
    // points along (1, 1, 0)/√2 with variance 9, (1, −1, 0)/√2 with variance 1, and 0.01 on z
    const n = 4000, rows = new Float64Array(n * 3);
    let s = 7;
    const u = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
    const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    for (let i = 0; i < n; i++) {
      const a = 3 * g(), b = g(), c = 0.1 * g();
      rows[i * 3] = (a + b) / Math.SQRT2 + 5; rows[i * 3 + 1] = (a - b) / Math.SQRT2 - 2; rows[i * 3 + 2] = c;
    }
    const p = pca2(rows, n, 3);
    expect(p.explained[0]).toBeCloseTo(9 / 10.01, 1);
    expect(p.explained[1]).toBeCloseTo(1 / 10.01, 1);
    // the first coordinate is the projection on ±(1, 1, 0)/√2 of the centred rows
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < n; i++) {
      const proj = (rows[i * 3] - 5 + rows[i * 3 + 1] + 2) / Math.SQRT2;
      dot += proj * p.x[i]; na += proj * proj; nb += p.x[i] * p.x[i];
    }
    expect(Math.abs(dot) / Math.sqrt(na * nb)).toBeGreaterThan(0.999);
  });

  it("percentile picks the nearest-rank value of the finite entries", () => {
    expect(percentile([5, 1, NaN, 3, 2, 4], 0)).toBe(1);
    expect(percentile([5, 1, NaN, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, NaN, 3, 2, 4], 1)).toBe(5);
    expect(percentile([NaN], 0.5)).toBeNaN();
  });

  it("halfMask hides the bottom half of an image (1 = observed)", () => {
    expect(Array.from(halfMask([4, 2]))).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(halfMask([2, 4], "left"))).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(halfMask([1, 4]))).toEqual([1, 1, 0, 0]);
  });
});

describe("flag values: snake_case, the kebab spellings before issue 16 as deprecated synonyms", () => {
  const read = (argv: string[], name: string, choices: readonly string[]) => new Flags("train", parse("train", argv)).oneOf(name, choices);
  it("--likelihood gaussian-learned, --arch keras-conv and --method pseudo-gibbs name the snake_case values", () => {
    expect(read(["--likelihood", "gaussian-learned"], "likelihood", LIKELIHOODS)).toBe("gaussian_learned");
    expect(read(["--likelihood", "gaussian_learned"], "likelihood", LIKELIHOODS)).toBe("gaussian_learned");
    expect(read(["--arch", "keras-conv"], "arch", ARCHS)).toBe("keras_conv");
    expect(read(["--arch", "keras_conv"], "arch", ARCHS)).toBe("keras_conv");
    expect(new Flags("impute", parse("impute", ["--method", "pseudo-gibbs"])).oneOf("method", IMPUTE_METHODS)).toBe("pseudo_gibbs");
  });
  it("anything else is a UsageError listing the accepted values; a synonym of one flag is not accepted by another", () => {
    expect(() => read(["--arch", "keras conv"], "arch", ARCHS)).toThrow(new UsageError('--arch: expected one of mlp, keras_conv, conv, iwae2, got "keras conv"'));
    expect(() => read(["--likelihood", "keras-conv"], "likelihood", LIKELIHOODS)).toThrow(new UsageError('--likelihood: expected one of bernoulli, gaussian, gaussian_learned, got "keras-conv"'));
    expect(() => read(["--arch", "gaussian-learned"], "arch", ARCHS)).toThrow(UsageError);
  });
});
