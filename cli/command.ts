/**
 * Command-line conventions shared by every `mgd3` command: strict flags (an unknown flag is
 * an error), `--help` on every command, generated usage text, and a global `--progress`.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One flag of a command. */
export interface Flag {
  type: "string" | "boolean";
  description: string;
  short?: string;
  default?: string | boolean;
  multiple?: boolean;
  /** For string flags, the allowed values (checked before the command runs). */
  choices?: readonly string[];
}

/** One positional argument. */
export interface Positional {
  name: string;
  description: string;
  optional?: boolean;
  /** The last positional only: takes any number of values (`ASSET...`). */
  variadic?: boolean;
}

/** Parsed flag values. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** A subcommand: a thin wrapper that parses flags and calls a library function. */
export interface Command {
  name: string;
  summary: string;
  flags: Record<string, Flag>;
  positionals: Positional[];
  /** Extra text after the generated usage (examples). */
  epilog?: string;
  run(values: FlagValues, positionals: string[]): Promise<void>;
}

/** A usage mistake: printed with a pointer to `--help`, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Record<string, Flag> = {
  help: { type: "boolean", short: "h", description: "show this help and exit" },
  progress: {
    type: "string",
    default: "auto",
    choices: ["auto", "bar", "lines", "silent"],
    description: "progress display on stderr: bar on a terminal, periodic lines otherwise",
  },
};

/**
 * Parses argv for a command, strictly: unknown flags, missing values, bad choices and a
 * wrong number of positionals all throw a {@link UsageError} naming the flag.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./command.ts";
 * const { values, positionals } = parseCommand(command, ["--seed", "0", "store/"]);
 * ```
 */
export function parseCommand(
  cmd: Command,
  argv: string[],
): { values: FlagValues; positionals: string[] } {
  const flags = { ...GLOBAL_FLAGS, ...cmd.flags };
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const [name, f] of Object.entries(flags)) {
    options[name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(
      `mgd3 ${cmd.name}: ${(e as Error).message.replace(/\. To specify.*$/s, "")}`,
    );
  }
  const values = { ...parsed.values } as FlagValues;
  if (values.help) return { values, positionals: parsed.positionals };
  for (const [name, f] of Object.entries(flags)) {
    if (values[name] === undefined && f.default !== undefined) values[name] = f.default;
    const v = values[name];
    if (f.choices && typeof v === "string" && !f.choices.includes(v)) {
      throw new UsageError(
        `mgd3 ${cmd.name}: --${name} must be one of ${f.choices.join(", ")}, got '${v}'`,
      );
    }
  }
  const required = cmd.positionals.filter((p) => !p.optional).length;
  const n = parsed.positionals.length;
  const max = cmd.positionals.at(-1)?.variadic ? Infinity : cmd.positionals.length;
  if (n < required || n > max) {
    const names = cmd.positionals.map(positionalUsage).join(" ");
    throw new UsageError(`mgd3 ${cmd.name}: expected arguments ${names || "(none)"}, got ${n}`);
  }
  return { values, positionals: parsed.positionals };
}

/**
 * The `--help` text of a command.
 *
 * @example
 * ```ts
 * import { helpText } from "./command.ts";
 * console.log(helpText(command));
 * ```
 */
export function helpText(cmd: Command): string {
  const pos = cmd.positionals.map(positionalUsage).join(" ");
  const lines = [`Usage: mgd3 ${cmd.name} [flags] ${pos}`.trimEnd(), "", cmd.summary, ""];
  if (cmd.positionals.length) {
    lines.push("Arguments:");
    for (const p of cmd.positionals) lines.push(`  ${p.name.padEnd(24)} ${p.description}`);
    lines.push("");
  }
  lines.push("Flags:");
  for (const [name, f] of Object.entries({ ...cmd.flags, ...GLOBAL_FLAGS })) {
    const head = `${f.short ? `-${f.short}, ` : ""}--${name}${
      f.type === "string" ? " <value>" : ""
    }`;
    const extra = [
      f.choices ? `one of: ${f.choices.join(", ")}` : "",
      f.default !== undefined && f.type === "string" ? `default: ${f.default}` : "",
    ].filter(Boolean).join("; ");
    lines.push(`  ${head.padEnd(28)} ${f.description}${extra ? ` (${extra})` : ""}`);
  }
  if (cmd.epilog) lines.push("", cmd.epilog);
  return lines.join("\n");
}

function positionalUsage(p: Positional): string {
  const name = `${p.name}${p.variadic ? "..." : ""}`;
  return p.optional ? `[${name}]` : name;
}
