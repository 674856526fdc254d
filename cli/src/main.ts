// The `wasm-vae` command line: picks the subcommand, parses its flags, runs
// it, and maps errors to exit codes: 0 done, 1 failed (bad data or model
// file, training error), 2 usage (unknown flag, bad value), 130 interrupted.
// Run as `wasm-vae <command>` after `npm i -g wasm-vae-cli`, `npx wasm-vae-cli
// <command>`, or in this repository `npm start` (= train) and `npx wasm-vae
// <command>` (the package bin, bin/wasm-vae.js). Not imported by the library.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ArgumentError, IdxFormatError, ModelFormatError, NonFiniteLossError } from "wasm-vae";
import { COMMANDS, Flags, helpText, mainHelp, parse, UsageError } from "./args.js";
import { evalCommand, imputeCommand, infoCommand, reconstructCommand, sampleCommand } from "./commands.js";
import { exportCommand, importCommand } from "./interop.js";
import { DataError } from "./data.js";
import { describeFsError, FileError, isFsError } from "./files.js";
import { MissingDependencyError } from "./chart-render.js";
import { reportCommand } from "./report.js";
import { train } from "./train.js";

const log = (s: string) => { process.stdout.write(s + "\n"); };

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    const topic = cmd === "help" ? rest[0] : undefined;
    process.stdout.write(topic && COMMANDS[topic] ? helpText(topic) : mainHelp());
    return 0;
  }
  if (cmd === "--version" || cmd === "-v" || cmd === "version") {
    process.stdout.write(versionText());
    return 0;
  }
  if (!COMMANDS[cmd]) {
    process.stderr.write(`wasm-vae: unknown command ${JSON.stringify(cmd)} (commands: ${Object.keys(COMMANDS).join(", ")})\n`);
    return 2;
  }
  try {
    const values = parse(cmd, rest);
    if (values.help) { process.stdout.write(helpText(cmd)); return 0; }
    if (values.version) { process.stdout.write(versionText()); return 0; }
    const small = cmd === "train" && values.small === true;
    const f = new Flags(cmd, values, small ? { "limit-train": "10000", epochs: "5", latent: "2" } : {});
    switch (cmd) {
      case "train": return await train(f, rest, log);
      case "eval": return await evalCommand(f, log);
      case "sample": return await sampleCommand(f, log);
      case "reconstruct": return await reconstructCommand(f, log);
      case "impute": return await imputeCommand(f, log);
      case "info": return await infoCommand(f, log);
      case "export": return await exportCommand(f, log);
      case "import": return await importCommand(f, log);
      case "report": return await reportCommand(f, log);
    }
    return 2;
  } catch (e) {
    const err = e as Error & { runLog?: string };
    if (e instanceof UsageError) {
      process.stderr.write(`wasm-vae ${cmd}: ${err.message}\n(see wasm-vae ${cmd} --help)\n`);
      return 2;
    }
    // one line, never a stack trace (a training run keeps it in its error.log)
    const known = e instanceof DataError || e instanceof ModelFormatError || e instanceof IdxFormatError || e instanceof FileError ||
      e instanceof NonFiniteLossError || e instanceof ArgumentError || e instanceof MissingDependencyError;
    const text = known ? err.message
      : isFsError(e) ? describeFsError(e, e.path ?? "?", e.syscall === "open" || e.syscall === "read" ? "read" : "write")
      : `${err?.name ?? "Error"}: ${String(err?.message ?? e).split("\n")[0]}`;
    process.stderr.write(`wasm-vae ${cmd}: error: ${text}\n`);
    if (err.runLog) process.stderr.write(`(details in ${err.runLog})\n`);
    return 1;
  }
}

/** "wasm-vae-cli 0.1.0 (wasm-vae 0.1.0, Node v20.…)": this package's version
 *  and the library's that it resolves (its package.json, found from its entry). */
function versionText(): string {
  const version = (path: string | URL) => { try { return (JSON.parse(readFileSync(path, "utf8")) as { version?: string }).version ?? "?"; } catch { return "?"; } };
  const cli = version(new URL("../package.json", import.meta.url));
  let lib = "?";
  try { lib = version(join(dirname(createRequire(import.meta.url).resolve("wasm-vae")), "..", "package.json")); } catch { /* unresolvable: "?" */ }
  return `wasm-vae-cli ${cli} (wasm-vae ${lib}, Node ${process.version})\n`;
}

// A closed pipe (`wasm-vae info … | head`) ends the output quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "EPIPE") process.exit(process.exitCode ?? 0); else throw e; });
}
process.exitCode = await run(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`wasm-vae: error: ${e?.name ?? "Error"}: ${String(e?.message ?? e).split("\n")[0]}\n`);
  return 1;
});
