// Makes sure native PyTorch is present for bench/limit.ts (`npm run
// bench:limit`), which runs it as a peer in its training-step rounds
// (bench/torch-peer.ts, bench/torch-vae.py). Not part of `npm test`.
//
// Does nothing when `/usr/bin/python3 -c "import torch"` works and loads
// Debian's OpenMP OpenBLAS (with its directory first on the library path, as
// the peer's children run; with $TORCH_PYTHON, any optimized BLAS). Otherwise
// installs Debian's `python3-torch` with apt (no recommends), together with
// `libopenblas0-openmp`: without recommends the package's BLAS is Debian's
// reference libblas3 (unoptimized loops), and OpenBLAS's OpenMP variant follows
// torch.set_num_threads (the pthread variant keeps its own thread count). As
// root or through passwordless sudo; if neither is possible it says what to
// run and exits non-zero.
//   TORCH_PYTHON=/path/to/python  use that interpreter (nothing is installed for it)
//   TORCH_ANY_BLAS=1              accept whatever BLAS torch loads
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const custom = process.env.TORCH_PYTHON;
const python = custom || "/usr/bin/python3";
const PACKAGES = "python3-torch libopenblas0-openmp";
const install = `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${PACKAGES}`;

// the BLAS libraries torch's process maps after one matmul
const probe = "import torch\ntorch.ones(4, 4) @ torch.ones(4, 4)\n" +
  "print('torch-ok', ' '.join(sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and l.split()[-1].startswith('/')})))";
// as bench/torch-peer.ts starts its children: Debian's OpenMP OpenBLAS first on the library path
const ompDir = `/usr/lib/${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/openblas-openmp`;
function check() {
  const env = { ...process.env, ...(existsSync(ompDir) ? { LD_LIBRARY_PATH: [ompDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") } : {}) };
  const r = spawnSync(python, ["-c", probe], { encoding: "utf8", env });
  if (r.error) return { ok: false, why: `${python} does not run (${r.error.message})` };
  if (r.status !== 0) return { ok: false, why: `${python} cannot import torch (${(r.stderr || "").trim().split("\n").at(-1)})` };
  if (!r.stdout.startsWith("torch-ok")) return { ok: false, why: `${python} did not run the torch probe (it printed ${JSON.stringify(r.stdout.slice(0, 80))})` };
  const libs = r.stdout.slice("torch-ok".length).trim();
  // the OpenMP OpenBLAS (the peer's thread counts depend on it), or with TORCH_PYTHON any optimized BLAS
  const fast = custom ? /openblas|blis|mkl|atlas/i.test(libs) : libs.includes("openblas-openmp");
  return { ok: true, fast, libs };
}

const fail = (why) => {
  process.stderr.write(`ensure-torch: native PyTorch is needed by bench/limit.ts and ${why}.\n` +
    (custom ? `Install torch for ${python}, or unset TORCH_PYTHON to use Debian's python3-torch.\n`
      : `Install it with: sudo sh -c '${install}'\n`) +
    "Or run bench/limit.ts with --no-torch to leave PyTorch out.\n");
  process.exit(1);
};

let c = check();
if (c.ok && (c.fast || process.env.TORCH_ANY_BLAS)) process.exit(0);
const need = c.ok ? `torch's BLAS is not Debian's OpenMP OpenBLAS (${c.libs || "no BLAS library mapped"}; TORCH_ANY_BLAS=1 accepts it)` : c.why;
if (custom) fail(need);
if (process.platform !== "linux" || !existsSync("/usr/bin/apt-get")) fail(`${need}, and this is not a Debian/Ubuntu system with apt-get`);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const sudoOk = !isRoot && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
if (!isRoot && !sudoOk) fail(`${need}, and this user can neither install packages as root nor through passwordless sudo`);

console.log(`ensure-torch: installing Debian's ${PACKAGES} for bench/limit.ts (${need})`);
const cmd = isRoot ? ["sh", ["-c", install]] : ["sudo", ["-n", "sh", "-c", install]];
try {
  execFileSync(cmd[0], cmd[1], { stdio: ["ignore", "inherit", "inherit"] });
} catch (e) {
  fail(`the apt install failed (${e.message.split("\n")[0]})`);
}
c = check();
if (!c.ok) fail(`it still does not work after the install: ${c.why}`);
if (!c.fast && !process.env.TORCH_ANY_BLAS) fail(`torch still does not load the OpenMP OpenBLAS after the install (${c.libs})`);
console.log(`ensure-torch: ${python} imports torch (BLAS: ${c.libs})`);
