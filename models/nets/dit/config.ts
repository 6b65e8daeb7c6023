/**
 * DiT model configurations: the twelve of facebookresearch/DiT `models.py` (DiT-XL/L/B/S with
 * patch 2, 4 or 8) plus tiny ones of ours (DiT-T/*) for tests, and the constructor defaults
 * of its `DiT` class (input 32, 4 channels, 1000 classes, MLP ratio 4, class dropout 0.1,
 * learned sigma). Adapted from facebookresearch/DiT@ed81ce2 (semantics only).
 *
 * @module
 */

/**
 * Width of the sinusoidal timestep features (TimestepEmbedder's frequency_embedding_size).
 *
 * @example
 * ```ts
 * import { FREQUENCY_EMBEDDING_SIZE } from "./config.ts";
 * FREQUENCY_EMBEDDING_SIZE; // 256
 * ```
 */
export const FREQUENCY_EMBEDDING_SIZE = 256;
/**
 * The lowest timestep frequency is about 1 / MAX_PERIOD (timestep_embedding's max_period).
 *
 * @example
 * ```ts
 * import { MAX_PERIOD } from "./config.ts";
 * MAX_PERIOD; // 10000
 * ```
 */
export const MAX_PERIOD = 10000;
/**
 * LayerNorm epsilon of DiTBlock and FinalLayer (models.py: eps=1e-6, no affine).
 *
 * @example
 * ```ts
 * import { DIT_LN_EPS } from "./config.ts";
 * DIT_LN_EPS; // 1e-6
 * ```
 */
export const DIT_LN_EPS = 1e-6;

/** Everything that fixes a DiT's architecture and parameter shapes. */
export interface DiTConfig {
  /** Display name, e.g. "DiT-XL/2" (used in error messages). */
  name: string;
  /** Number of DiT blocks. */
  depth: number;
  /** Token width D. */
  hiddenSize: number;
  /** Patch size p (the patch embedding is a conv with kernel and stride p). */
  patchSize: number;
  /** Attention heads (D must be a multiple). */
  numHeads: number;
  /** Latent height = width (32 for 256 px images through SD-VAE). */
  inputSize: number;
  /** Latent channels (4 for SD-VAE). */
  inChannels: number;
  /** Class count; the null class of classifier-free guidance is `numClasses`. */
  numClasses: number;
  /** MLP hidden width = int(D * mlpRatio). */
  mlpRatio: number;
  /** Label dropout of training; > 0 adds the null-class row to the embedding table. */
  classDropoutProb: number;
  /** Output 2C channels (eps and DiT's variance values) instead of C. */
  learnSigma: boolean;
}

/** Depth, width, heads and patch size of a named architecture. */
export type Arch = Pick<DiTConfig, "depth" | "hiddenSize" | "numHeads" | "patchSize">;

const SIZES: Record<string, Omit<Arch, "patchSize">> = {
  XL: { depth: 28, hiddenSize: 1152, numHeads: 16 }, // models.py DiT_XL_*
  L: { depth: 24, hiddenSize: 1024, numHeads: 16 }, // DiT_L_*
  B: { depth: 12, hiddenSize: 768, numHeads: 12 }, // DiT_B_*
  S: { depth: 12, hiddenSize: 384, numHeads: 6 }, // DiT_S_*
  T: { depth: 2, hiddenSize: 64, numHeads: 4 }, // ours: tiny, for tests
};

/**
 * The named architectures: `DiT-{XL,L,B,S}/{2,4,8}` of DiT's `models.py`, and `DiT-T/{2,4,8}`
 * (ours: depth 2, width 64, 4 heads) for tests.
 *
 * @example
 * ```ts
 * import { DIT_ARCHS } from "./config.ts";
 * DIT_ARCHS["DiT-XL/2"]; // { depth: 28, hiddenSize: 1152, numHeads: 16, patchSize: 2 }
 * ```
 */
export const DIT_ARCHS: Readonly<Record<string, Readonly<Arch>>> = Object.fromEntries(
  Object.entries(SIZES).flatMap(([size, a]) =>
    [2, 4, 8].map((p) => [`DiT-${size}/${p}`, { ...a, patchSize: p }])
  ),
);

/** Defaults of `DiT.__init__` in models.py (DiT-XL-2-256x256.pt uses all of them). */
const DEFAULTS = {
  inputSize: 32, // 256 px / 8 (SD-VAE downsampling)
  inChannels: 4,
  numClasses: 1000, // ImageNet-1K
  mlpRatio: 4.0,
  classDropoutProb: 0.1, // adds the null-class embedding row
  learnSigma: true,
};

/**
 * A full configuration from an architecture name and overrides (input size, classes, ...),
 * checked for consistency.
 *
 * @example
 * ```ts
 * import { ditConfig } from "./config.ts";
 * const xl = ditConfig("DiT-XL/2"); // DiT-XL-2-256x256.pt: 32x32x4 latents, 1000 classes
 * const tiny = ditConfig("DiT-T/2", { inputSize: 8, numClasses: 10 });
 * ```
 */
export function ditConfig(
  name: string,
  overrides: Partial<Omit<DiTConfig, "name">> = {},
): DiTConfig {
  const arch = DIT_ARCHS[name];
  if (!arch) {
    throw new RangeError(
      `Unknown DiT architecture '${name}'; expected one of ${Object.keys(DIT_ARCHS).join(", ")}`,
    );
  }
  const c: DiTConfig = { name, ...DEFAULTS, ...arch, ...overrides };
  checkConfig(c);
  return c;
}

/**
 * Throws a RangeError naming the first inconsistent field of a configuration.
 *
 * @example
 * ```ts
 * import { checkConfig, ditConfig } from "./config.ts";
 * checkConfig({ ...ditConfig("DiT-S/2"), numHeads: 5 }); // throws: 384 is not a multiple of 5
 * ```
 */
export function checkConfig(c: DiTConfig): void {
  const ints: (keyof DiTConfig)[] = [
    "depth",
    "hiddenSize",
    "patchSize",
    "numHeads",
    "inputSize",
    "inChannels",
    "numClasses",
  ];
  for (const k of ints) {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${c.name}: ${k} must be a positive integer, got ${v}`);
    }
  }
  if (c.hiddenSize % c.numHeads) {
    throw new RangeError(
      `${c.name}: hiddenSize ${c.hiddenSize} is not a multiple of numHeads ${c.numHeads}`,
    );
  }
  if (c.hiddenSize % 4) {
    throw new RangeError(
      `${c.name}: hiddenSize ${c.hiddenSize} must be a multiple of 4 (2-D sin-cos embedding)`,
    );
  }
  if (c.inputSize % c.patchSize) {
    throw new RangeError(
      `${c.name}: inputSize ${c.inputSize} is not a multiple of patchSize ${c.patchSize}`,
    );
  }
  if (!(c.mlpRatio > 0) || !(c.classDropoutProb >= 0 && c.classDropoutProb < 1)) {
    throw new RangeError(`${c.name}: mlpRatio must be > 0 and classDropoutProb in [0, 1)`);
  }
}

/**
 * Rows of the label embedding table: the classes plus the null class when dropout > 0.
 *
 * @example
 * ```ts
 * import { ditConfig, labelTableSize } from "./config.ts";
 * labelTableSize(ditConfig("DiT-XL/2")); // 1001
 * ```
 */
export function labelTableSize(c: DiTConfig): number {
  return c.numClasses + (c.classDropoutProb > 0 ? 1 : 0);
}

/**
 * Output channels: 2C with learned sigma, else C.
 *
 * @example
 * ```ts
 * import { ditConfig, outChannels } from "./config.ts";
 * outChannels(ditConfig("DiT-XL/2")); // 8
 * ```
 */
export function outChannels(c: DiTConfig): number {
  return c.learnSigma ? 2 * c.inChannels : c.inChannels;
}

/**
 * MLP hidden width, `int(hidden_size * mlp_ratio)` as in DiTBlock.
 *
 * @example
 * ```ts
 * import { ditConfig, mlpHidden } from "./config.ts";
 * mlpHidden(ditConfig("DiT-XL/2")); // 4608
 * ```
 */
export function mlpHidden(c: DiTConfig): number {
  return Math.trunc(c.hiddenSize * c.mlpRatio);
}

/**
 * Every state-dict key of a DiT with its shape, in models.py's registration order: what a
 * checkpoint must hold (pos_embed included: it is a frozen nn.Parameter).
 *
 * @example
 * ```ts
 * import { ditConfig, ditStateShapes } from "./config.ts";
 * ditStateShapes(ditConfig("DiT-XL/2")).get("y_embedder.embedding_table.weight"); // [1001, 1152]
 * ```
 */
export function ditStateShapes(c: DiTConfig): Map<string, number[]> {
  const D = c.hiddenSize, p = c.patchSize, F = FREQUENCY_EMBEDDING_SIZE;
  const T = (c.inputSize / p) ** 2, M = mlpHidden(c);
  const m = new Map<string, number[]>();
  const lin = (name: string, i: number, o: number) => {
    m.set(`${name}.weight`, [o, i]);
    m.set(`${name}.bias`, [o]);
  };
  m.set("pos_embed", [1, T, D]);
  m.set("x_embedder.proj.weight", [D, c.inChannels, p, p]);
  m.set("x_embedder.proj.bias", [D]);
  lin("t_embedder.mlp.0", F, D);
  lin("t_embedder.mlp.2", D, D);
  m.set("y_embedder.embedding_table.weight", [labelTableSize(c), D]);
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    lin(`${b}.attn.qkv`, D, 3 * D);
    lin(`${b}.attn.proj`, D, D);
    lin(`${b}.mlp.fc1`, D, M);
    lin(`${b}.mlp.fc2`, M, D);
    lin(`${b}.adaLN_modulation.1`, D, 6 * D);
  }
  lin("final_layer.linear", D, p * p * outChannels(c));
  lin("final_layer.adaLN_modulation.1", D, 2 * D);
  return m;
}
