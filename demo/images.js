// A folder of the user's images for the demo page, read in the browser as
// the CLI's `--data images` reads one: PNG and JPEG files (checked by their
// first bytes), labels from the subfolder names when every image is in one
// (sorted names → 0, 1, …), hidden files and folders ignored, EXIF
// orientation applied, transparency on black, scaled to cover h × w and
// centre-cropped, grey (Rec. 709 luminance) or RGB, as uint8 NHWC rows. Files
// that do not decode are skipped and counted. The held-out test split takes,
// in each class and file-name order, 1 in 10 files (the CLI's rule).
// Decoding is the browser's (createImageBitmap); nothing here talks to the worker.

const PNG = [0x89, 0x50, 0x4e, 0x47], JPEG = [0xff, 0xd8, 0xff];

/** [{ file, path }] from a drop: folders are walked (webkitGetAsEntry). The
 *  dropped folder's own name is not part of the path. Without entries (a
 *  browser without the API, or files dropped by a script) the dropped files. */
export async function entriesFromDrop(dataTransfer) {
  const out = [];
  const roots = [...dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (roots.length === 0) return entriesFromInput(dataTransfer.files);
  const single = roots.length === 1 && roots[0].isDirectory;
  const walk = async (entry, prefix) => {
    if (entry.name.startsWith(".")) return;
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, path: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      const next = prefix === null ? "" : prefix + entry.name + "/";
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e, next);
      }
    }
  };
  for (const r of roots) await walk(r, single ? null : "");
  return out;
}

/** [{ file, path }] from an <input webkitdirectory> (or plain multiple) FileList. */
export function entriesFromInput(files) {
  return [...files].map((file) => {
    const rel = file.webkitRelativePath || file.name;
    const parts = rel.split("/");
    return { file, path: parts.length > 1 ? parts.slice(1).join("/") : rel };
  }).filter((e) => !e.path.split("/").some((p) => p.startsWith(".")));
}

const classOf = (path) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : null);

async function isPngOrJpeg(file) {
  const b = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return PNG.every((v, i) => b[i] === v) || JPEG.every((v, i) => b[i] === v);
}

/** Multiple of 4 no larger than `v` (at least 4): the conv net needs it. */
const four = (v) => Math.max(4, Math.floor(v / 4) * 4);

/**
 * Decodes the images. `size` [h, w] or null (the first image's, scaled down to
 * at most `maxSide` and to multiples of 4); `channels` 1, 3 or null (1 when
 * the first image is grey: R = G = B everywhere).
 * → { pixels: Uint8Array (n·h·w·c), labels: Uint8Array | null, classNames,
 *     paths, n, shape: [h, w, c], skipped: [{ path, reason }] }
 */
export async function readImages(entries, { size = null, channels = null, maxSide = 64, onProgress } = {}) {
  entries = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (entries.length === 0) throw new Error("the folder holds no files (expected PNG or JPEG images, or one subfolder of them per class)");
  const top = entries.filter((e) => classOf(e.path) === null);
  let classNames = null;
  if (top.length < entries.length) {
    if (top.length > 0) throw new Error(`${top[0].path}: lies beside class subfolders; put every image in a class subfolder, or none`);
    classNames = [...new Set(entries.map((e) => classOf(e.path)))].sort();
    if (classNames.length > 256) throw new Error(`${classNames.length} class subfolders; at most 256 are supported`);
    const rank = new Map(classNames.map((c, i) => [c, i]));
    entries.sort((a, b) => rank.get(classOf(a.path)) - rank.get(classOf(b.path)) || (a.path < b.path ? -1 : 1));
  }
  const skipped = [];
  const bitmaps = [];
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k];
    let bmp = null;
    if (!(await isPngOrJpeg(e.file))) skipped.push({ path: e.path, reason: "not a PNG or JPEG image" });
    else {
      try {
        bmp = await createImageBitmap(e.file, { imageOrientation: "from-image" });
      } catch (err) {
        skipped.push({ path: e.path, reason: `cannot decode (${err.message})` });
      }
    }
    bitmaps.push(bmp);
    onProgress?.(k + 1, entries.length);
  }
  const first = bitmaps.find(Boolean);
  if (!first) throw new Error(`none of the ${entries.length} files is a readable PNG or JPEG image`);
  if (!size) {
    const s = Math.min(1, maxSide / Math.max(first.width, first.height));
    size = [four(first.height * s), four(first.width * s)];
  }
  const [h, w] = size;
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  const rgba = (bmp) => {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, w, h);
    const scale = Math.max(w / bmp.width, h / bmp.height);
    const sw = w / scale, sh = h / scale;
    ctx.drawImage(bmp, (bmp.width - sw) / 2, (bmp.height - sh) / 2, sw, sh, 0, 0, w, h);
    return ctx.getImageData(0, 0, w, h).data;
  };
  if (!channels) {
    const d = rgba(first);
    channels = 1;
    for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i + 1] !== d[i + 2]) { channels = 3; break; }
  }
  const c = channels, D = h * w * c;
  const keep = bitmaps.map((b, i) => (b ? i : -1)).filter((i) => i >= 0);
  const pixels = new Uint8Array(keep.length * D);
  keep.forEach((i, k) => {
    const d = rgba(bitmaps[i]);
    for (let p = 0; p < h * w; p++) {
      if (c === 3) { pixels[k * D + 3 * p] = d[4 * p]; pixels[k * D + 3 * p + 1] = d[4 * p + 1]; pixels[k * D + 3 * p + 2] = d[4 * p + 2]; }
      else pixels[k * D + p] = Math.round(0.2126 * d[4 * p] + 0.7152 * d[4 * p + 1] + 0.0722 * d[4 * p + 2]);
    }
    bitmaps[i].close();
  });
  const paths = keep.map((i) => entries[i].path);
  let labels = null;
  if (classNames) {
    const rank = new Map(classNames.map((cn, i) => [cn, i]));
    labels = Uint8Array.from(paths, (p) => rank.get(classOf(p)));
  }
  return { pixels, labels, classNames, paths, n: keep.length, shape: [h, w, c], skipped };
}

/** Train and test row indices: in each class, in file order, row i is held
 *  out when ⌊(i + 1)·f⌋ > ⌊i·f⌋; test rows interleaved over the classes. */
export function holdOut(labels, n, fraction = 0.1) {
  const seen = new Map(), train = [], test = [];
  for (let r = 0; r < n; r++) {
    const k = labels ? labels[r] : 0, i = seen.get(k) ?? 0;
    seen.set(k, i + 1);
    (Math.floor((i + 1) * fraction + 1e-9) > Math.floor(i * fraction + 1e-9) ? test : train).push(r);
  }
  if (!labels) return { train, test };
  const by = new Map();
  for (const r of test) { if (!by.has(labels[r])) by.set(labels[r], []); by.get(labels[r]).push(r); }
  const lists = [...by.keys()].sort((a, b) => a - b).map((k) => by.get(k));
  const inter = [];
  for (let i = 0; inter.length < test.length; i++) for (const l of lists) if (i < l.length) inter.push(l[i]);
  return { train, test: inter };
}

/** Rows `idx` of (n, D) uint8 pixels, copied. */
export function pick(pixels, D, idx) {
  const out = new Uint8Array(idx.length * D);
  idx.forEach((r, i) => out.set(pixels.subarray(r * D, (r + 1) * D), i * D));
  return out;
}
