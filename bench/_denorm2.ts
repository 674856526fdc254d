import { loadKernels } from "../src/wasm.js";
for (const build of ["plain", "relaxed"] as const) {
  const k = await loadKernels({ build });
  const M = 128, K = 400, N = 400;
  let p = k.base; const take = (n: number) => { const q = p; p += (4 * n + 63) & ~63; return q; };
  const a = take(M * K), b = take(K * N), c = take(M * N), s = take(k.gemmScratchBytes(M, K) / 4);
  k.reserve(p - k.base);
  for (const [name, sa, sb] of [["normal", 1, 1], ["subnormal products", 1e-20, 1e-20], ["subnormal inputs", 1e-39, 1], ["normal", 1, 1]] as const) {
    k.f32(a, M * K).set(Float32Array.from({ length: M * K }, (_, i) => sa * (0.5 + ((i * 7) % 13) / 13)));
    k.f32(b, K * N).set(Float32Array.from({ length: K * N }, (_, i) => sb * (0.5 + ((i * 5) % 11) / 11)));
    for (let i = 0; i < 20; i++) k.raw.gemm(c, a, b, 0, M, K, N, 0, 0, 0, s);
    const c0 = process.cpuUsage(); for (let i = 0; i < 50; i++) k.raw.gemm(c, a, b, 0, M, K, N, 0, 0, 0, s); const cu = process.cpuUsage(c0);
    console.log(build, name, ((cu.user + cu.system) / 50e3).toFixed(3), "cpu-ms per gemm", k.f32(c, 1)[0]);
  }
}
