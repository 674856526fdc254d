// A Node script that trains on threads and returns (without dispose, even
// with a thread left hung by the test hook) exits by itself.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("a script that trains on 2 threads and returns exits by itself, with code 0", async () => {
  const script = fileURLToPath(new URL("./fixtures/train-and-return.mts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); resolve("still running after 60 s"); }, 60_000);
    child.on("exit", (c) => { clearTimeout(timer); resolve(c ?? -1); });
  });
  expect(code, `stderr: ${err}`).toBe(0);
  expect(out).toContain("trained threads=2 workerTasks>0=true");
  expect(out).toContain("ThreadError");
});
