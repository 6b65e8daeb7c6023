/**
 * An exact denoiser for a class-conditional isotropic Gaussian mixture, standing in for DiT
 * in tests: E[x0 | x_t, y] in closed form, returned as an eps-prediction.
 */
import type { Denoiser } from "../models/diffusion/denoiser.ts";
import type { GaussianSchedule } from "../models/diffusion/schedule.ts";

/** Mixture of one class: component weights, means [K][D] and a shared std. */
export interface ClassMixture {
  weights: number[];
  means: number[][];
  std: number;
}

/** The exact eps-prediction of a mixture per class (timesteps are original, 0..999). */
export function gmmDenoiser(
  classes: ClassMixture[],
  base: GaussianSchedule,
  dim: number,
): Denoiser {
  return {
    latentShape: [dim, 1, 1],
    numClasses: classes.length,
    predictionType: "eps",
    learnSigma: false,
    forward(x, t, y) {
      const out = new Float32Array(x.length);
      for (let b = 0; b < y.length; b++) {
        const a = base.alphasCumprod[t[b]];
        // With the null class, the unconditional mixture is the union of all classes.
        const mix = y[b] < classes.length ? [classes[y[b]]] : classes;
        const comps = mix.flatMap((m) =>
          m.means.map((mu, k) => ({ mu, w: m.weights[k] / mix.length, s2: m.std ** 2 }))
        );
        const xb = x.subarray(b * dim, (b + 1) * dim);
        const logits = comps.map(({ mu, w, s2 }) => {
          const v = a * s2 + 1 - a;
          let d2 = 0;
          for (let i = 0; i < dim; i++) d2 += (xb[i] - Math.sqrt(a) * mu[i]) ** 2;
          return Math.log(w) - d2 / (2 * v) - (dim / 2) * Math.log(v);
        });
        const mx = Math.max(...logits);
        const r = logits.map((l) => Math.exp(l - mx));
        const z = r.reduce((p, q) => p + q, 0);
        for (let i = 0; i < dim; i++) {
          let x0 = 0;
          comps.forEach(({ mu, s2 }, k) => {
            const v = a * s2 + 1 - a;
            x0 += (r[k] / z) * (mu[i] + (Math.sqrt(a) * s2 / v) * (xb[i] - Math.sqrt(a) * mu[i]));
          });
          out[b * dim + i] = (xb[i] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
        }
      }
      return Promise.resolve(out);
    },
  };
}
