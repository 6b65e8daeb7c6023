/** Canonical JSON and SHA-256 helpers for artifact identity. @module */

/**
 * JSON with object keys sorted recursively, so equal values give equal strings.
 * `undefined` object members are dropped (as JSON.stringify does); non-finite numbers
 * are rejected because JSON cannot carry them.
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

/** SHA-256 of a UTF-8 string, as lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
