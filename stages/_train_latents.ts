/**
 * The cpu-scale model's training data (`train_model.ts`): TAEF2 latents of the training
 * images and of their mirror images, loaded from the store and normalised per channel.
 *
 * @module
 */
import type { Store } from "./store/store.ts";
import type { Codec } from "../models/codecs/codec.ts";
import { encode, ENCODE_DEFAULTS } from "./encode.ts";

/**
 * Training latents [n, C, H, W] and their labels, normalised per channel (norm: the stats).
 *
 * @example
 * ```ts
 * import type { TrainingLatents } from "./_train_latents.ts";
 * const d: TrainingLatents = { x: new Float32Array(2), labels: new Int32Array(1), n: 1, D: 2,
 *   norm: { mean: [0], std: [1] } };
 * ```
 */
export interface TrainingLatents {
  x: Float32Array;
  labels: Int32Array;
  n: number;
  D: number;
  norm: { mean: number[]; std: number[] };
}

/**
 * Encodes the training images and their mirror images (raw TAEF2, F16, no normalisation)
 * under `o.out` (`latents/train`, `latents/train-flip`), loads them and normalises each of
 * the `o.channels` latent channels to mean 0, std 1.
 *
 * @example
 * ```ts
 * import { trainingLatents } from "./_train_latents.ts";
 * const d = await trainingLatents(store, codec, {
 *   data: "imagenette2/train", out: "cpu-model", channels: 32,
 * }, ["n01440764"]); // d.n = 2 x the images
 * ```
 */
export async function trainingLatents(
  store: Store,
  codec: Codec,
  o: { data: string; out: string; channels: number },
  classes: string[],
): Promise<TrainingLatents> {
  const base = {
    ...ENCODE_DEFAULTS,
    data: o.data,
    classes,
    classIds: "label" as const,
    dtype: "F16" as const,
  };
  const sets = ["latents/train", "latents/train-flip"];
  await encode(store, codec, { ...base, out: `${o.out}/${sets[0]}` });
  await encode(store, codec, { ...base, out: `${o.out}/${sets[1]}`, flip: true });
  const { x, labels, n, D } = await loadAll(store, sets.map((s) => `${o.out}/${s}`));
  const C = o.channels;
  const norm = channelStats(x, n, C, D / C);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const at = i * D + (c * D) / C;
      for (let j = 0; j < D / C; j++) x[at + j] = (x[at + j] - norm.mean[c]) / norm.std[c];
    }
  }
  return { x, labels, n, D, norm };
}

async function loadAll(store: Store, names: string[]) {
  const parts: { x: Float32Array; label: number }[] = [];
  let D = 0;
  for (const name of names) {
    const a = await store.open(name);
    for (const s of await a.shards()) {
      const { tensors, metadata } = await a.readShard(s);
      const t = tensors.get("latents")!;
      D = t.shape.slice(1).reduce((p, q) => p * q, 1);
      parts.push({ x: t.data as Float32Array, label: Number(metadata.label) });
    }
  }
  const n = parts.reduce((a, p) => a + p.x.length / D, 0);
  const x = new Float32Array(n * D);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    x.set(p.x, at * D);
    labels.fill(p.label, at, at + p.x.length / D);
    at += p.x.length / D;
  }
  return { x, labels, n, D };
}

/** Per-channel mean and (population) std of latents [n, C, P]. */
function channelStats(x: Float32Array, n: number, C: number, P: number) {
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < C; c++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const at = (i * C + c) * P;
      for (let j = 0; j < P; j++) {
        s += x[at + j];
        s2 += x[at + j] ** 2;
      }
    }
    const m = s / (n * P);
    mean.push(m);
    std.push(Math.sqrt(Math.max(s2 / (n * P) - m * m, 1e-12)));
  }
  return { mean, std };
}
