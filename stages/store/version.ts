/**
 * The code version stamped on every store artifact: the package version from deno.json
 * plus, when the code runs from a git checkout, the commit and whether the tree was dirty.
 *
 * @module
 */

/** What made an artifact: package version and (when known) git commit. */
export interface CodeVersion {
  /** `version` of deno.json. */
  package: string;
  /** Full git commit hash, or null when not run from a git checkout. */
  commit: string | null;
  /** True when tracked files differed from the commit. */
  dirty: boolean;
}

let cached: Promise<CodeVersion> | undefined;

/**
 * The version of the code that is running (computed once per process).
 *
 * @example
 * ```ts
 * import { codeVersion } from "./version.ts";
 * const v = await codeVersion(); // { package: "0.1.0", commit: "3f2c...", dirty: false }
 * ```
 */
export function codeVersion(): Promise<CodeVersion> {
  cached ??= compute();
  return cached;
}

/**
 * One-line form of a code version, e.g. `0.1.0+3f2c1ab` or `0.1.0+3f2c1ab-dirty`.
 *
 * @example
 * ```ts
 * import { formatVersion } from "./version.ts";
 * formatVersion({ package: "0.1.0", commit: "3f2c1ab9", dirty: false }); // "0.1.0+3f2c1ab"
 * ```
 */
export function formatVersion(v: CodeVersion): string {
  if (!v.commit) return v.package;
  return `${v.package}+${v.commit.slice(0, 7)}${v.dirty ? "-dirty" : ""}`;
}

async function compute(): Promise<CodeVersion> {
  const rootUrl = new URL("../../", import.meta.url);
  let pkg = "unknown";
  try {
    const json = JSON.parse(await Deno.readTextFile(new URL("deno.json", rootUrl)));
    pkg = String(json.version ?? "unknown");
  } catch {
    // Not run from a file checkout (e.g. imported remotely): the package version stays unknown.
  }
  if (rootUrl.protocol !== "file:") return { package: pkg, commit: null, dirty: false };
  const cwd = decodeURIComponent(rootUrl.pathname);
  const commit = await git(cwd, ["rev-parse", "HEAD"]);
  if (!commit) return { package: pkg, commit: null, dirty: false };
  const status = await git(cwd, ["status", "--porcelain", "--untracked-files=no"]);
  return { package: pkg, commit, dirty: status !== null && status.length > 0 };
}

async function git(cwd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null; // git not installed
  }
}
