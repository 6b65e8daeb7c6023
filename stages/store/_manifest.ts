/**
 * An artifact's `manifest.json`: its type, a reader that tells absent from corrupt, and the
 * comparison of a manifest with the options a writer brings.
 *
 * @module
 */
import type { CodeVersion } from "./version.ts";
import { canonicalJson } from "../../models/core/hash.ts";
import { normaliseOptionPaths } from "./_paths.ts";

/** What an artifact was made by: stamped in its manifest and in every shard file. */
export interface Provenance {
  /** What kind of artifact this is, e.g. "latents", "modes", "samples". */
  kind: string;
  /** The stage options that determine the content (JSON-serialisable). */
  options: Record<string, unknown>;
  /** The seed of the run (null when the stage is deterministic without one). */
  seed: number | null;
}

/** Contents of `<artifact>/manifest.json`. */
export interface Manifest extends Provenance {
  /** Format tag of a manifest. */
  format: "mgd3-artifact";
  /** The artifact's name (its path under the store root). */
  name: string;
  /** SHA-256 of the canonical JSON of {kind, options, seed}. */
  key: string;
  /** Storage dtype of float tensors in the shards. */
  dtype: "F32" | "F16";
  /** Version of the code that created the artifact. */
  code: CodeVersion;
  /** When the artifact was created (ISO 8601). */
  created: string;
}

/** What {@link readManifest} found. */
export type ManifestRead =
  | { status: "absent" }
  | { status: "ok"; manifest: Manifest }
  | { status: "corrupt"; reason: string };

/** Reads `<dir>/manifest.json`, telling a missing file from one that is not a manifest. */
export async function readManifest(dir: string): Promise<ManifestRead> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/manifest.json`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { status: "absent" };
    if (e instanceof Deno.errors.NotADirectory) return { status: "absent" };
    throw e;
  }
  let m: Manifest;
  try {
    m = JSON.parse(text);
  } catch (e) {
    return { status: "corrupt", reason: `not valid JSON: ${(e as Error).message}` };
  }
  const reason = manifestProblem(m);
  return reason ? { status: "corrupt", reason } : { status: "ok", manifest: m };
}

function manifestProblem(m: Manifest): string | null {
  if (typeof m !== "object" || m === null || Array.isArray(m)) return "not a JSON object";
  if (m.format !== "mgd3-artifact") {
    return `format is ${JSON.stringify(m.format)}, not "mgd3-artifact"`;
  }
  if (typeof m.key !== "string" || !/^[0-9a-f]{64}$/.test(m.key)) return "key is not a SHA-256";
  if (typeof m.kind !== "string") return "kind is not a string";
  if (typeof m.options !== "object" || m.options === null || Array.isArray(m.options)) {
    return "options is not an object";
  }
  if (m.seed !== null && typeof m.seed !== "number") return "seed is not a number or null";
  if (m.dtype !== "F32" && m.dtype !== "F16") return `dtype is ${JSON.stringify(m.dtype)}`;
  return null;
}

/** What a writer asks for: provenance with path options normalised, dtype, path option names. */
export interface Wanted extends Provenance {
  /** Storage dtype of float tensors. */
  dtype: "F32" | "F16";
  /** Names of the options that are paths. */
  paths: readonly string[];
}

/**
 * Whether an existing manifest describes the artifact a writer asks for: the same key, or
 * (an artifact made before path options were normalised) the same options once its paths are
 * normalised too. Either way the artifact keeps its own key.
 */
export function sameArtifact(m: Manifest, key: string, w: Wanted): boolean {
  if (m.dtype !== w.dtype || m.kind !== w.kind || m.seed !== w.seed) return false;
  if (m.key === key) return true;
  return w.paths.length > 0 &&
    canonicalJson(normaliseOptionPaths(m.options, w.paths)) === canonicalJson(w.options);
}

/** The differences between a manifest and what a writer asks for, in words. */
export function describeDifference(m: Manifest, w: Wanted): string {
  const diffs: string[] = [];
  if (m.kind !== w.kind) diffs.push(`kind ${m.kind} (now ${w.kind})`);
  if (m.seed !== w.seed) diffs.push(`seed ${m.seed} (now ${w.seed})`);
  if (m.dtype !== w.dtype) diffs.push(`dtype ${m.dtype} (now ${w.dtype})`);
  const was = normaliseOptionPaths(m.options, w.paths);
  for (const k of new Set([...Object.keys(was), ...Object.keys(w.options)])) {
    const a = JSON.stringify(was[k]);
    const b = JSON.stringify(w.options[k]);
    if (a !== b) diffs.push(`${k}=${a ?? "(unset)"} (now ${b ?? "(unset)"})`);
  }
  return diffs.length ? diffs.join(", ") : "other options";
}
