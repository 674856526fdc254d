// The `wasm-vae` command line: picks the subcommand, parses its flags, runs
// it, and maps errors to exit codes: 0 done, 1 failed (bad data or model
// file, training error), 2 usage (unknown flag, bad value), 130 interrupted.
// Run with `npm start` (= train), `npx wasm-vae <command>` in this repository, or the
// package bin (bin/wasm-vae.js). Not imported by the library entry point.
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
  if (!COMMANDS[cmd]) {
    process.stderr.write(`wasm-vae: unknown command ${JSON.stringify(cmd)} (commands: ${Object.keys(COMMANDS).join(", ")})\n`);
    return 2;
  }
  try {
    const values = parse(cmd, rest);
    if (values.help) { process.stdout.write(helpText(cmd)); return 0; }
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

// A closed pipe (`wasm-vae info … | head`) ends the output quietly, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => { if (e.code === "EPIPE") process.exit(process.exitCode ?? 0); else throw e; });
}
process.exitCode = await run(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`wasm-vae: error: ${e?.name ?? "Error"}: ${String(e?.message ?? e).split("\n")[0]}\n`);
  return 1;
});
