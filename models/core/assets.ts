/**
 * Where the shipped assets (weights/, data/) are: beside this module in the checkout it was
 * imported from, never relative to the caller's working directory. `MGD3_HOME` (a checkout or a
 * folder holding `weights/` and `data/`) overrides it, e.g. when the toolkit is imported from a
 * URL, where files beside the module cannot be read as files.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The folder the toolkit's assets are read from (no trailing slash). */
export function assetRoot(): string {
  const home = envHome();
  if (home) return home.replace(/\/+$/, "");
  const url = new URL("../../", import.meta.url);
  return url.protocol === "file:" ? fileURLToPath(url).replace(/\/+$/, "") : url.href;
}

/**
 * The path of a shipped asset, e.g. `assetPath("weights/taef2")`.
 *
 * @example
 * ```ts
 * import { assetPath } from "./assets.ts";
 * assetPath("weights/cpu_unet.safetensors"); // "/path/to/mgd3/weights/cpu_unet.safetensors"
 * ```
 */
export function assetPath(relative: string): string {
  return `${assetRoot()}/${relative.replace(/^\/+/, "")}`;
}

function envHome(): string | undefined {
  try {
    return Deno.env.get("MGD3_HOME") || undefined;
  } catch {
    return undefined; // no --allow-env: the module's own folder
  }
}
