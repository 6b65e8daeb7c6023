/**
 * Names inside a store (artifacts, shards, files) and the JSON the store writes.
 *
 * @module
 */
import { StoreError } from "./store_error.ts";

/** Artifact and file names: segments of letters, digits, '.', '_', '-', joined by '/'. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;
/** Shard names: one such segment. */
export const SHARD_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws a {@link StoreError} when `name` does not match `re` or has a '.' or '..' segment. */
export function checkName(name: string, what: string, re: RegExp): void {
  if (!re.test(name) || name.split("/").some((p) => p === "." || p === "..")) {
    throw new StoreError(
      `Invalid ${what} '${name}': use letters, digits, '.', '_', '-'${
        re === NAME_RE ? " and '/'" : ""
      }`,
    );
  }
}

/** Pretty JSON with a final newline, as bytes. */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n");
}
