// CSV reader for example rows: one example per line, comma-separated
// decimal numbers, an optional header line and an optional integer label
// column. Every field is checked; errors give the file, line and column.
// Not here: quoting with embedded commas, other delimiters, streaming
// (the file is read whole: a 60,000 × 785 MNIST CSV is ~110 MB of text).

export class CsvFormatError extends Error {
  override name = "CsvFormatError";
}

export interface CsvOptions {
  /** Labels the errors (the file path). */
  name: string;
  /** 0-based column holding an integer label 0..255, "last", or null for none. */
  labelColumn: number | "last" | null;
  /** Skip the first line. */
  header: boolean;
}

export interface CsvRows {
  /** (rows, cols) feature values as written (unscaled). */
  x: Float32Array;
  labels: Uint8Array | null;
  rows: number;
  /** Feature columns (without the label column). */
  cols: number;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseCsv(text: string, o: CsvOptions): CsvRows {
  const bad = (line: number, what: string): never => { throw new CsvFormatError(`${o.name} line ${line}: ${what}`); };
  const lines = text.split("\n");
  // first pass: which lines hold data, and the column count
  const dataLines: number[] = [];
  let width = -1, widthLine = 0;
  for (let i = o.header ? 1 : 0; i < lines.length; i++) {
    const s = lines[i];
    if (s.trim() === "") continue;
    const w = countFields(s);
    if (width < 0) { width = w; widthLine = i + 1; }
    else if (w !== width) bad(i + 1, `${w} columns, expected ${width} (as on line ${widthLine})`);
    dataLines.push(i);
  }
  if (dataLines.length === 0) throw new CsvFormatError(`${o.name}: no data rows${o.header ? " after the header line" : ""}`);
  const label = o.labelColumn === "last" ? width - 1 : o.labelColumn;
  if (label !== null && (label < 0 || label >= width)) {
    throw new CsvFormatError(`${o.name}: --label-column ${o.labelColumn} is out of range: the rows have ${width} columns (0..${width - 1})`);
  }
  const cols = label === null ? width : width - 1;
  if (cols < 1) throw new CsvFormatError(`${o.name}: no feature columns left after the label column`);
  const rows = dataLines.length;
  const x = new Float32Array(rows * cols);
  const labels = label === null ? null : new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const li = dataLines[r];
    const fields = stripCr(lines[li]).split(",");
    let c = 0;
    for (let f = 0; f < width; f++) {
      let s = fields[f].trim();
      if (s.length >= 2 && s[0] === '"' && s[s.length - 1] === '"') s = s.slice(1, -1).trim();
      if (!NUMBER.test(s)) {
        const hint = r === 0 && !o.header ? " (if this line is a header, pass --header)" : "";
        bad(li + 1, `column ${f + 1}: ${s === "" ? "empty field" : `${JSON.stringify(s.length > 24 ? s.slice(0, 24) + "…" : s)} is not a number`}${hint}`);
      }
      const v = Number(s);
      if (!Number.isFinite(Math.fround(v))) bad(li + 1, `column ${f + 1}: ${s} is outside the float32 range`);
      if (f === label) {
        if (!Number.isInteger(v) || v < 0 || v > 255) bad(li + 1, `label column ${f + 1}: ${s} is not an integer label 0..255`);
        labels![r] = v;
      } else {
        x[r * cols + c++] = v;
      }
    }
  }
  return { x, labels, rows, cols };
}

function stripCr(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}

function countFields(s: string): number {
  let n = 1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 44) n++;
  return n;
}
