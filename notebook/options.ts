/**
 * Run-time checks of option objects (a notebook cell is not type-checked): an unknown key or
 * a value of the wrong type is an error naming the key, what was given and what is expected;
 * omitted keys take their defaults.
 *
 * @module
 */

/** What an option may hold. */
export type OptionKind =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "strings"
  | "numbers"
  | "nullable-number";

/** The TypeScript type of each option kind. */
export type KindType<K extends OptionKind> = K extends "string" ? string
  : K extends "number" | "integer" ? number
  : K extends "boolean" ? boolean
  : K extends "strings" ? string | string[]
  : K extends "numbers" ? number[]
  : number | null;

/** The checked options: keys with a default are always there, the others may be undefined. */
export type Checked<S extends Record<string, OptionKind>, D> = {
  [K in keyof S]: K extends keyof D ? KindType<S[K]> : KindType<S[K]> | undefined;
};

/**
 * Checks `given` against `spec` and returns it merged over `defaults`.
 *
 * @example
 * ```ts
 * import { checkOptions } from "./options.ts";
 * const o = checkOptions("sample", { lambda: 0.2 }, { lambda: "number", tStop: "integer" },
 *   { lambda: 0.1, tStop: 25 });
 * // o = { lambda: 0.2, tStop: 25 }; { lamda: 0.2 } throws "sample: unknown option 'lamda' ..."
 * ```
 */
export function checkOptions<
  const S extends Record<string, OptionKind>,
  const D extends { [K in keyof S]?: KindType<S[K]> } = Record<never, never>,
>(where: string, given: unknown, spec: S, defaults?: D): Checked<S, D> {
  if (given === undefined) given = {};
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    throw new TypeError(`${where}: options must be an object, got ${describe(given)}`);
  }
  const known = Object.keys(spec);
  for (const [k, v] of Object.entries(given)) {
    if (!known.includes(k)) {
      const near = known.filter((n) => close(n, k));
      throw new TypeError(
        `${where}: unknown option '${k}'${
          near.length ? ` (did you mean '${near[0]}'?)` : ""
        }; options are ${known.join(", ")}`,
      );
    }
    if (v === undefined) continue;
    const kind = spec[k];
    if (!fits(kind, v)) {
      throw new TypeError(`${where}: option '${k}' must be ${article(kind)}, got ${describe(v)}`);
    }
  }
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out as Checked<S, D>;
}

function fits(kind: OptionKind, v: unknown): boolean {
  switch (kind) {
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "integer":
      return Number.isInteger(v);
    case "boolean":
      return typeof v === "boolean";
    case "strings":
      return typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));
    case "numbers":
      return Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));
    case "nullable-number":
      return v === null || (typeof v === "number" && Number.isFinite(v));
  }
}

function article(kind: OptionKind): string {
  return {
    string: "a string",
    number: "a finite number",
    integer: "an integer",
    boolean: "true or false",
    strings: "a string or an array of strings",
    numbers: "an array of numbers",
    "nullable-number": "a finite number or null",
  }[kind];
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 40)})`;
  if (v === null) return "null";
  return typeof v === "string" ? `'${v}'` : `${typeof v} ${String(v).slice(0, 40)}`;
}

/** Same letters up to one edit, or same lower-cased: enough to suggest a typo's fix. */
function close(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i) === b.slice(i + 1) ||
    a.slice(i + 1) === b.slice(i);
}
