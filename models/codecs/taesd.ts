/**
 * TAESD-family tiny autoencoders (TAESD, TAESDXL, TAEF1, TAEF2) as ONNX graphs, built from
 * the original `.pth` state dicts. Architecture adapted from madebyollin/taesd@5cccb12
 * `taesd.py`: the `Encoder`/`Decoder` `nn.Sequential` layouts (state-dict keys are their
 * indices: `1.conv.0.weight`, `13.pool.1.bias`, ...), `Block` (conv-relu-conv-relu-conv plus
 * a 1x1 skip when channels change, then ReLU), the decoder's `Clamp` (`tanh(x / 3) * 3`) and
 * nearest x2 `Upsample`, and TAEF2's ("flux_2") mid-block pooling branch
 * `x + conv1x1(relu(GroupNorm(4, 4C)(conv1x1(x))))` in the three lowest-resolution blocks.
 *
 * The encoder takes images in [0, 1] and returns raw latents; the decoder returns images in
 * about [0, 1] (not clamped). {@link taef2Codec} wraps both as the pipeline's `Codec` (stages/codec.ts)
 * (images in [-1, 1], optional per-channel latent normalisation).
 *
 * @module
 */
import { canonicalJson, fileHashPrefix, sha256Hex } from "../core/hash.ts";
import { batchCodec, type ModelCodec } from "./batch_codec.ts";
import { StateDict } from "../graph/weights.ts";
import { Graph, type Value } from "../graph/graph.ts";

export type { ModelCodec };
import type { SessionOptions } from "../graph/session.ts";
import { relu, tanh } from "../graph/ops/activation.ts";
import { conv } from "../graph/ops/conv.ts";
import { add, addN, mul } from "../graph/ops/elementwise.ts";
import { pad, permute, reshape, slice } from "../graph/ops/shape.ts";
import { groupNorm } from "../graph/ops/norm.ts";
import { upsampleNearest } from "../graph/ops/pool.ts";

/**
 * Architecture options of a TAESD-family model (`taesd.py` `Encoder`/`Decoder` arguments).
 *
 * @example
 * ```ts
 * import type { TaesdConfig } from "./taesd.ts";
 * const taesd: TaesdConfig = { latentChannels: 4, useMidblockGn: false };
 * ```
 */
export interface TaesdConfig {
  /** Latent channels (4 TAESD/TAESDXL, 16 TAEF1/TAESD3, 32 TAEF2). */
  latentChannels: number;
  /** TAEF2's mid-block GroupNorm pooling branch (`use_midblock_gn`). */
  useMidblockGn: boolean;
}

/**
 * TAEF2: `taesd.py` `guess_latent_channels_and_arch("taef2...")` gives (32, "flux_2"), and
 * "flux_2" turns on `use_midblock_gn` in encoder and decoder.
 *
 * @example
 * ```ts
 * import { TAEF2_CONFIG } from "./taesd.ts";
 * TAEF2_CONFIG.latentChannels; // 32
 * ```
 */
export const TAEF2_CONFIG: Readonly<TaesdConfig> = Object.freeze({
  latentChannels: 32,
  useMidblockGn: true,
});

/**
 * Spatial down/upsampling factor of the encoder/decoder (three stride-2 stages).
 *
 * @example
 * ```ts
 * import { TAESD_SCALE_FACTOR } from "./taesd.ts";
 * const latentSide = 64 / TAESD_SCALE_FACTOR; // 8
 * ```
 */
export const TAESD_SCALE_FACTOR = 8;
/** `Clamp` in taesd.py: `tanh(x / 3) * 3` softly limits latents to (-3, 3). */
const CLAMP_MAGNITUDE = 3;
/** Width of every TAESD block. */
const WIDTH = 64;
/** `nn.GroupNorm(4, n_in * 4)` of the mid-block branch (PyTorch default eps 1e-5). */
const MIDBLOCK_GROUPS = 4;
const MIDBLOCK_EXPANSION = 4;
const GN_EPS = 1e-5;

/** One entry of an `nn.Sequential` layout. */
type Layer =
  | { kind: "conv"; cout: number | "latent" | "rgb"; stride?: number; bias?: boolean }
  | { kind: "block"; gn?: boolean }
  | { kind: "relu" | "clamp" | "upsample" };

const conv3 = (cout: number | "latent" | "rgb", stride = 1, bias = true): Layer => (
  { kind: "conv", cout, stride, bias }
);
const block = (gn = false): Layer => ({ kind: "block", gn });
const down = conv3(WIDTH, 2, false);
const up: Layer[] = [{ kind: "upsample" }, conv3(WIDTH, 1, false)];

/** `Encoder(latent_channels, use_midblock_gn)` of taesd.py, index by index. */
// deno-fmt-ignore
const ENCODER: readonly Layer[] = [
  conv3(WIDTH), block(), //                            0, 1
  down, block(), block(), block(), //                  2-5
  down, block(), block(), block(), //                  6-9
  down, block(true), block(true), block(true), //      10-13
  conv3("latent"), //                                  14
];

/** `Decoder(latent_channels, use_midblock_gn)` of taesd.py, index by index. */
// deno-fmt-ignore
const DECODER: readonly Layer[] = [
  { kind: "clamp" }, conv3(WIDTH), { kind: "relu" }, // 0-2
  block(true), block(true), block(true), ...up, //     3-7
  block(), block(), block(), ...up, //                 8-12
  block(), block(), block(), ...up, //                 13-17
  block(), conv3("rgb"), //                            18, 19
];

/**
 * Builds the TAESD encoder on `x [N, 3, S, S]` (RGB in [0, 1]); returns raw latents
 * `[N, C, S/8, S/8]`. Weights come from `sd` under taesd.py's `nn.Sequential` names.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { StateDict } from "../graph/weights.ts";
 * import { TAEF2_CONFIG, taesdEncoder } from "./taesd.ts";
 * const sd = await StateDict.load("taef2_encoder.pth");
 * const g = new Graph();
 * g.output(taesdEncoder(g.input("images", [1, 3, 64, 64]), sd, TAEF2_CONFIG), "latents");
 * sd.assertAllUsed("the TAEF2 encoder");
 * ```
 */
export function taesdEncoder(x: Value, sd: StateDict, config: TaesdConfig): Value {
  if (x.rank !== 4 || x.shape[1] !== 3 || x.shape[2] % 8 || x.shape[3] % 8) {
    throw new RangeError(`taesdEncoder: input ${x} must be [N, 3, H, W] with H, W multiples of 8`);
  }
  return sequential(x, ENCODER, sd, config);
}

/**
 * Builds the TAESD decoder on raw latents `z [N, C, h, w]`; returns images
 * `[N, 3, 8h, 8w]` in about [0, 1] (not clamped).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { StateDict } from "../graph/weights.ts";
 * import { TAEF2_CONFIG, taesdDecoder } from "./taesd.ts";
 * const sd = await StateDict.load("taef2_decoder.pth");
 * const g = new Graph();
 * g.output(taesdDecoder(g.input("latents", [1, 32, 8, 8]), sd, TAEF2_CONFIG), "images");
 * ```
 */
export function taesdDecoder(z: Value, sd: StateDict, config: TaesdConfig): Value {
  if (z.rank !== 4 || z.shape[1] !== config.latentChannels) {
    throw new RangeError(`taesdDecoder: input ${z} must be [N, ${config.latentChannels}, h, w]`);
  }
  return sequential(z, DECODER, sd, config);
}

function sequential(x: Value, layers: readonly Layer[], sd: StateDict, cfg: TaesdConfig): Value {
  const g = x.graph;
  let h = x;
  layers.forEach((layer, i) => {
    const name = String(i);
    switch (layer.kind) {
      case "conv": {
        const cout = layer.cout === "latent"
          ? cfg.latentChannels
          : layer.cout === "rgb"
          ? 3
          : layer.cout;
        h = layer.cout === "rgb"
          ? rgbConv(g, sd, name, h)
          : convLayer(g, sd, name, h, cout, 3, layer.stride ?? 1, layer.bias ?? true);
        break;
      }
      case "block":
        h = taesdBlock(g, sd, name, h, WIDTH, cfg.useMidblockGn && layer.gn === true);
        break;
      case "relu":
        h = relu(h);
        break;
      case "clamp": // tanh(x / 3) * 3
        h = mul(tanh(mul(h, 1 / CLAMP_MAGNITUDE)), CLAMP_MAGNITUDE);
        break;
      case "upsample":
        h = upsampleNearest(h, 2);
        break;
    }
  });
  return h;
}

/** `nn.Conv2d(cin, cout, k, stride, padding=k//2, bias)` with weights `<name>.weight/.bias`. */
function convLayer(
  g: Graph,
  sd: StateDict,
  name: string,
  x: Value,
  cout: number,
  k: number,
  stride: number,
  bias: boolean,
): Value {
  const w = sd.param(g, `${name}.weight`, [cout, x.shape[1], k, k]);
  const b = bias ? sd.param(g, `${name}.bias`, [cout]) : null;
  return conv(x, w, b, { stride, padding: (k - 1) >> 1 });
}

/**
 * The decoder's last `nn.Conv2d(C, 3, 3, padding=1)`, rewritten as a 1x1 conv to 27 channels
 * (one 3-channel map per kernel offset) followed by the sum of the 9 shifted maps: onnxruntime's
 * blocked (NCHWc) Conv pads 3 output channels to 16, and the rewrite made a 64 px decode (batch 16)
 * 6-11% faster (bench/vae_bench.ts, taef2_decode_64). Same result up to float rounding.
 */
function rgbConv(g: Graph, sd: StateDict, name: string, x: Value): Value {
  const [, cin, hgt, wid] = x.shape;
  const w = sd.param(g, `${name}.weight`, [3, cin, 3, 3]);
  const b = sd.param(g, `${name}.bias`, [3]);
  // w [o, c, kh, kw] -> [(kh, kw, o), c, 1, 1]; constant-folded when the weights are initializers
  const w1 = reshape(permute(w, [2, 3, 0, 1]), [27, cin, 1, 1]);
  const y = pad(conv(x, w1, null), [0, 0, 1, 1, 0, 0, 1, 1]); // [N, 27, H + 2, W + 2]
  const parts: Value[] = [];
  for (let kh = 0; kh < 3; kh++) {
    for (let kw = 0; kw < 3; kw++) {
      const c0 = (kh * 3 + kw) * 3;
      // out[o, h, w] += y[(kh, kw, o), h + kh, w + kw] (row h + kh - 1 before the padding)
      parts.push(slice(y, [1, 2, 3], [c0, kh, kw], [c0 + 3, kh + hgt, kw + wid]));
    }
  }
  return addN([...parts, reshape(b, [1, 3, 1, 1])]); // [N, 3, H, W]
}

/** taesd.py `Block(n_in, n_out, use_midblock_gn)`. */
function taesdBlock(
  g: Graph,
  sd: StateDict,
  p: string,
  x: Value,
  cout: number,
  gn: boolean,
): Value {
  const cin = x.shape[1];
  if (gn) {
    // pool = Sequential(conv1x1(n_in, 4 n_in), GroupNorm(4, 4 n_in), ReLU, conv1x1(4 n_in, n_in))
    const wide = cin * MIDBLOCK_EXPANSION;
    let t = convLayer(g, sd, `${p}.pool.0`, x, wide, 1, 1, false); // [N, 4C, h, w]
    const gamma = sd.param(g, `${p}.pool.1.weight`, [wide]);
    const beta = sd.param(g, `${p}.pool.1.bias`, [wide]);
    t = relu(groupNorm(t, MIDBLOCK_GROUPS, gamma, beta, GN_EPS));
    x = add(x, convLayer(g, sd, `${p}.pool.3`, t, cin, 1, 1, false));
  }
  let h = relu(convLayer(g, sd, `${p}.conv.0`, x, cout, 3, 1, true));
  h = relu(convLayer(g, sd, `${p}.conv.2`, h, cout, 3, 1, true));
  h = convLayer(g, sd, `${p}.conv.4`, h, cout, 3, 1, true);
  const skip = cin === cout ? x : convLayer(g, sd, `${p}.skip`, x, cout, 1, 1, false);
  return relu(add(h, skip));
}

/**
 * Options of {@link taef2Codec}.
 *
 * @example
 * ```ts
 * import type { Taef2CodecOptions } from "./taesd.ts";
 * const o: Taef2CodecOptions = { imageSize: 64, weightsDir: "models/taef2", threads: 2 };
 * ```
 */
export interface Taef2CodecOptions {
  /** Side length S of the images (a multiple of 8); latents are [32, S/8, S/8]. */
  imageSize: number;
  /** Folder holding `taef2_encoder.pth` and `taef2_decoder.pth`. */
  weightsDir: string;
  /**
   * Per-channel latent normalisation: the codec's latents are `(z - mean) / std` of the raw
   * TAEF2 latents z (32 values each); decoding undoes it. Default: none (raw latents).
   */
  normalisation?: { mean: readonly number[]; std: readonly number[] };
  /** onnxruntime intra-op threads (default: one per core). */
  threads?: number;
  /** Further session options (graph optimisation level, providers). */
  session?: SessionOptions;
}

/**
 * The TAEF2 codec: images [N, 3, S, S] in [-1, 1] -> TAEF2 latents [N, 32, S/8, S/8]
 * (normalised per channel when asked) and back. Weights are checked when the codec is made
 * (every key present with the right shape, no unexpected key); sessions are built on first
 * use for each batch size. `id` names the weights (SHA-256 prefixes of both files), the
 * image size and the normalisation.
 *
 * @example
 * ```ts
 * import { taef2Codec } from "./taesd.ts";
 * const codec = await taef2Codec({ imageSize: 64, weightsDir: "models/taef2", threads: 2 });
 * const z = await codec.encode(new Float32Array(2 * 3 * 64 * 64), 2); // [2, 32, 8, 8]
 * const x = await codec.decode(z, 2); // [2, 3, 64, 64] in about [-1, 1]
 * await codec.release();
 * ```
 */
export async function taef2Codec(o: Taef2CodecOptions): Promise<ModelCodec> {
  const S = o.imageSize;
  if (!Number.isInteger(S) || S < 8 || S % TAESD_SCALE_FACTOR) {
    throw new RangeError(`taef2Codec: imageSize must be a positive multiple of 8, got ${S}`);
  }
  const cfg = TAEF2_CONFIG;
  const C = cfg.latentChannels;
  const norm = checkNormalisation(o.normalisation, C);
  const dir = o.weightsDir.replace(/\/+$/, "");
  const encPath = `${dir}/taef2_encoder.pth`;
  const decPath = `${dir}/taef2_decoder.pth`;
  const [enc, dec] = await Promise.all([StateDict.load(encPath), StateDict.load(decPath)]);
  const h = S / TAESD_SCALE_FACTOR;
  // Affine maps folded into the graphs: [-1, 1] <-> [0, 1] and the latent normalisation.
  const scale = norm ? norm.std.map((s) => 1 / s) : null;
  const shift = norm ? norm.mean.map((m, i) => -m / norm.std[i]) : null;
  const channel = (g: Graph, v: readonly number[]) =>
    g.constant(Float32Array.from(v), [1, v.length, 1, 1]);
  const buildEncoder = (n: number) => {
    const g = new Graph();
    const x = g.input("images", [n, 3, S, S]); // [-1, 1]
    let z = taesdEncoder(add(mul(x, 0.5), 0.5), enc, cfg); // [n, 32, h, h]
    if (scale && shift) z = add(mul(z, channel(g, scale)), channel(g, shift));
    g.output(z, "latents");
    return g.toModel({ paramsAs: "initializers" });
  };
  const buildDecoder = (n: number) => {
    const g = new Graph();
    let z = g.input("latents", [n, C, h, h]);
    if (norm) z = add(mul(z, channel(g, norm.std)), channel(g, norm.mean));
    g.output(add(mul(taesdDecoder(z, dec, cfg), 2), -1), "images"); // [n, 3, S, S]
    return g.toModel({ paramsAs: "initializers" });
  };
  // Check every key now (shapes, missing and unexpected keys), not at the first batch.
  buildEncoder(1);
  enc.assertAllUsed("the TAEF2 encoder");
  buildDecoder(1);
  dec.assertAllUsed("the TAEF2 decoder");
  const [eh, dh] = await Promise.all([fileHashPrefix(encPath), fileHashPrefix(decPath)]);
  const normId = norm ? `sha256:${(await sha256Hex(canonicalJson(norm))).slice(0, 12)}` : "none";
  return batchCodec({
    id: `taef2(enc=${eh},dec=${dh},size=${S},norm=${normId})`,
    imageSize: S,
    imageChannels: 3,
    latentShape: [C, h, h],
    encoder: buildEncoder,
    decoder: buildDecoder,
    threads: o.threads,
    session: o.session,
  });
}

function checkNormalisation(
  norm: Taef2CodecOptions["normalisation"],
  c: number,
): { mean: number[]; std: number[] } | null {
  if (!norm) return null;
  const { mean, std } = norm;
  if (mean.length !== c || std.length !== c) {
    throw new RangeError(
      `taef2Codec: normalisation needs ${c} means and stds, got ${mean.length} and ${std.length}`,
    );
  }
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s > 0)) {
    throw new RangeError("taef2Codec: normalisation means must be finite and stds positive");
  }
  return { mean: [...mean], std: [...std] };
}
