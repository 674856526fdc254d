// Training progress for a terminal: a cli-progress bar per epoch with batch,
// loss (reconstruction + KL), samples/s and the ETA of the whole run; and a
// plain line per epoch, which is all that is printed when stdout is not a TTY
// (CI logs).
import cliProgress from "cli-progress";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}

/** v to `digits` decimals with the minus sign "−" (U+2212) that the rest of
 *  the output uses ("test −ELBO"), not the hyphen-minus; a value that rounds
 *  to zero has no sign ("0.00", not "−0.00"). */
export function fmt(v: number, digits = 2): string {
  const s = Number.isFinite(v) ? v.toFixed(digits) : String(v);
  if (!s.startsWith("-")) return s;
  return /^-[0.]*$/.test(s) ? s.slice(1) : `−${s.slice(1)}`;
}

/** fmt with an explicit sign: "+13.2", "−13.2", and "0.0" for what rounds to zero. */
export function fmtSigned(v: number, digits = 2): string {
  const s = fmt(v, digits);
  return s.startsWith("−") || /^[0.]*$/.test(s) || Number.isNaN(v) ? s : `+${s}`;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
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
    if (b.epoch !== this.epoch) {
      this.epoch = b.epoch; this.epochStart = now - 1e-3; this.epochRows = 0;
      this.clear();
      if (this.live) {
        this.bar = new cliProgress.SingleBar({
          stream: this.out, fps: 8, barsize: 20, hideCursor: false, clearOnComplete: true,
          format: "epoch {epoch}/{epochs} {bar} {value}/{total}  loss {loss} (rec {rec} + {kl})  {sps} samples/s  ETA {runEta}",
        }, cliProgress.Presets.shades_classic);
        this.bar.start(b.batches ?? 0, 0, this.payload(b, now));
      }
    }
    this.epochRows += b.rows;
    this.bar?.update(b.batch + 1, this.payload(b, now));
  }

  private payload(b: { epoch: number; loss: number; reconstruction: number; kl: number; beta: number }, now: number) {
    const perBatch = (now - this.t0) / 1000 / Math.max(1, this.done);
    return {
      epoch: b.epoch, epochs: this.totalEpochs, loss: fmt(b.loss), rec: fmt(b.reconstruction),
      kl: b.beta === 1 ? `KL ${fmt(b.kl)}` : `${fmt(b.beta, 2)}·KL ${fmt(b.kl)}`,
      sps: Math.round(this.epochRows / ((now - this.epochStart) / 1000)).toLocaleString("en-US"),
      runEta: formatDuration(perBatch * (this.totalBatches - this.done)),
    };
  }

  /** Prints a full line (clearing the live bar first). */
  line(s: string): void {
    this.clear();
    this.out.write(s + "\n");
  }

  clear(): void {
    if (this.bar) { this.bar.stop(); this.bar = null; }
  }
}
