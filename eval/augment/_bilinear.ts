/**
 * Bilinear resampling of one CHW float image with PyTorch's `align_corners=False`
 * convention (`F.interpolate(mode="bilinear")`, which torchvision's tensor `resize` calls):
 * source coordinate `(dst + 0.5) * in / out - 0.5`, clamped below at 0, neighbours clamped
 * at the last row/column. No antialiasing (see random_resized_crop.ts for why that is exact
 * for the evaluation protocol).
 *
 * @module
 */

/** Source index pairs and weights along one axis. */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

function axisTaps(inSize: number, outSize: number): AxisTaps {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[o] = lo;
    i1[o] = lo < inSize - 1 ? lo + 1 : lo;
    w1[o] = src - lo;
  }
  return { i0, i1, w1 };
}

/**
 * Crops rows [top, top + cropH) and columns [left, left + cropW) of a CHW image of size
 * H x W and resizes the crop to outH x outW; writes into `out` (C * outH * outW).
 */
export function cropResizeBilinear(
  src: Float32Array,
  c: number,
  h: number,
  w: number,
  box: { top: number; left: number; height: number; width: number },
  outH: number,
  outW: number,
  out: Float32Array,
): void {
  const ys = axisTaps(box.height, outH);
  const xs = axisTaps(box.width, outW);
  for (let ch = 0; ch < c; ch++) {
    const plane = ch * h * w;
    const dst = ch * outH * outW;
    for (let oy = 0; oy < outH; oy++) {
      const r0 = plane + (box.top + ys.i0[oy]) * w + box.left;
      const r1 = plane + (box.top + ys.i1[oy]) * w + box.left;
      const wy = ys.w1[oy];
      for (let ox = 0; ox < outW; ox++) {
        const a = xs.i0[ox];
        const b = xs.i1[ox];
        const wx = xs.w1[ox];
        const top = src[r0 + a] * (1 - wx) + src[r0 + b] * wx;
        const bottom = src[r1 + a] * (1 - wx) + src[r1 + b] * wx;
        out[dst + oy * outW + ox] = top * (1 - wy) + bottom * wy;
      }
    }
  }
}
