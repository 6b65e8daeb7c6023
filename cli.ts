/**
 * The `mgd3` command line: `deno task mgd3 <command> [flags]`. Each command is a thin
 * wrapper over a library function exported from mod.ts.
 *
 * @module
 */
import { type Command, helpText, parseCommand, UsageError } from "./cli/command.ts";
import { discoverCommand } from "./cli/discover.ts";
import { evalCommand, metricsCommand } from "./cli/evaluate.ts";
import { fetchCommand } from "./cli/fetch.ts";
import { inspectCommand } from "./cli/inspect.ts";
import { decodeCommand, encodeCommand, sampleCommand } from "./cli/pipeline.ts";
import { trainModelCommand } from "./cli/train_model.ts";
import { type ProgressMode, setProgressMode } from "./stages/progress.ts";
import { OptionError } from "./stages/option_error.ts";

/** Every command, in the order `mgd3 --help` lists them. */
export const COMMANDS: Command[] = [
  encodeCommand,
  discoverCommand,
  sampleCommand,
  decodeCommand,
  evalCommand,
  metricsCommand,
  trainModelCommand,
  inspectCommand,
  fetchCommand,
];

function mainHelp(): string {
  const lines = ["Usage: mgd3 <command> [flags]", "", "Commands:"];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(12)} ${c.summary}`);
  lines.push("", "Run 'mgd3 <command> --help' for the flags of a command.");
  return lines.join("\n");
}

/**
 * Runs the command line and returns the exit status (0 ok, 1 failure, 2 usage error: a flag
 * the command line rejects, or an option a stage rejects before it touches the store).
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * const status = await main(["inspect", "model.safetensors"]);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(mainHelp());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(
      `mgd3: unknown command '${name}'. Commands: ${COMMANDS.map((c) => c.name).join(", ")}`,
    );
    return 2;
  }
  try {
    const { values, positionals } = parseCommand(cmd, rest);
    if (values.help) {
      console.log(helpText(cmd));
      return 0;
    }
    setProgressMode(values.progress as ProgressMode);
    await cmd.run(values, positionals);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof OptionError) {
      console.error(`${e.message}\nRun 'mgd3 ${cmd.name} --help' for usage.`);
      return 2;
    }
    console.error(`mgd3 ${cmd.name}: ${(e as Error).message}`);
    if (Deno.env.get("MGD3_DEBUG")) console.error((e as Error).stack);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
