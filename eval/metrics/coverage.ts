/**
 * Mode coverage of a distilled set (issue 19): how close each synthetic sample ends to the
 * mode it was guided to, whether each mode's nearest sample is the one guided to it, and how
 * many distinct modes the samples cover. The sample stage pairs sample i of a class with mode
 * i (and seeds its noise by (seed, class, i)), so an unguided set from the same seed has the
 * same pairing and the same noise: its numbers are the baseline the guided set is read against.
 *
 * Notation: s_i -> the i-th synthetic sample of the class, m_j -> the j-th mode (SPEC section
 * 1), k -> modes per class (= IPC), d -> the dimension of the space (latent or t-SNE).
 *
 * - toMode_i = ||s_i - m_i||, or ||s_i - m_i|| / sqrt(d) (RMS per coordinate, `rms: true`);
 * - guided-nearest share: the fraction of modes j with argmin_i ||s_i - m_j|| = j (chance 1/k
 *   for samples unrelated to their modes);
 * - covered: |{argmin_j ||s_i - m_j|| : i}|, the distinct modes that are the nearest mode of at
 *   least one sample (k = every mode has a sample of its own);
 * - mode spacing: the mean over modes of the distance to the nearest other mode (same units as
 *   toMode), the yardstick for how far guidance has to move a sample.
 *
 * @module
 */
import type { Points } from "./points.ts";

/** Coverage of one set of samples of one class. */
export interface ClassCoverage {
  /** Per sample: distance to its assigned mode (RMS per coordinate when `rms`). */
  toMode: Float64Array;
  /** Mean of `toMode`. */
  meanToMode: number;
  /** Median of `toMode`. */
  medianToMode: number;
  /** Modes whose nearest sample is the one guided to them. */
  guidedNearest: number;
  /** Distinct modes that are the nearest mode of at least one sample. */
  covered: number;
  /** Modes of the class (k). */
  modes: number;
  /** Mean distance from each mode to its nearest other mode (NaN when k = 1). */
  modeSpacing: number;
}

/** Options of {@link classCoverage}. */
export interface CoverageOptions {
  /** Divide distances by sqrt(d): RMS per coordinate (latent space). Default false. */
  rms?: boolean;
}

function dist(a: Float32Array, i: number, b: Float32Array, j: number, d: number): number {
  let s = 0;
  for (let c = 0; c < d; c++) {
    const t = a[i * d + c] - b[j * d + c];
    s += t * t;
  }
  return Math.sqrt(s);
}

/**
 * The median of finite values (NaN when there are none).
 *
 * @example
 * ```ts
 * import { median } from "./coverage.ts";
 * median([3, 1, 2, 10]); // 2.5
 * ```
 */
export function median(values: ArrayLike<number>): number {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/**
 * Coverage of the samples of one class, sample i assigned to mode i.
 *
 * @example
 * ```ts
 * import { classCoverage } from "./coverage.ts";
 * import { points } from "./points.ts";
 * const modes = points(new Float32Array([0, 0, 10, 0]), 2);
 * const c = classCoverage(points(new Float32Array([1, 0, 9, 0]), 2), modes);
 * // c.toMode = [1, 1], c.guidedNearest = 2, c.covered = 2, c.modeSpacing = 10
 * ```
 */
export function classCoverage(
  samples: Points,
  modes: Points,
  options: CoverageOptions = {},
): ClassCoverage {
  const [m, d] = samples.shape;
  const [k, dm] = modes.shape;
  if (d !== dm) {
    throw new RangeError(
      `Samples of dimension ${d} cannot be compared with modes of dimension ${dm}`,
    );
  }
  if (m !== k) {
    throw new RangeError(
      `Mode coverage pairs sample i with mode i: got ${m} samples for ${k} modes (expected equal)`,
    );
  }
  const unit = options.rms ? Math.sqrt(d) : 1;
  const D = new Float64Array(m * k); // D[i * k + j] = ||s_i - m_j||, [m, k]
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) D[i * k + j] = dist(samples.data, i, modes.data, j, d) / unit;
  }
  const toMode = Float64Array.from({ length: m }, (_, i) => D[i * k + i]);
  let guidedNearest = 0;
  for (let j = 0; j < k; j++) {
    let best = 0;
    for (let i = 1; i < m; i++) if (D[i * k + j] < D[best * k + j]) best = i;
    if (best === j) guidedNearest++;
  }
  const nearestModes = new Set<number>();
  for (let i = 0; i < m; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (D[i * k + j] < D[i * k + best]) best = j;
    nearestModes.add(best);
  }
  let spacing = 0;
  for (let j = 0; j < k; j++) {
    let nn = Infinity;
    for (let l = 0; l < k; l++) {
      if (l !== j) nn = Math.min(nn, dist(modes.data, j, modes.data, l, d));
    }
    spacing += nn / unit;
  }
  return {
    toMode,
    meanToMode: toMode.reduce((a, b) => a + b, 0) / m,
    medianToMode: median(toMode),
    guidedNearest,
    covered: nearestModes.size,
    modes: k,
    modeSpacing: k > 1 ? spacing / k : NaN,
  };
}

/** Coverage of one set over all classes. */
export interface SetCoverage {
  /** Mean over every sample of its distance to its assigned mode. */
  meanToMode: number;
  /** Median over every sample. */
  medianToMode: number;
  /** Share of all modes whose nearest sample is the one guided to them (0..1). */
  guidedNearestShare: number;
  /** Chance level of `guidedNearestShare`: the mean over classes of 1/k. */
  chance: number;
  /** Modes covered, summed over classes. */
  covered: number;
  /** Modes, summed over classes. */
  modes: number;
  /** Mean over classes of the mode spacing. */
  modeSpacing: number;
}

/**
 * Pools per-class coverage of one set into one line (all samples and modes together).
 *
 * @example
 * ```ts
 * import { classCoverage, poolCoverage } from "./coverage.ts";
 * import { points } from "./points.ts";
 * const c = classCoverage(points(new Float32Array([1, 0, 9, 0]), 2), points(new Float32Array([0, 0, 10, 0]), 2));
 * poolCoverage([c, c]).guidedNearestShare; // 1
 * ```
 */
export function poolCoverage(classes: readonly ClassCoverage[]): SetCoverage {
  if (classes.length === 0) throw new RangeError("poolCoverage needs at least one class");
  const all = classes.flatMap((c) => [...c.toMode]);
  const sum = (f: (c: ClassCoverage) => number) => classes.reduce((a, c) => a + f(c), 0);
  const modes = sum((c) => c.modes);
  return {
    meanToMode: all.reduce((a, b) => a + b, 0) / all.length,
    medianToMode: median(all),
    guidedNearestShare: sum((c) => c.guidedNearest) / modes,
    chance: sum((c) => 1 / c.modes) / classes.length,
    covered: sum((c) => c.covered),
    modes,
    modeSpacing: sum((c) => c.modeSpacing) / classes.length,
  };
}
