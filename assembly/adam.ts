// Adam / AdamW over flat parameter, gradient and moment blocks
// (Kingma & Ba 2014, Alg. 1; decoupled weight decay as Loshchilov & Hutter 2019):
//   m ← β1·m + (1−β1)·g
//   v ← β2·v + (1−β2)·g²
//   θ ← θ − lr·wd·θ                          (AdamW; wd = 0 gives Adam)
//   θ ← θ − lr·(m·bc1) / (√(v·bc2) + ε)     bc1 = 1/(1−β1ᵗ), bc2 = 1/(1−β2ᵗ)
// The host computes 1−β1, 1−β2, 1−lr·wd, bc1 and bc2 once per step (in f64).
// Four vectors per trip (each one's sqrt → div chain is long latency; one per
// trip ran 1.3–1.5× the CPU time, bench/results/step-kernels-ab.md; eight spilled).
// Threads: split into ranges of 16 parameters (each element's update is
// independent); the "kept" flags are ORed.
// Not here: clipping (see vector.ts: sum_squares, scale), schedules (host).
import { arg, argInt, argPtr, parallelFor, rangeEnd, rangeStart, rangeTasks, setArg, shouldSplit } from "./threads";

/** Updates p, m, v (n) in place from g (n). The host passes every constant
 *  computed in f64 and rounded once: b1c = 1−β1, b2c = 1−β2, decay = 1−lr·wd,
 *  bc1, bc2. A parameter whose update would not be finite keeps its old value;
 *  returns 1 if any did, else 0. */
export function adam_step(p: usize, g: usize, m: usize, v: usize, n: i32,
                          lr: f32, beta1: f32, b1c: f32, beta2: f32, b2c: f32, eps: f32, decay: f32,
                          bc1: f32, bc2: f32): i32 {
  if (!shouldSplit(<f64>n * 8)) return adamRange(p, g, m, v, n, lr, beta1, b1c, beta2, b2c, eps, decay, bc1, bc2);
  setArg(0, <f64>p); setArg(1, <f64>g); setArg(2, <f64>m); setArg(3, <f64>v);
  setArg(4, lr); setArg(5, beta1); setArg(6, b1c); setArg(7, beta2); setArg(8, b2c);
  setArg(9, eps); setArg(10, decay); setArg(11, bc1); setArg(12, bc2);
  return parallelFor(adamTask, rangeTasks(n, 16));
}

function adamTask(t: i32, _scratch: usize): i32 {
  const i0 = rangeStart(t), o = <usize>i0 << 2;
  return adamRange(argPtr(0) + o, argPtr(1) + o, argPtr(2) + o, argPtr(3) + o, rangeEnd(t) - i0,
                   <f32>arg(4), <f32>arg(5), <f32>arg(6), <f32>arg(7), <f32>arg(8),
                   <f32>arg(9), <f32>arg(10), <f32>arg(11), <f32>arg(12));
}

function adamRange(p: usize, g: usize, m: usize, v: usize, n: i32,
                   lr: f32, beta1: f32, b1c: f32, beta2: f32, b2c: f32, eps: f32, decay: f32,
                   bc1: f32, bc2: f32): i32 {
  const vb1 = f32x4.splat(beta1), vb1c = f32x4.splat(b1c);
  const vb2 = f32x4.splat(beta2), vb2c = f32x4.splat(b2c);
  const vlr = f32x4.splat(lr), vdecay = f32x4.splat(decay);
  const veps = f32x4.splat(eps), vbc1 = f32x4.splat(bc1), vbc2 = f32x4.splat(bc2);
  const zero = f32x4.splat(0);
  let allFinite = i32x4.splat(-1);
  let i = 0;
  // four vectors per trip, independent chains in flight
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const g0 = v128.load(g + o), g1 = v128.load(g + o, 16), g2 = v128.load(g + o, 32), g3 = v128.load(g + o, 48);
    const m0 = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb1c, g0));
    const m1 = f32x4.add(f32x4.mul(vb1, v128.load(m + o, 16)), f32x4.mul(vb1c, g1));
    const m2 = f32x4.add(f32x4.mul(vb1, v128.load(m + o, 32)), f32x4.mul(vb1c, g2));
    const m3 = f32x4.add(f32x4.mul(vb1, v128.load(m + o, 48)), f32x4.mul(vb1c, g3));
    const v0 = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vb2c, f32x4.mul(g0, g0)));
    const v1 = f32x4.add(f32x4.mul(vb2, v128.load(v + o, 16)), f32x4.mul(vb2c, f32x4.mul(g1, g1)));
    const v2 = f32x4.add(f32x4.mul(vb2, v128.load(v + o, 32)), f32x4.mul(vb2c, f32x4.mul(g2, g2)));
    const v3 = f32x4.add(f32x4.mul(vb2, v128.load(v + o, 48)), f32x4.mul(vb2c, f32x4.mul(g3, g3)));
    v128.store(m + o, m0); v128.store(m + o, m1, 16); v128.store(m + o, m2, 32); v128.store(m + o, m3, 48);
    v128.store(v + o, v0); v128.store(v + o, v1, 16); v128.store(v + o, v2, 32); v128.store(v + o, v3, 48);
    const s0 = f32x4.div(f32x4.mul(m0, vbc1), f32x4.add(f32x4.sqrt(f32x4.mul(v0, vbc2)), veps));
    const s1 = f32x4.div(f32x4.mul(m1, vbc1), f32x4.add(f32x4.sqrt(f32x4.mul(v1, vbc2)), veps));
    const s2 = f32x4.div(f32x4.mul(m2, vbc1), f32x4.add(f32x4.sqrt(f32x4.mul(v2, vbc2)), veps));
    const s3 = f32x4.div(f32x4.mul(m3, vbc1), f32x4.add(f32x4.sqrt(f32x4.mul(v3, vbc2)), veps));
    const p0 = v128.load(p + o), p1 = v128.load(p + o, 16), p2 = v128.load(p + o, 32), p3 = v128.load(p + o, 48);
    const u0 = f32x4.sub(f32x4.mul(p0, vdecay), f32x4.mul(vlr, s0));
    const u1 = f32x4.sub(f32x4.mul(p1, vdecay), f32x4.mul(vlr, s1));
    const u2 = f32x4.sub(f32x4.mul(p2, vdecay), f32x4.mul(vlr, s2));
    const u3 = f32x4.sub(f32x4.mul(p3, vdecay), f32x4.mul(vlr, s3));
    const f0 = f32x4.eq(f32x4.sub(u0, u0), zero), f1 = f32x4.eq(f32x4.sub(u1, u1), zero);
    const f2 = f32x4.eq(f32x4.sub(u2, u2), zero), f3 = f32x4.eq(f32x4.sub(u3, u3), zero);
    allFinite = v128.and(allFinite, v128.and(v128.and(f0, f1), v128.and(f2, f3)));
    v128.store(p + o, v128.bitselect(u0, p0, f0)); v128.store(p + o, v128.bitselect(u1, p1, f1), 16);
    v128.store(p + o, v128.bitselect(u2, p2, f2), 32); v128.store(p + o, v128.bitselect(u3, p3, f3), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const vg = v128.load(g + o);
    const vm = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb1c, vg));
    const vv = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vb2c, f32x4.mul(vg, vg)));
    v128.store(m + o, vm);
    v128.store(v + o, vv);
    const step = f32x4.div(f32x4.mul(vm, vbc1), f32x4.add(f32x4.sqrt(f32x4.mul(vv, vbc2)), veps));
    const old = v128.load(p + o);
    const upd = f32x4.sub(f32x4.mul(old, vdecay), f32x4.mul(vlr, step));
    const finite = f32x4.eq(f32x4.sub(upd, upd), zero); // x − x = 0 exactly when x is finite
    allFinite = v128.and(allFinite, finite);
    v128.store(p + o, v128.bitselect(upd, old, finite));
  }
  let ok = v128.all_true<i32>(allFinite);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = beta1 * load<f32>(m + o) + b1c * gi;
    const vi = beta2 * load<f32>(v + o) + b2c * (gi * gi);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const step = (mi * bc1) / (Mathf.sqrt(vi * bc2) + eps);
    const upd = load<f32>(p + o) * decay - lr * step;
    if (upd - upd == 0) store<f32>(p + o, upd);
    else ok = false;
  }
  return ok ? 0 : 1;
}
