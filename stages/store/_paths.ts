/**
 * Path options in a canonical spelling, so `./data/x/` and `data/x` name one artifact. The
 * normalisation is lexical (as Go's `filepath.Clean`): `.` segments, repeated and trailing
 * slashes go, `a/..` cancels; a relative path stays relative (never resolved against the
 * working directory, so keys do not depend on where a command runs), and a path already in
 * this form is unchanged, so existing artifact keys stay the same.
 *
 * @module
 */

/**
 * The lexically normalised form of a POSIX path.
 *
 * @example
 * ```ts
 * import { normalisePath } from "./_paths.ts";
 * normalisePath("./data//x/"); // "data/x"
 * normalisePath("/a/b/../c"); // "/a/c"
 * ```
 */
export function normalisePath(p: string): string {
  if (p === "") return p;
  const absolute = p.startsWith("/");
  const parts: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push(s); // "/.." is "/"
      continue;
    }
    parts.push(s);
  }
  const body = parts.join("/");
  return absolute ? `/${body}` : body || ".";
}

/**
 * A copy of `options` with the named top-level options (a path or a list of paths)
 * normalised by {@link normalisePath}; other values are kept as they are.
 *
 * @example
 * ```ts
 * import { normaliseOptionPaths } from "./_paths.ts";
 * normaliseOptionPaths({ data: "./x/", k: 1 }, ["data"]); // { data: "x", k: 1 }
 * ```
 */
export function normaliseOptionPaths(
  options: Record<string, unknown>,
  paths: readonly string[],
): Record<string, unknown> {
  const out = { ...options };
  for (const k of paths) {
    const v = out[k];
    if (typeof v === "string") out[k] = normalisePath(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => typeof x === "string" ? normalisePath(x) : x);
  }
  return out;
}
