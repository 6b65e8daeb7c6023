/**
 * DiT's fixed embeddings, computed on the host: the 2-D sin-cos positional embedding of
 * MAE's `get_2d_sincos_pos_embed` (float64, then float32, as models.py stores it) and the
 * frequencies of the sinusoidal timestep features (`TimestepEmbedder.timestep_embedding`,
 * float32 as PyTorch computes them). Adapted from facebookresearch/DiT@ed81ce2.
 *
 * @module
 */
import { MAX_PERIOD } from "./config.ts";

/**
 * 1-D sin-cos embedding of `pos` into `out[row * stride + offset ...]`: dims [0, dim/2) hold
 * sin(pos * omega_k), dims [dim/2, dim) cos(pos * omega_k), omega_k = 1 / 10000^(k / (dim/2)).
 */
function sincos1d(dim: number, pos: number, out: Float64Array, at: number): void {
  const half = dim / 2;
  for (let k = 0; k < half; k++) {
    const omega = 1 / Math.pow(10000, k / half);
    out[at + k] = Math.sin(pos * omega);
    out[at + half + k] = Math.cos(pos * omega);
  }
}

/**
 * The fixed positional embedding `[grid * grid, dim]` (row-major tokens, row i, column j at
 * i * grid + j): the first dim/2 values embed the column j, the last dim/2 the row i
 * (models.py's meshgrid puts w first).
 *
 * @example
 * ```ts
 * import { posEmbed2d } from "./_embed.ts";
 * const pe = posEmbed2d(1152, 16); // DiT-XL/2 at 256 px: [256, 1152]
 * ```
 */
export function posEmbed2d(dim: number, grid: number): Float32Array {
  if (dim % 4) throw new RangeError(`posEmbed2d: dim ${dim} must be a multiple of 4`);
  const row = new Float64Array(dim);
  const out = new Float32Array(grid * grid * dim);
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) {
      sincos1d(dim / 2, j, row, 0); // emb_h of models.py: grid[0] = the w coordinate
      sincos1d(dim / 2, i, row, dim / 2);
      out.set(row, (i * grid + j) * dim);
    }
  }
  return out;
}

/**
 * Frequencies of the timestep features, `exp(-ln(max_period) * k / half)` for k < half, in
 * float32 arithmetic as PyTorch evaluates them. The features are
 * `[cos(t * f), sin(t * f)]` (cos first).
 *
 * @example
 * ```ts
 * import { timestepFrequencies } from "./_embed.ts";
 * const f = timestepFrequencies(256); // [128], f[0] = 1
 * ```
 */
export function timestepFrequencies(dim: number, maxPeriod = MAX_PERIOD): Float32Array {
  if (dim % 2) throw new RangeError(`timestepFrequencies: dim ${dim} must be even`);
  const half = dim / 2;
  const c = Math.fround(-Math.log(maxPeriod));
  const out = new Float32Array(half);
  for (let k = 0; k < half; k++) out[k] = Math.exp(Math.fround(Math.fround(c * k) / half));
  return out;
}
