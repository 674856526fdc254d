// dense_backward on threads when both of its products pack op(A) once
// (gemm_pair's packBoth): dW's xᵀ (IN, B) and dx's g (B, OUT) are packed side
// by side in the caller's scratch, the second block at the next 64-byte
// boundary, in one job; a second job splits both products' column strips.
// The scratch here is exactly denseBackwardScratchBytes(B, IN, OUT) bytes,
// placed so that the second block needs the most padding (the first ends 4
// bytes past a 64-byte boundary), between two guards. Shapes: K = B and
// K = OUT ≥ 128 over one to four 256-deep K blocks, row counts off the tile
// multiples (5 plain, 6 relaxed), the MLP's 400→784 layer at B = 128; on 2,
// 3 and 4 threads, both builds. The guards must hold, the call must have
// gone through packBoth (three split calls: the bias pass, the packing job,
// the strips job; the other pair path makes two), and dx, dW, db must match
// float64 (the plain build: in-order float32 bit for bit) with the bits of
// the one-thread module.
// Not here: the pair's other paths and every activation (fused.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ThreadPool } from "../../src/threads/pool.js";
import { loadThreadedKernels } from "../../src/threads/threads.js";
import { denseBackwardScratchBytes } from "../../src/base/scratch.js";
import type { Build, Kernels } from "../../src/kernels/wasm.js";
import { gemmF32SequentialRef, gemmRef, randomArray } from "../reference.js";
import { Arena, BUILDS, bitsOf, expectClose, expectSameBits, load } from "../kernels/helpers.js";

const THREADS = [2, 3, 4] as const;
// [B, IN, OUT]: both products pack once on up to 4 threads (K ≥ 128, packed
// op(A) ≤ 512 KiB, ≥ 16 column strips each)
const SHAPES: [number, number, number][] = [[130, 260, 300], [257, 131, 400], [136, 161, 769], [128, 400, 784]];
const GUARD = 16, SENTINEL = 12345;

interface Mod { k: Kernels; arena: Arena; pool: ThreadPool | null }

describe.each(BUILDS)("dense_backward's pair packing stays inside its scratch, %s build", (build: Build) => {
  const mods = new Map<number, Mod>();
  beforeAll(async () => {
    for (const t of [1, ...THREADS]) {
      const k = t === 1 ? await load(build) : await loadThreadedKernels({ build, threads: t });
      expect(k.threads, "threads running").toBe(t);
      const pool = k.threadsHandle as ThreadPool | null;
      pool?.tune({ minWork: 0 });
      mods.set(t, { k, arena: new Arena(k, 16 << 20), pool });
    }
  });
  afterAll(() => {
    for (const t of THREADS) mods.get(t)!.k.dispose();
  });

  function run(m: Mod, B: number, IN: number, OUT: number, d: Record<string, Float32Array>) {
    const { k, arena } = m;
    arena.reset();
    const x = arena.put(d.x), w = arena.put(d.w), y = arena.put(d.y), dy = arena.put(d.dy);
    const dx = arena.alloc(B * IN), dw = arena.alloc(IN * OUT), db = arena.alloc(OUT);
    const need = k.denseBackwardScratchBytes(B, IN, OUT);
    expect(need, "the wasm's size is the planner's").toBe(denseBackwardScratchBytes(B, IN, OUT));
    // the first packed block (dW's op(A) = xᵀ: ceil(IN/MR)·MR rows × B) ends
    // 4 bytes past a 64-byte boundary, so the second starts 60 bytes later
    const first = Math.ceil(IN / k.tileRows) * k.tileRows * B * 4;
    const region = arena.alloc(GUARD + 16 + need / 4 + GUARD);
    const p0 = region + 4 * GUARD, scratch = p0 + ((((4 - (p0 + first)) % 64) + 64) % 64);
    expect((scratch + first) % 64).toBe(4);
    const before = scratch - 4 * GUARD, after = scratch + need;
    k.fill(region, GUARD + 16 + need / 4 + GUARD, SENTINEL);
    const calls = m.pool?.stats().splitCalls ?? 0;
    k.denseBackward({ dx, dw, db, dy, x, w, y, batch: B, inDim: IN, outDim: OUT, activation: "identity", accumulate: false, scratch });
    if (m.pool) expect(m.pool.stats().splitCalls - calls, "split calls: bias pass, packing both op(A), both products' strips").toBe(3);
    expect(Array.from(arena.get(before, GUARD)).every((v) => v === SENTINEL), "guard before the scratch").toBe(true);
    const tail = Array.from(arena.get(after, GUARD));
    expect(tail.every((v) => v === SENTINEL), `guard after the scratch: ${tail.slice(0, 4)}`).toBe(true);
    return { dx: arena.get(dx, B * IN), dw: arena.get(dw, IN * OUT), db: arena.get(db, OUT) };
  }

  it.each(SHAPES.map((s) => [s.join("×"), s] as const))("B×IN×OUT %s", (_, [B, IN, OUT]) => {
    const s = 1 / Math.sqrt(OUT);
    const d = { x: randomArray(B * IN, B + IN, -2, 2), w: randomArray(IN * OUT, OUT + 3, -s, s), y: randomArray(B * OUT, 5), dy: randomArray(B * OUT, 4) };
    const one = run(mods.get(1)!, B, IN, OUT, d);
    // identity: g = dy, so dW = xᵀ·dy, dx = dy·Wᵀ, db = Σ_b dy
    const dwRef = gemmRef(d.x, d.dy, IN, B, OUT, { transA: true }), dxRef = gemmRef(d.dy, d.w, B, OUT, IN, { transB: true });
    expectClose(one.dw, dwRef, 1e-4, "dW vs float64 xᵀ·dy", Math.sqrt(B));
    expectClose(one.dx, dxRef, 1e-4, "dx vs float64 dy·Wᵀ");
    const db = new Float64Array(OUT);
    for (let r = 0; r < B; r++) for (let j = 0; j < OUT; j++) db[j] += d.dy[r * OUT + j];
    expectClose(one.db, db, 1e-4, "db vs float64 column sums", Math.sqrt(B));
    if (build === "plain") {
      expectSameBits(bitsOf(one.dw), bitsOf(gemmF32SequentialRef(d.x, d.dy, IN, B, OUT, { transA: true })), "plain dW: in-order f32");
      expectSameBits(bitsOf(one.dx), bitsOf(gemmF32SequentialRef(d.dy, d.w, B, OUT, IN, { transB: true })), "plain dx: in-order f32");
    }
    for (const t of THREADS) {
      const got = run(mods.get(t)!, B, IN, OUT, d);
      for (const key of ["dx", "dw", "db"] as const) expectSameBits(bitsOf(got[key]), bitsOf(one[key]), `${key}, ${t} threads vs one`);
    }
  }, 60_000);
});
