// A JavaScript xoshiro128** stream for host-side randomness (epoch shuffles),
// with its state explicit so checkpoints can resume it bit-identically.
// Kernel-side randomness (ε, initial weights) lives in wasm (assembly/rng.ts).

export class HostRng {
  s: Uint32Array;

  constructor(seed: number, stream = 0) {
    this.s = new Uint32Array(4);
    // splitmix32 over (seed, stream) fills the state
    let x = (Math.floor(seed / 2 ** 32) ^ Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform integer in [0, n), unbiased (rejection). */
  below(n: number): number {
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }

  /** Fisher–Yates shuffle of perm in place. */
  shuffle(perm: Uint32Array): void {
    for (let i = perm.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Yields to the event loop cheaply (setImmediate in Node, a MessageChannel
 *  task in browsers; setTimeout(0) would be clamped to 4 ms). */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === "function") return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === "function") {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { ch.port1.close(); r(); };
      ch.port2.postMessage(0);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}
