/** Typed conversion of flag strings, with errors naming the flag. @module */
import { UsageError } from "./_command.ts";

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
