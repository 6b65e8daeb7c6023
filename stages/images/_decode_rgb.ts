/**
 * Decodes an image file to 8-bit RGB the way ADM's loader does (`PIL.Image.open(f)`,
 * `.load()`, `.convert("RGB")`), using sharp (libvips) for decoding:
 *
 * - grayscale: the gray value in all three channels;
 * - alpha (RGBA, gray+alpha, palette with transparency): the alpha channel is dropped, the
 *   colour underneath is kept as stored (PIL's convert("RGB") does the same: no flattening
 *   onto a background);
 * - palette: expanded through the palette;
 * - CMYK (JPEG, TIFF): PIL's naive formula r = (255 - k) - (c * (255 - k)) / 255 (rounded as
 *   Pillow's MULDIV255), not an ICC transform, so colours match PIL-based pipelines;
 * - embedded ICC profiles are ignored, as PIL ignores them;
 * - 16-bit images are reduced to 8 bits by libvips (PIL differs for 16-bit grayscale, which it
 *   clips rather than scales; such files do not occur in ImageNet).
 *
 * - size: PIL's decompression-bomb rule. Above PIL's `Image.MAX_IMAGE_PIXELS` (89,478,485
 *   pixels) PIL warns and we warn; above twice that PIL raises `DecompressionBombError` and we
 *   refuse the file from its header, before decoding (sharp's own default allows ~268 Mpx).
 *
 * JPEG decoding (libjpeg-turbo in both) was bit-identical to PIL 9.4 on the ImageNette
 * images we compared (50 files, max abs difference 0).
 *
 * @module
 */

import { sharp } from "../../models/core/deps.ts";
import type { RgbImage } from "./_pil_resample.ts";

// libvips aborts on truncated data and on decoder errors; warnings (e.g. extraneous bytes
// before a marker) are tolerated, as PIL tolerates them.
const FAIL_ON = "error" as const;

/** PIL's `Image.MAX_IMAGE_PIXELS` = int(1024 * 1024 * 1024 // 4 // 3) (Pillow 9.4 Image.py). */
export const PIL_MAX_IMAGE_PIXELS = 89_478_485;
/** Pixels above which PIL raises DecompressionBombError (2 x MAX_IMAGE_PIXELS) and we refuse. */
export const MAX_INPUT_PIXELS = 2 * PIL_MAX_IMAGE_PIXELS;

/** Pillow's MULDIV255(a, b): round(a * b / 255) in integer arithmetic. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

function cmykToRgb(cmyk: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const nk = 255 - cmyk[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const v = nk - mulDiv255(cmyk[i * 4 + c], nk);
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/**
 * Decodes image bytes (JPEG, PNG, WebP, or anything libvips reads) to RGB; refuses an image
 * whose header claims more than {@link MAX_INPUT_PIXELS} pixels, and warns (naming `name`)
 * above PIL's MAX_IMAGE_PIXELS, as PIL does.
 */
export async function decodeRgb(bytes: Uint8Array, name = "image"): Promise<RgbImage> {
  // The header alone (no pixels decoded) gives the size, checked here with PIL's numbers;
  // the decoders below are held to the same limit.
  const meta = await sharp(bytes, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
  const limitInputPixels = MAX_INPUT_PIXELS;
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > MAX_INPUT_PIXELS) {
    throw new RangeError(
      `${meta.width}x${meta.height} = ${pixels} pixels exceeds the limit of ${MAX_INPUT_PIXELS} ` +
        `(2 x PIL's Image.MAX_IMAGE_PIXELS, above which PIL raises DecompressionBombError)`,
    );
  }
  if (pixels > PIL_MAX_IMAGE_PIXELS) {
    console.warn(
      `${name}: ${meta.width}x${meta.height} = ${pixels} pixels exceeds PIL's ` +
        `Image.MAX_IMAGE_PIXELS (${PIL_MAX_IMAGE_PIXELS}); PIL warns of a decompression bomb`,
    );
  }
  const options = { failOn: FAIL_ON, ignoreIcc: true, limitInputPixels };
  if (meta.space === "cmyk") {
    // Keep libvips from converting CMYK through its built-in profile: read the raw bands.
    const { data, info } = await sharp(bytes, options)
      .removeAlpha()
      .pipelineColourspace("cmyk")
      .toColourspace("cmyk")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 4) {
      throw new Error(`expected 4 CMYK channels after decoding, got ${info.channels}`);
    }
    const n = info.width * info.height;
    return { width: info.width, height: info.height, data: cmykToRgb(new Uint8Array(data), n) };
  }
  const { data, info } = await sharp(bytes, options)
    .removeAlpha()
    .toColourspace("srgb")
    .raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (info.channels === 3) return { width: info.width, height: info.height, data: src.slice() };
  if (info.channels === 1) {
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = src[i];
    return { width: info.width, height: info.height, data: out };
  }
  throw new Error(`expected 1 or 3 channels after decoding, got ${info.channels}`);
}
