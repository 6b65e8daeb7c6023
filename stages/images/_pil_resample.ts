/**
 * Pillow's `Image.resize(size, resample)` for 8-bit RGB images, re-implemented so that our
 * preprocessing matches ADM/DiT (PIL BOX, BICUBIC) and torchvision (PIL BILINEAR) bit for
 * bit. sharp's own kernels differ from Pillow's (measured: sharp "cubic" vs PIL BICUBIC at
 * 224 -> 64 px, max 18/255, mean 0.62/255), so sharp only decodes.
 *
 * Semantics follow Pillow's libImaging/Resample.c (checked against Pillow 9.4):
 * separable convolution whose support widens by the scale factor when downsampling,
 * coefficients normalised to sum 1 then rounded to 22-bit fixed point, horizontal pass
 * first into an 8-bit intermediate, then vertical pass; a pass whose size is unchanged is
 * skipped.
 *
 * @module
 */

/** Resampling filters we need, with Pillow's names. */
export type PilFilter = "box" | "bilinear" | "bicubic";

/** 8-bit interleaved RGB image, row-major: data.length = height * width * 3. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array; // [H, W, 3]
}

interface Kernel {
  support: number;
  f: (x: number) => number;
}

// Pillow's filters (Resample.c): box support 0.5, triangle support 1, cubic a = -0.5 support 2.
const BICUBIC_A = -0.5;
const KERNELS: Readonly<Record<PilFilter, Kernel>> = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    f: (x) => {
      const ax = Math.abs(x);
      return ax < 1 ? 1 - ax : 0;
    },
  },
  bicubic: {
    support: 2,
    f: (x) => {
      const a = BICUBIC_A;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
};

const PRECISION_BITS = 32 - 8 - 2; // Pillow's fixed-point precision for 8-bit images
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [out, 2]: first input index, tap count
  kk: Int32Array; // [out, ksize] fixed-point weights
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis (full-image box). */
function precomputeCoeffs(inSize: number, outSize: number, kernel: Kernel): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = kernel.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    k.fill(0);
    for (let x = 0; x < xmax; x++) {
      const w = kernel.f((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < ksize; x++) {
      const v = x < xmax && ww !== 0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

/** Pillow's clip8: fixed-point accumulator -> 0..255. */
function clip8(ss: number): number {
  if (ss >= ONE * 256) return 255;
  if (ss <= 0) return 0;
  return Math.floor(ss / ONE);
}

function resampleHorizontal(src: RgbImage, outW: number, c: Coeffs): RgbImage {
  const { width: inW, height: h, data } = src;
  const out = new Uint8Array(h * outW * 3);
  for (let y = 0; y < h; y++) {
    const row = y * inW * 3;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = c.bounds[xx * 2];
      const n = c.bounds[xx * 2 + 1];
      const kOff = xx * c.ksize;
      let s0 = HALF, s1 = HALF, s2 = HALF;
      for (let x = 0; x < n; x++) {
        const w = c.kk[kOff + x];
        const p = row + (xmin + x) * 3;
        s0 += data[p] * w;
        s1 += data[p + 1] * w;
        s2 += data[p + 2] * w;
      }
      const o = (y * outW + xx) * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { width: outW, height: h, data: out };
}

function resampleVertical(src: RgbImage, outH: number, c: Coeffs): RgbImage {
  const { width: w, data } = src;
  const stride = w * 3;
  const out = new Uint8Array(outH * stride);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = c.bounds[yy * 2];
    const n = c.bounds[yy * 2 + 1];
    const kOff = yy * c.ksize;
    for (let i = 0; i < stride; i++) {
      let s = HALF;
      for (let y = 0; y < n; y++) s += data[(ymin + y) * stride + i] * c.kk[kOff + y];
      out[yy * stride + i] = clip8(s);
    }
  }
  return { width: w, height: outH, data: out };
}

/**
 * Resizes an RGB image exactly as Pillow's `img.resize((outW, outH), filter)` does for an
 * 8-bit "RGB" image (no box argument, no reducing_gap).
 */
export function pilResize(src: RgbImage, outW: number, outH: number, filter: PilFilter): RgbImage {
  if (!(outW >= 1 && outH >= 1 && Number.isInteger(outW) && Number.isInteger(outH))) {
    throw new RangeError(`Cannot resize to ${outW}x${outH}: expected positive integer sizes`);
  }
  const kernel = KERNELS[filter];
  let img = src;
  if (outW !== src.width) {
    img = resampleHorizontal(img, outW, precomputeCoeffs(src.width, outW, kernel));
  }
  if (outH !== src.height) {
    img = resampleVertical(img, outH, precomputeCoeffs(src.height, outH, kernel));
  }
  return img === src ? { width: src.width, height: src.height, data: src.data.slice() } : img;
}

/** Crops a w x h window whose top-left corner is (left, top). */
export function cropRgb(src: RgbImage, left: number, top: number, w: number, h: number): RgbImage {
  if (left < 0 || top < 0 || left + w > src.width || top + h > src.height) {
    throw new RangeError(
      `Crop ${w}x${h}+${left}+${top} does not fit a ${src.width}x${src.height} image`,
    );
  }
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const from = ((top + y) * src.width + left) * 3;
    out.set(src.data.subarray(from, from + w * 3), y * w * 3);
  }
  return { width: w, height: h, data: out };
}
