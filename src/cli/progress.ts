// Training progress for a terminal: one line rewritten in place (\r) with
// epoch, batch, loss (reconstruction + KL), samples/s and ETA, at most ~8
// times a second; and a plain line per epoch, which is all that is printed
// when stdout is not a TTY (CI logs). No dependency: a progress library
// would add little to a single line.

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}

export function fmt(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

export class Progress {
  private lastDraw = 0;
  private drawn = false;
  private t0 = performance.now();
  private done = 0;
  private epoch = -1;
  private epochStart = 0;
  private epochRows = 0;

  /** `totalBatches` is what this process will train (for the ETA). */
  constructor(private out: NodeJS.WriteStream, private totalBatches: number, private totalEpochs: number, readonly live = !!out.isTTY) {}

  batch(b: { epoch: number; batch: number; batches: number | null; rows: number; loss: number; reconstruction: number; kl: number; beta: number }): void {
    this.done++;
    const now = performance.now();
    if (b.epoch !== this.epoch) { this.epoch = b.epoch; this.epochStart = now - 1e-3; this.epochRows = 0; }
    this.epochRows += b.rows;
    if (!this.live) return;
    if (now - this.lastDraw < 120 && b.batch + 1 !== b.batches) return;
    this.lastDraw = now;
    const perBatch = (now - this.t0) / 1000 / this.done;
    const eta = perBatch * (this.totalBatches - this.done);
    const kl = b.beta === 1 ? `KL ${fmt(b.kl)}` : `${fmt(b.beta, 2)}·KL ${fmt(b.kl)}`;
    const line = `epoch ${b.epoch}/${this.totalEpochs}  batch ${b.batch + 1}/${b.batches ?? "?"}  loss ${fmt(b.loss)} (rec ${fmt(b.reconstruction)} + ${kl})  ` +
      `${Math.round(this.epochRows / ((now - this.epochStart) / 1000)).toLocaleString("en-US")} samples/s  ETA ${formatDuration(eta)}`;
    const cols = this.out.columns || 120;
    this.out.write(`\r${line.length >= cols ? line.slice(0, cols - 1) : line}\x1b[K`);
    this.drawn = true;
  }

  /** Prints a full line (clearing the live line first). */
  line(s: string): void {
    this.clear();
    this.out.write(s + "\n");
  }

  clear(): void {
    if (this.drawn) { this.out.write("\r\x1b[K"); this.drawn = false; }
  }
}
