/**
 * The guidance-response study (issue 19): samples one distilled set per point of a grid of
 * sampling settings (CFG scale x variance x mode-guidance lambda x t_stop; lambda 0 is the
 * unguided set of its CFG and variance, from the same noise) and measures each without training
 * a classifier: mode coverage in latent and t-SNE space beside diversity and representativeness
 * (metrics/coverage_table.ts), how far guidance moved each sample from its unguided twin (RMS
 * per latent coordinate), and a judge's accuracy on the decoded samples (when given).
 *
 * Resumable: samples and decoded images live in the store (a rerun reuses them) and the results
 * are written to `checkpoint` after every grid point; points already there are not redone (a
 * point measured without a judge is only judged), and points of other grids are kept in the
 * file, so runs over several grids accumulate.
 *
 * @module
 */
import type { Store } from "../stages/store/store.ts";
import { sample } from "../stages/sample.ts";
import { decode, DECODE_DEFAULTS } from "../stages/decode.ts";
import type { ScaleModels } from "../models/scales/scale.ts";
import type { VarianceType } from "../models/diffusion/sampling.ts";
import { writeAtomic } from "../models/core/fs.ts";
import { classMetrics } from "./metrics/class_metrics.ts";
import { classCoverage } from "./metrics/coverage.ts";
import {
  type ClassCoverageInput,
  type CoverageRow,
  coverageTable,
} from "./metrics/coverage_table.ts";
import { embedClass } from "./metrics/embed_class.ts";
import { points } from "./metrics/points.ts";

/** Options of {@link guidanceResponse}. */
export interface GuidanceResponseOptions {
  /** Latents of the original images (from `encode`). */
  latents: string;
  /** Modes (from `discover`); one sample per mode. */
  modes: string;
  /** CFG scales (4.0: the paper's DiT setting). */
  cfgs: number[];
  /** DDPM variances ("fixed_small": the cpu model's). */
  variances: VarianceType[];
  /** Mode-guidance scales > 0 (the paper: 0.1, App. F); 0 (unguided) is always measured. */
  lambdas: number[];
  /** Stop indices (the paper: 25 of 50, App. A). */
  tStops: number[];
  /** Sampling steps (the paper: 50). */
  steps: number;
  /** Seed of the sampling noise (shared by every grid point). */
  seed: number;
  /** Embedding seed of the t-SNE (42, SPEC section 5); null skips the t-SNE space. */
  tsneSeed: number | null;
  /** Judge: top-1 (%) of a classifier on a decoded ImageFolder; absent: not judged. */
  judge?: (imageFolder: string) => Promise<number>;
  /** JSON file of the results so far (read to resume, written after each point). */
  checkpoint: string;
  /** Called after each grid point. */
  onPoint?: (p: GuidancePointResult) => void;
}

/** One measured grid point. */
export interface GuidancePointResult {
  /** CFG scale. */
  cfg: number;
  /** DDPM variance. */
  variance: VarianceType;
  /** Mode-guidance lambda (0 = unguided). */
  lambda: number;
  /** t_stop (null when unguided). */
  tStop: number | null;
  /** The sample artifact. */
  samples: string;
  /** Coverage rows: latent (and t-SNE) space. */
  coverage: CoverageRow[];
  /** Mean over samples of the RMS per coordinate between a sample and its unguided twin. */
  shiftFromUnguided: number;
  /** Judge top-1 on the decoded samples (null: no judge). */
  judgeTop1: number | null;
  /** Seconds spent sampling (0 when reused). */
  sampleSeconds: number;
}

/** What {@link guidanceResponse} returns and writes to `checkpoint`. */
export interface GuidanceResponse {
  /** The options that define the grid (points of other settings are not reused). */
  settings: Record<string, unknown>;
  /**
   * The yardstick of the original images (latent RMS per coordinate): mean distance of each to
   * its nearest mode (how near a real image is to a mode) and to its class mean.
   */
  originals?: { toNearestMode: number; toClassMean: number };
  /** Every grid point measured, unguided first within each CFG and variance. */
  points: GuidancePointResult[];
}

const tag = (x: number) => String(x).replace(".", "p");

/**
 * Runs (or resumes) the grid and returns every point's measurements.
 *
 * @example
 * ```ts
 * import { guidanceResponse } from "./guidance_response.ts";
 * const r = await guidanceResponse(store, scale, { latents: "latents/train", modes: "modes/ipc10",
 *   cfgs: [4], variances: ["fixed_small"], lambdas: [0.1, 1], tStops: [25, 0], steps: 50, seed: 0,
 *   tsneSeed: 42, checkpoint: "docs/guidance_study/results.json" });
 * ```
 */
export async function guidanceResponse(
  store: Store,
  scale: ScaleModels,
  o: GuidanceResponseOptions,
): Promise<GuidanceResponse> {
  const settings = {
    latents: (await store.open(o.latents)).manifest.key,
    modes: (await store.open(o.modes)).manifest.key,
    model: scale.modelId,
    steps: o.steps,
    seed: o.seed,
    tsneSeed: o.tsneSeed,
  };
  const done = await readCheckpoint(o.checkpoint, settings);
  const lat = await store.open(o.latents, { kind: "latents", reader: "guidance study latents" });
  const modes = await store.open(o.modes, { kind: "modes", reader: "guidance study modes" });
  const shards = await modes.shards();
  const read = async (a: Awaited<ReturnType<Store["open"]>>, s: string, key: string) =>
    (await a.readShard(s)).tensors.get(key)!.data as Float32Array;
  let [toNearestMode, toClassMean, originals] = [0, 0, 0];
  for (const shard of shards) {
    const z = await read(lat, shard, "latents"), m = await read(modes, shard, "modes");
    const k = (await modes.readShard(shard)).tensors.get("modes")!.shape[0];
    const d = m.length / k, n = z.length / d;
    const mean = new Float32Array(d);
    for (let i = 0; i < n * d; i++) mean[i % d] += z[i] / n;
    for (let i = 0; i < n; i++) {
      const zi = z.subarray(i * d, (i + 1) * d);
      let best = Infinity;
      for (let j = 0; j < k; j++) {
        best = Math.min(best, rmsDistance(zi, m.subarray(j * d, (j + 1) * d)));
      }
      toNearestMode += best;
      toClassMean += rmsDistance(zi, mean);
      originals++;
    }
  }
  const result: GuidanceResponse = {
    settings,
    originals: {
      toNearestMode: toNearestMode / originals,
      toClassMean: toClassMean / originals,
    },
    points: [],
  };
  for (const cfg of o.cfgs) {
    for (const variance of o.variances) {
      const grid: [number, number | null][] = [[0, null]];
      for (const lambda of o.lambdas) for (const t of o.tStops) grid.push([lambda, t]);
      let unguided: string | null = null;
      for (const [lambda, tStop] of grid) {
        const name = `samples/cfg${tag(cfg)}-${variance}-l${tag(lambda)}` +
          `${tStop === null ? "" : `-t${tStop}`}-n${o.steps}-s${o.seed}`;
        unguided ??= name;
        const same = (p: GuidancePointResult) =>
          p.cfg === cfg && p.variance === variance && p.lambda === lambda && p.tStop === tStop;
        const old = done.find(same);
        if (old && (old.judgeTop1 !== null || !o.judge)) {
          result.points.push(old);
          continue;
        }
        if (old) { // measured before without a judge: judge it now
          const point = { ...old, judgeTop1: await judgeSet(store, scale, name, o.judge!) };
          result.points.push(point);
          await writeJson(o.checkpoint, withOthers(result, done));
          o.onPoint?.(point);
          continue;
        }
        const t0 = performance.now();
        const r = await sample(store, scale, {
          modes: o.modes,
          out: name,
          cfgScale: cfg,
          variance,
          steps: o.steps,
          guidance: tStop === null ? null : { lambda, tStop },
          seed: o.seed,
        });
        const sampleSeconds = r.written.length ? (performance.now() - t0) / 1000 : 0;
        const art = await store.open(name);
        const latent: ClassCoverageInput[] = [], tsne: ClassCoverageInput[] = [];
        let shift = 0, count = 0;
        for (const shard of shards) {
          const z = await read(lat, shard, "latents");
          const s = await read(art, shard, "latents");
          const m = await read(modes, shard, "modes");
          const u = await read(await store.open(unguided), shard, "latents");
          const d = z.length / (await lat.readShard(shard)).tensors.get("latents")!.shape[0];
          for (let i = 0; i < s.length / d; i++) {
            let q = 0;
            for (let c = 0; c < d; c++) q += (s[i * d + c] - u[i * d + c]) ** 2;
            [shift, count] = [shift + Math.sqrt(q / d), count + 1];
          }
          const original = points(z, d), synthetic = { set: points(s, d) };
          latent.push({
            coverage: { set: classCoverage(synthetic.set, points(m, d), { rms: true }) },
            metrics: classMetrics({ original, synthetic }),
          });
          if (o.tsneSeed !== null) {
            const emb = embedClass({ original, synthetic, modes: points(m, d) }, {
              tsne: { seed: o.tsneSeed },
            });
            tsne.push({
              coverage: { set: classCoverage(emb.synthetic.set, emb.modes!) },
              metrics: classMetrics(emb),
            });
          }
        }
        const judgeTop1 = o.judge ? await judgeSet(store, scale, name, o.judge) : null;
        const point: GuidancePointResult = {
          cfg,
          variance,
          lambda,
          tStop,
          samples: name,
          coverage: coverageTable({ latent, ...(tsne.length ? { tsne } : {}) }).rows,
          shiftFromUnguided: shift / count,
          judgeTop1,
          sampleSeconds,
        };
        result.points.push(point);
        await writeJson(o.checkpoint, withOthers(result, done));
        o.onPoint?.(point);
      }
    }
  }
  await writeJson(o.checkpoint, withOthers(result, done));
  return result;
}

/** Decodes a sample set (through the store) and returns the judge's top-1 on it. */
async function judgeSet(
  store: Store,
  scale: ScaleModels,
  samples: string,
  judge: (imageFolder: string) => Promise<number>,
): Promise<number> {
  const dec = await decode(store, scale.codec, {
    ...DECODE_DEFAULTS,
    samples,
    out: samples.replace(/^samples\//, "decoded/"),
  });
  return await judge(dec.imageFolder);
}

/** The results with the checkpoint's points of other grids kept after them (runs accumulate). */
function withOthers(r: GuidanceResponse, done: GuidancePointResult[]): GuidanceResponse {
  const seen = new Set(r.points.map((p) => p.samples));
  return { ...r, points: [...r.points, ...done.filter((p) => !seen.has(p.samples))] };
}

/** RMS per coordinate of a - b. */
function rmsDistance(a: Float32Array, b: Float32Array): number {
  let q = 0;
  for (let c = 0; c < a.length; c++) q += (a[c] - b[c]) ** 2;
  return Math.sqrt(q / a.length);
}

const writeJson = (path: string, r: GuidanceResponse) =>
  writeAtomic(path, new TextEncoder().encode(JSON.stringify(r, null, 2)));

async function readCheckpoint(
  path: string,
  settings: Record<string, unknown>,
): Promise<GuidancePointResult[]> {
  try {
    const r = JSON.parse(await Deno.readTextFile(path)) as GuidanceResponse;
    return JSON.stringify(r.settings) === JSON.stringify(settings) ? r.points : [];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}
