/**
 * A tiny sampling job for the store's resume tests: a modes artifact of `n` classes (two
 * modes each, 16-dim latents) and the exact Gaussian-mixture denoiser of those classes, so
 * `sample()` runs in milliseconds, in this process or in a worker (tests/_kill_worker.ts).
 */
import { Store } from "../stages/store/store.ts";
import { SAMPLE_DEFAULTS, type SampleOptions } from "../stages/sample.ts";
import { GaussianSchedule, linearBetas } from "../models/diffusion/schedule.ts";
import { Rng } from "../models/core/random.ts";
import type { Denoiser } from "../models/diffusion/denoiser.ts";
import type { Codec } from "../models/codecs/codec.ts";
import { type ClassMixture, gmmDenoiser } from "./_gmm_denoiser.ts";

const DIM = 16;

function mixtures(n: number): ClassMixture[] {
  const rng = Rng.from(5);
  return Array.from({ length: n }, () => ({
    weights: [0.5, 0.5],
    means: [Array.from(rng.randn(DIM)), Array.from(rng.randn(DIM))],
    std: 0.3,
  }));
}

/** The exact denoiser of the `n` fixture classes. */
export function fixtureModel(n: number): Denoiser {
  return gmmDenoiser(mixtures(n), GaussianSchedule.fromBetas(linearBetas(1000)), DIM);
}

/** A store at `root` holding the modes artifact "modes" of the `n` fixture classes. */
export async function fixtureStore(root: string, n: number): Promise<Store> {
  const store = await Store.open(root);
  const modes = await store.artifact("modes", { kind: "modes", options: { k: 2 }, seed: 0 });
  for (const [c, m] of mixtures(n).entries()) {
    const data = Float32Array.from(m.means.flat());
    await modes.writeShard(`class-${c}`, { modes: { dtype: "F32", shape: [2, DIM, 1, 1], data } }, {
      class: String(c),
      name: `c${c}`,
    });
  }
  return store;
}

/**
 * A codec for the fixture's [16, 1, 1] latents and 2x2 RGB images: decode takes the first 12
 * values through tanh, encode puts atanh of the 12 pixel values first and zeros after.
 */
export function fixtureCodec(): Codec {
  const PIX = 12;
  return {
    id: "fixture-codec",
    imageSize: 2,
    latentShape: [DIM, 1, 1],
    encode: (images, n) => {
      const out = new Float32Array(n * DIM);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < PIX; j++) {
          const v = Math.max(-0.999, Math.min(0.999, images[i * PIX + j]));
          out[i * DIM + j] = Math.atanh(v);
        }
      }
      return Promise.resolve(out);
    },
    decode: (latents, n) => {
      const out = new Float32Array(n * PIX);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < PIX; j++) out[i * PIX + j] = Math.tanh(latents[i * DIM + j]);
      }
      return Promise.resolve(out);
    },
  };
}

/** A store at `root` holding the latents artifact "latents": 12 draws of each fixture class. */
export async function fixtureLatents(root: string, n: number): Promise<Store> {
  const store = await Store.open(root);
  const latents = await store.artifact("latents", {
    kind: "latents",
    options: { fixture: true },
    seed: 0,
  });
  const rng = Rng.from(7);
  for (const [c, m] of mixtures(n).entries()) {
    const data = new Float32Array(12 * DIM);
    for (let i = 0; i < 12; i++) {
      const mean = m.means[i % 2];
      for (let d = 0; d < DIM; d++) data[i * DIM + d] = mean[d] + m.std * rng.randn(1)[0];
    }
    await latents.writeShard(`class-${c}`, {
      latents: { dtype: "F32", shape: [12, DIM, 1, 1], data },
    }, { class: String(c), name: `c${c}`, label: String(c) });
  }
  return store;
}

/** Sampling options for the fixture: the paper's DDPM defaults, no CFG channels quirk. */
export const FIXTURE_SAMPLE: SampleOptions = {
  ...SAMPLE_DEFAULTS,
  modes: "modes",
  out: "samples",
  model: "gmm",
  cfgScale: 1,
  cfgChannels: "all",
  variance: "fixed_small",
};
