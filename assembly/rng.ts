// Seeded PRNG: xoshiro128** (Blackman & Vigna), state (4 × u32) in linear
// memory and passed explicitly, seeded through splitmix64. Normals by
// Box–Muller in f64 from 32-bit uniforms on (0, 1].
// Not here: any global or hidden state.

// @ts-ignore: decorator
@inline function rotl(x: u32, k: u32): u32 {
  return (x << k) | (x >>> (32 - k));
}

// @ts-ignore: decorator
@inline function next(s: usize): u32 {
  let s0 = load<u32>(s), s1 = load<u32>(s, 4), s2 = load<u32>(s, 8), s3 = load<u32>(s, 12);
  const result = rotl(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
  store<u32>(s, s0); store<u32>(s, s1, 4); store<u32>(s, s2, 8); store<u32>(s, s3, 12);
  return result;
}

/** Writes state (4 × u32) from a 64-bit seed given as two u32 halves. */
export function rng_seed(state: usize, seedLo: u32, seedHi: u32): void {
  let x: u64 = (<u64>seedHi << 32) | <u64>seedLo;
  for (let i = 0; i < 2; i++) {
    // splitmix64
    x += 0x9E3779B97F4A7C15;
    let z = x;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EB;
    z = z ^ (z >>> 31);
    store<u32>(state + (<usize>i << 3), <u32>z);
    store<u32>(state + (<usize>i << 3) + 4, <u32>(z >>> 32));
  }
  // xoshiro must not start from the all-zero state
  if ((load<u32>(state) | load<u32>(state, 4) | load<u32>(state, 8) | load<u32>(state, 12)) == 0) {
    store<u32>(state, 1);
  }
}

/** Writes out (n) with uniforms on [0, 1) (24-bit resolution); advances state. */
export function rng_uniform(state: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    store<f32>(out + (<usize>i << 2), <f32>(next(state) >>> 8) * 5.9604644775390625e-8);
  }
}

/** Writes out (n) with standard normals (Box–Muller, pairs; an odd n drops the
 *  last partner); advances state by 2·ceil(n/2) draws. */
export function rng_normal(state: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i += 2) {
    const u1 = (<f64>next(state) + 1.0) * 2.3283064365386963e-10; // (0, 1]
    const u2 = <f64>next(state) * 2.3283064365386963e-10;         // [0, 1)
    const r = Math.sqrt(-2.0 * Math.log(u1));
    const t = 6.283185307179586 * u2;
    store<f32>(out + (<usize>i << 2), <f32>(r * Math.cos(t)));
    if (i + 1 < n) store<f32>(out + (<usize>(i + 1) << 2), <f32>(r * Math.sin(t)));
  }
}
