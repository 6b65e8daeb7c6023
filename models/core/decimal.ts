/**
 * Strict parsing of the decimal numbers a user types (command-line flags). `Number()` also
 * takes "0x2", "1e1", "0b1", " 3 ", "" (as 0) and "Infinity", so `--ipc 0x2` would run with 2
 * and `--ipc 1e1` with 10; a flag takes only plain decimal digits.
 *
 * @module
 */

/** A decimal integer: optional minus sign, digits only. */
const INTEGER = /^-?\d+$/;
/** A plain decimal float: optional minus sign, digits with at most one point, no exponent. */
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)$/;

/**
 * The value of `text` as a plain decimal integer ("12", "-1") or float ("0.1", "4", ".5"),
 * or null when it is anything else: a sign '+', an exponent, hex/octal/binary, spaces, an
 * empty string, Infinity or NaN, or an integer beyond 2^53 that would lose digits.
 *
 * @example
 * ```ts
 * import { parseDecimal } from "./decimal.ts";
 * parseDecimal("10", "integer"); // 10
 * parseDecimal("0x2", "integer"); // null
 * parseDecimal("1e1", "integer"); // null
 * parseDecimal("0.1", "float"); // 0.1
 * parseDecimal("1e-4", "float"); // null
 * ```
 */
export function parseDecimal(text: string, kind: "integer" | "float"): number | null {
  if (!(kind === "integer" ? INTEGER : FLOAT).test(text)) return null;
  const v = Number(text);
  const ok = kind === "integer" ? Number.isSafeInteger(v) : Number.isFinite(v);
  return ok ? v : null;
}
