/**
 * Typed conversion of flag strings, with errors naming the flag; required-flag checks; the
 * flags that several commands share.
 *
 * @module
 */
import { type Flag, type FlagValues, UsageError } from "./command.ts";
import { parseDecimal } from "../models/core/decimal.ts";
import { resolveClasses } from "../stages/images/classes.ts";

/** `--store`: the store directory. */
export const STORE_FLAG: Flag = {
  type: "string",
  default: ".store",
  description: "store directory",
};

/** `--out`: the artifact a command writes. */
export const OUT_FLAG: Flag = { type: "string", description: "artifact to write" };

/** `--overwrite`: replace an artifact made with other options. */
export const OVERWRITE_FLAG: Flag = {
  type: "boolean",
  description: "replace an artifact made with other options",
};

/** Throws a {@link UsageError} listing the flags among `names` that were not given. */
export function required(v: FlagValues, ...names: string[]): void {
  const missing = names.filter((n) => v[n] === undefined);
  if (missing.length) throw new UsageError(`Missing ${missing.map((n) => `--${n}`).join(", ")}`);
}

/** An integer flag >= min, written as a plain decimal integer (not "0x2", "1e1"). */
export function intFlag(name: string, text: string, min: number): number {
  const v = parseDecimal(text, "integer");
  if (v === null || v < min) {
    throw new UsageError(`--${name} must be a decimal integer >= ${min}, got '${text}'`);
  }
  return v;
}

/** A number flag, optionally within [min, max], written as a plain decimal ("0.1", not "1e-1"). */
export function numberFlag(name: string, text: string, min = -Infinity, max = Infinity): number {
  const v = parseDecimal(text, "float");
  if (v === null || v < min || v > max) {
    throw new UsageError(
      `--${name} must be a plain decimal number in [${min}, ${max}], got '${text}'`,
    );
  }
  return v;
}

/**
 * A class-list flag (a preset, one wnid, or comma-separated names), checked before the
 * command runs; returns the text, which the stage resolves the same way.
 */
export function classesFlag(name: string, text: string): string {
  try {
    resolveClasses(text);
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
  return text;
}

/** A positive number or the word "auto". */
export function numberOrAuto(name: string, text: string): number | "auto" {
  return text === "auto" ? "auto" : numberFlag(name, text, 0);
}
