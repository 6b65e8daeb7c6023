/**
 * sklearn 1.2 `_gradient_descent` for t-SNE (sklearn/manifold/_t_sne.py): momentum,
 * per-parameter gains (delta-bar-delta: +0.2 when update and gradient disagree in sign,
 * x0.8 otherwise, floor 0.01), convergence checked every 50 iterations (no progress in
 * `patience` iterations, or gradient norm <= minGradNorm). The state (embedding, update,
 * gains, rounded gradient) is float32 and every step is rounded as numpy does in float32.
 *
 * @module
 */
import { type Affinities, klDivergence, klGradient } from "./_tsne_gradient.ts";

/** Error/convergence checks every this many iterations (sklearn `_N_ITER_CHECK`). */
const N_ITER_CHECK = 50;
const MIN_GAIN = 0.01;
const F32 = Math.fround;

/** One phase of the optimisation: iterations [start, end). */
export interface DescentOptions {
  start: number;
  end: number;
  momentum: number;
  exaggeration: number;
  patience: number;
  learningRate: number;
  minGradNorm: number;
}

/** Runs a phase on y in place; returns the last error and sklearn's last iteration index. */
export function gradientDescent(
  y: Float32Array,
  n: number,
  aff: Affinities,
  o: DescentOptions,
): { error: number; iter: number } {
  const update = new Float32Array(2 * n);
  const gains = new Float32Array(2 * n).fill(1);
  const grad = new Float64Array(2 * n);
  const momentum = F32(o.momentum);
  const lr = F32(o.learningRate);
  const inc = F32(0.2);
  const dec = F32(0.8);
  const minGain = F32(MIN_GAIN);
  let error = Number.MAX_VALUE;
  let bestError = Number.MAX_VALUE;
  let bestIter = o.start;
  let last = o.start; // sklearn's loop variable after the loop (start when it never ran)
  for (let i = o.start; i < o.end; i++) {
    last = i;
    const check = (i + 1) % N_ITER_CHECK === 0;
    klGradient(y, n, aff, o.exaggeration, grad);
    if (check || i === o.end - 1) error = klDivergence(y, n, aff, o.exaggeration);
    let norm = 0;
    for (let c = 0; c < 2 * n; c++) {
      const g = F32(grad[c]);
      let gain = update[c] * g < 0 ? F32(gains[c] + inc) : F32(gains[c] * dec);
      if (gain < minGain) gain = minGain;
      gains[c] = gain;
      const gg = F32(g * gain);
      norm += gg * gg;
      update[c] = F32(F32(momentum * update[c]) - F32(lr * gg));
      y[c] = F32(y[c] + update[c]);
    }
    if (check) {
      if (error < bestError) {
        bestError = error;
        bestIter = i;
      } else if (i - bestIter > o.patience) break;
      if (Math.sqrt(norm) <= o.minGradNorm) break;
    }
  }
  return { error, iter: last };
}
