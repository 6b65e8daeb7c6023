/**
 * Typed conversion of flag strings, with errors naming the flag; required-flag checks; the
 * flags that several commands share.
 *
 * @module
 */
import { type Flag, type FlagValues, UsageError } from "./command.ts";

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

/** An integer flag >= min. */
export function intFlag(name: string, text: string, min: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${text}'`);
  }
  return v;
}

/** A finite number flag, optionally within [min, max]. */
export function numberFlag(name: string, text: string, min = -Infinity, max = Infinity): number {
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be a number in [${min}, ${max}], got '${text}'`);
  }
  return v;
}

/** A positive number or the word "auto". */
export function numberOrAuto(name: string, text: string): number | "auto" {
  return text === "auto" ? "auto" : numberFlag(name, text, 0);
}
