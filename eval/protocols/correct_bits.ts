/**
 * A compact per-image record of an evaluation (issue 19): which validation images the
 * classifier got right, as a bitmap (bit i = image i in the validation set's order, LSB first
 * within each byte) in base64, about 660 characters for ImageNette's 3,925 val images. The
 * paired bootstrap of the tables (eval/tables/paired.ts) resamples val images with it.
 *
 * @module
 */
import { encodeBase64 } from "../../models/core/base64.ts";

/** Bits per byte of the bitmap. */
const BITS = 8;

/**
 * Packs 0/1 flags as a base64 bitmap.
 *
 * @example
 * ```ts
 * import { packBits } from "./correct_bits.ts";
 * packBits(new Uint8Array([1, 0, 1])); // "BQ==" (0b101)
 * ```
 */
export function packBits(flags: ArrayLike<number>): string {
  const bytes = new Uint8Array(Math.ceil(flags.length / BITS));
  for (let i = 0; i < flags.length; i++) if (flags[i]) bytes[i >> 3] |= 1 << (i % BITS);
  return encodeBase64(bytes);
}

/**
 * Unpacks `n` flags from a base64 bitmap (made by {@link packBits}).
 *
 * @example
 * ```ts
 * import { unpackBits } from "./correct_bits.ts";
 * unpackBits("BQ==", 3); // Uint8Array [1, 0, 1]
 * ```
 */
export function unpackBits(base64: string, n: number): Uint8Array {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  if (bytes.length !== Math.ceil(n / BITS)) {
    throw new RangeError(
      `A bitmap of ${n} images has ${Math.ceil(n / BITS)} bytes; this one has ${bytes.length}`,
    );
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3] >> (i % BITS)) & 1;
  return out;
}
