// Makes sure Debian's Chromium is present for the browser tests (run by
// `npm test` through `pretest`). Does nothing when /usr/bin/chromium (or
// $CHROMIUM_PATH) exists. Otherwise installs the `chromium` package with apt,
// as root or through passwordless sudo; if neither is possible it says what to
// run and exits non-zero, so `npm test` does not report browser tests that
// never ran.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (existsSync(path)) process.exit(0);

const install = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium";
const fail = (why) => {
  process.stderr.write(`ensure-chromium: ${path} is missing and ${why}.\n` +
    `Install it with: sudo sh -c '${install}'  (or set CHROMIUM_PATH to a Chromium binary)\n`);
  process.exit(1);
};
if (process.platform !== "linux" || !existsSync("/usr/bin/apt-get")) fail("this is not a Debian/Ubuntu system with apt-get");

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const sudoOk = !isRoot && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
if (!isRoot && !sudoOk) fail("this user can neither install packages as root nor through passwordless sudo");

console.log(`ensure-chromium: installing Debian's chromium for the browser tests (${path} is missing)`);
const cmd = isRoot ? ["sh", ["-c", install]] : ["sudo", ["-n", "sh", "-c", install]];
try {
  execFileSync(cmd[0], cmd[1], { stdio: ["ignore", "inherit", "inherit"] });
} catch (e) {
  fail(`the apt install failed (${e.message.split("\n")[0]})`);
}
if (!existsSync(path)) fail("the chromium package did not provide it");
console.log(`ensure-chromium: installed ${path}`);
