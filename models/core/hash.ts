/**
 * Every hash of the toolkit, in one place: canonical JSON for option identity, SHA-256 of
 * text, of bytes in memory and of a file (streamed, so a 2.7 GB checkpoint never sits in memory)
 * and its short prefix for ids, and FNV-1a for short tags inside artifact names.
 *
 * @module
 */
import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted recursively, so equal values give equal strings.
 * `undefined` object members are dropped (as JSON.stringify does); non-finite numbers
 * are rejected because JSON cannot carry them.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./hash.ts";
 * canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }); // '{"a":[2,{"c":4,"d":3}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, "$"));
}

function sortKeys(v: unknown, path: string): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) {
    throw new TypeError(`Option ${path} is ${v}; options must be finite numbers`);
  }
  if (Array.isArray(v)) return v.map((x, i) => sortKeys(x, `${path}[${i}]`));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x, `${path}.${k}`);
    }
    return out;
  }
  return v;
}

/**
 * SHA-256 of a UTF-8 string, as lowercase hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./hash.ts";
 * await sha256Hex("abc"); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * SHA-256 of bytes held in memory, as lowercase hex.
 *
 * @example
 * ```ts
 * import { sha256Bytes } from "./hash.ts";
 * sha256Bytes(new TextEncoder().encode("abc")); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export function sha256Bytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * SHA-256 (lowercase hex) of a file's bytes, read in 4 MiB chunks.
 *
 * @example
 * ```ts
 * import { sha256File } from "./hash.ts";
 * await sha256File("weights/cpu_unet.safetensors"); // "3f2a9c1b..."
 * ```
 */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  const f = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 22);
    for (;;) {
      const n = await f.read(buf);
      if (n === null) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    f.close();
  }
  return h.digest("hex");
}

/**
 * The first `n` hex digits of the SHA-256 of a file's bytes, to stamp weights in ids.
 *
 * @example
 * ```ts
 * import { fileHashPrefix } from "./hash.ts";
 * await fileHashPrefix("weights/taef2/taef2_encoder.pth"); // "10a4e1021e89"
 * ```
 */
export async function fileHashPrefix(path: string, n = 12): Promise<string> {
  return (await sha256File(path)).slice(0, n);
}

/**
 * 32-bit FNV-1a of a string's UTF-16 code units, as 8 lowercase hex digits: a short tag that
 * tells lists apart inside an artifact name (not a content hash: use SHA-256 for identity).
 *
 * @example
 * ```ts
 * import { fnv1aHex } from "./hash.ts";
 * fnv1aHex("n01440764,n02102040"); // 8 hex digits
 * ```
 */
export function fnv1aHex(text: string): string {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0");
}
