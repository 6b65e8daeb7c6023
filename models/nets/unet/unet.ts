/**
 * A class-conditional latent U-Net (the LDM-style backbone of the cpu-scale model, DESIGN
 * "The two scales"): ADM-style residual blocks with GroupNorm, SiLU and a scale-shift
 * time+class embedding, no attention, zero-initialised last convolutions, one downsampling
 * per level; the output of every down-path residual block is concatenated to the input of
 * its mirror block on the way up. It predicts v (or eps) for the
 * sampler's `Denoiser` interface.
 *
 * The sinusoidal timestep features are computed outside the graph ({@link timestepFeatures})
 * and fed as an input, so the graph needs no trigonometric ops.
 *
 * @module
 */
import type { Layers } from "../../graph/nn.ts";
import type { Value } from "../../graph/graph.ts";
import { silu } from "../../graph/ops/activation.ts";
import { conv } from "../../graph/ops/conv.ts";
import { add, mul } from "../../graph/ops/elementwise.ts";
import { upsampleNearest } from "../../graph/ops/pool.ts";
import { cat, reshape, slice } from "../../graph/ops/shape.ts";

/** Architecture of a {@link unet}. */
export interface UNetConfig {
  /** Latent channels in and out (TAEF2: 32). */
  inChannels: number;
  /** Latent side (TAEF2 at 64 px: 8). */
  size: number;
  /** Base width; level i has `channels * mult[i]` channels. */
  channels: number;
  /** Width multipliers per level, e.g. [1, 2] for 128 and 256 channels. */
  mult: number[];
  /** Residual blocks per level, on the way down and on the way up. */
  blocksPerLevel: number;
  /** Residual blocks at the lowest resolution between the two paths. */
  midBlocks: number;
  /** Classes; the null class for classifier-free guidance is `numClasses`. */
  numClasses: number;
  /** GroupNorm groups (32 as ADM, fewer when channels are few). */
  groups: number;
}

/**
 * The cpu-scale config: two levels of 128 and 256 channels, two residual blocks per level, no
 * middle blocks and no attention: 10.3M parameters, close to the 10.7M-parameter U-Net
 * DESIGN measured, and 21 MB as F16 weights (the project's limit is 25 MB).
 */
export const CPU_UNET: Readonly<UNetConfig> = {
  inChannels: 32,
  size: 8,
  channels: 128,
  mult: [1, 2],
  blocksPerLevel: 2,
  midBlocks: 0,
  numClasses: 10,
  groups: 32,
};

/** Size of the sinusoidal timestep features (= base channels, as ADM). */
export function timestepDim(cfg: UNetConfig): number {
  return cfg.channels;
}

/**
 * ADM's sinusoidal timestep embedding, max period 10000: [cos(t f_i), sin(t f_i)] with
 * f_i = exp(-ln(10000) i / half), i < half = dim / 2.
 *
 * @example
 * ```ts
 * import { timestepFeatures } from "./unet.ts";
 * const f = timestepFeatures(new Float32Array([0, 999]), 128); // [2, 128]
 * ```
 */
export function timestepFeatures(t: Float32Array, dim: number, maxPeriod = 10000): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(t.length * dim);
  for (let b = 0; b < t.length; b++) {
    for (let i = 0; i < half; i++) {
      const arg = t[b] * Math.exp((-Math.log(maxPeriod) * i) / half);
      out[b * dim + i] = Math.cos(arg);
      out[b * dim + half + i] = Math.sin(arg);
    }
  }
  return out;
}

/**
 * Builds the U-Net: x [B, C, s, s], tFeat [B, channels] (from {@link timestepFeatures}),
 * y [B] int64 class ids -> prediction [B, C, s, s]. Parameter names follow PyTorch module
 * paths (`time_embed.0.weight`, `down.0.res.1.conv1.weight`, ...).
 *
 * @example
 * ```ts
 * import { Graph } from "../../graph/graph.ts";
 * import { Layers, ParamStore } from "../../graph/nn.ts";
 * import { CPU_UNET, unet } from "./unet.ts";
 * const g = new Graph();
 * const nn = new Layers(g, new ParamStore(Math.random), false);
 * const out = unet(nn, CPU_UNET, g.input("x", [2, 32, 8, 8]), g.input("t_feat", [2, 128]), g.input("y", [2], "int64"));
 * ```
 */
export function unet(nn: Layers, cfg: UNetConfig, x: Value, tFeat: Value, y: Value): Value {
  const ch = cfg.channels;
  const embDim = 4 * ch;
  // 1. Embedding: MLP of the timestep features plus a class embedding (null class included).
  let emb = nn.linear("time_embed.0", tFeat, embDim);
  emb = nn.linear("time_embed.2", silu(emb), embDim);
  emb = add(emb, nn.embedding("label_emb", y, cfg.numClasses + 1, embDim));

  // 2. Down: conv_in, residual blocks (their outputs kept as skips), a strided conv between levels.
  let h = nn.conv2d("conv_in", x, ch, 3, { padding: 1 });
  const skips: Value[] = [];
  cfg.mult.forEach((m, level) => {
    for (let i = 0; i < cfg.blocksPerLevel; i++) {
      h = resBlock(nn, `down.${level}.res.${i}`, h, emb, ch * m, cfg.groups);
      skips.push(h);
    }
    if (level < cfg.mult.length - 1) {
      h = nn.conv2d(`down.${level}.downsample`, h, h.shape[1], 3, { stride: 2, padding: 1 });
    }
  });

  // 3. Middle.
  const top = ch * cfg.mult[cfg.mult.length - 1];
  for (let i = 0; i < cfg.midBlocks; i++) h = resBlock(nn, `mid.${i}`, h, emb, top, cfg.groups);

  // 4. Up: blocksPerLevel blocks per level, each on [h, skip]; nearest x2 + conv between levels.
  for (let level = cfg.mult.length - 1; level >= 0; level--) {
    for (let i = 0; i < cfg.blocksPerLevel; i++) {
      h = resBlock(
        nn,
        `up.${level}.res.${i}`,
        cat([h, skips.pop()!], 1),
        emb,
        ch * cfg.mult[level],
        cfg.groups,
      );
    }
    if (level > 0) {
      h = nn.conv2d(`up.${level}.upsample`, upsampleNearest(h, 2), h.shape[1], 3, { padding: 1 });
    }
  }

  // 5. Out: norm, SiLU, zero-initialised conv.
  h = silu(nn.groupNorm("out.norm", h, cfg.groups));
  return zeroConv(nn, "out.conv", h, cfg.inChannels);
}

/** ADM ResBlock with scale-shift norm: GN-SiLU-conv, GN * (1 + scale) + shift, SiLU, zero conv, + skip. */
function resBlock(
  nn: Layers,
  name: string,
  x: Value,
  emb: Value,
  out: number,
  groups: number,
): Value {
  let h = nn.conv2d(`${name}.conv1`, silu(nn.groupNorm(`${name}.norm1`, x, groups)), out, 3, {
    padding: 1,
  });
  const ss = nn.linear(`${name}.emb`, silu(emb), 2 * out); // [B, 2 out]
  const b = ss.shape[0];
  const scale = reshape(slice(ss, [1], [0], [out]), [b, out, 1, 1]);
  const shift = reshape(slice(ss, [1], [out], [2 * out]), [b, out, 1, 1]);
  h = nn.groupNorm(`${name}.norm2`, h, groups);
  h = add(mul(h, add(scale, 1)), shift);
  h = zeroConv(nn, `${name}.conv2`, silu(h), out);
  const skip = x.shape[1] === out ? x : nn.conv2d(`${name}.skip`, x, out, 1);
  return add(skip, h);
}

/** A 3x3 conv whose weights and bias start at zero (ADM's zero_module). */
function zeroConv(nn: Layers, name: string, x: Value, out: number): Value {
  const w = nn.param(`${name}.weight`, [out, x.shape[1], 3, 3], { kind: "const", value: 0 });
  const b = nn.param(`${name}.bias`, [out], { kind: "const", value: 0 });
  return conv(x, w, b, { padding: 1 });
}
