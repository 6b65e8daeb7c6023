/**
 * Input and option checks shared by the mode-discovery functions. Every message names the
 * function, the option and what was expected.
 *
 * @module
 */

/** Checks that `X` is a finite [n, d] row-major matrix. */
export function checkData(fn: string, X: Float32Array, n: number, d: number): void {
  if (!(X instanceof Float32Array)) {
    throw new TypeError(`${fn}: X must be a Float32Array [n, d], got ${typeOf(X)}`);
  }
  checkInt(fn, "n", n, 1);
  checkInt(fn, "d", d, 1);
  if (X.length !== n * d) {
    throw new RangeError(
      `${fn}: X has ${X.length} values, expected n * d = ${n} * ${d} = ${n * d}`,
    );
  }
  for (let i = 0; i < X.length; i++) {
    if (!Number.isFinite(X[i])) {
      const row = Math.floor(i / d);
      throw new RangeError(
        `${fn}: X contains ${X[i]} at row ${row}, column ${i - row * d}; expected finite values`,
      );
    }
  }
}

/** Checks that option `name` is an integer in [min, max]. */
export function checkInt(
  fn: string,
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  why = "",
): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new RangeError(
      `${fn}: option ${name} = ${fmt(value)} is invalid; expected an integer ${range}${why}`,
    );
  }
}

/** Checks that option `name` is a finite number > 0 (or >= 0 when `allowZero`). */
export function checkPositive(fn: string, name: string, value: unknown, allowZero = false): void {
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (allowZero ? value >= 0 : value > 0);
  if (!ok) {
    throw new RangeError(
      `${fn}: option ${name} = ${fmt(value)} is invalid; expected a finite number ${
        allowZero ? ">= 0" : "> 0"
      }`,
    );
  }
}

/** Checks the number of modes: an integer 1 <= k <= n. */
export function checkK(fn: string, k: unknown, n: number): void {
  checkInt(fn, "k", k, 1, n, ` (k = IPC modes cannot exceed the n = ${n} samples of the class)`);
}

/** Checks that option `name` is one of `allowed`. */
export function checkChoice(fn: string, name: string, value: unknown, allowed: readonly string[]) {
  if (typeof value !== "string" || !allowed.includes(value)) {
    throw new RangeError(
      `${fn}: option ${name} = ${fmt(value)} is invalid; expected one of ${
        allowed.map((a) => `"${a}"`).join(", ")
      }`,
    );
  }
}

function fmt(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : String(v);
}

function typeOf(v: unknown): string {
  return v === null ? "null" : typeof v === "object" ? v.constructor.name : typeof v;
}
