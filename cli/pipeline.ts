/**
 * `mgd3 encode | sample | decode`: thin wrappers over the stages of the same names.
 *
 * @module
 */
import type { Command } from "./command.ts";
import {
  classesFlag,
  intFlag,
  numberFlag,
  OUT_FLAG,
  OVERWRITE_FLAG,
  required,
  STORE_FLAG,
} from "./_flags.ts";
import { CODEC_FLAGS, loadFlagCodec, loadFlagDenoiser, MODEL_FLAGS } from "./_models.ts";
import { encode, ENCODE_DEFAULTS } from "../stages/encode.ts";
import { sample } from "../stages/sample.ts";
import { decode, DECODE_DEFAULTS } from "../stages/decode.ts";
import { parseShard } from "../stages/store/shard.ts";
import { Store } from "../stages/store/store.ts";

const COMMON = {
  store: STORE_FLAG,
  out: OUT_FLAG,
  shard: {
    type: "string" as const,
    default: "0/1",
    description: "this worker's classes, i/n (e.g. a Slurm array index)",
  },
  overwrite: OVERWRITE_FLAG,
};

/** `mgd3 encode`. */
export const encodeCommand: Command = {
  name: "encode",
  summary: "Encode an ImageFolder into per-class VAE latents (ADM center_crop_arr preprocessing).",
  flags: {
    ...COMMON,
    ...CODEC_FLAGS,
    data: { type: "string", description: "ImageFolder root (one folder per class)" },
    classes: {
      type: "string",
      default: "imagenette",
      description: "class preset, one wnid (n01440764), or comma-separated wnids",
    },
    "class-ids": {
      type: "string",
      choices: ["imagenet", "label"],
      description:
        "model class ids: ImageNet-1K index (DiT) or label position (default: label with --unet, else imagenet)",
    },
    limit: { type: "string", description: "at most this many images per class" },
    flip: { type: "boolean", description: "mirror images before encoding" },
    f16: { type: "boolean", description: "store latents as F16" },
    "skip-bad": {
      type: "boolean",
      description: "skip unreadable images (listed in the report) instead of stopping",
    },
    "batch-size": { type: "string", default: "32", description: "images per codec call" },
  },
  positionals: [],
  epilog:
    "Example: mgd3 encode --unet weights/cpu_unet.safetensors --data data/train --out latents/train",
  async run(v) {
    required(v, "data", "out");
    const { codec, scale, release } = await loadFlagCodec(v);
    try {
      const store = await Store.open(v.store as string);
      const classIds = v["class-ids"] as "imagenet" | "label" | undefined;
      const o = {
        data: v.data as string,
        classes: classesFlag("classes", v.classes as string),
        out: v.out as string,
        limit: v.limit === undefined ? null : intFlag("limit", v.limit as string, 1),
        flip: Boolean(v.flip),
        dtype: v.f16 ? "F16" as const : "F32" as const,
        onError: v["skip-bad"] ? "skip" as const : "throw" as const,
        batchSize: intFlag("batch-size", v["batch-size"] as string, 1),
        shard: parseShard(v.shard as string),
        overwrite: Boolean(v.overwrite),
      };
      // With --unet the scale's class ids (its model's class list) are the default.
      const r = scale
        ? await encode(store, scale, { ...o, classIds })
        : await encode(store, codec, {
          ...ENCODE_DEFAULTS,
          ...o,
          classIds: classIds ?? ENCODE_DEFAULTS.classIds,
        });
      for (const b of r.badFiles) console.error(`skipped unreadable image ${b.path}: ${b.error}`);
      for (const b of r.redone) {
        console.error(`${r.artifact}: redid broken ${b.shard}: ${b.reason}`);
      }
      console.log(
        `${r.artifact}: wrote ${r.written.length} classes, skipped ${r.skipped.length} finished, ${
          r.seconds.toFixed(1)
        } s`,
      );
    } finally {
      await release();
    }
  },
};

/** `mgd3 sample`. */
export const sampleCommand: Command = {
  name: "sample",
  summary:
    "Sample one latent per mode with CFG and MGD3 mode guidance (or the DiT / D4M baselines).",
  flags: {
    ...COMMON,
    ...MODEL_FLAGS,
    modes: { type: "string", description: "modes artifact (from discover)" },
    method: {
      type: "string",
      choices: ["ddpm", "ddim"],
      description: "sampler (default ddpm; ddim with --sd: Algorithm 1)",
    },
    steps: {
      type: "string",
      default: "50",
      description: "respaced sampling steps (SPEC section 2)",
    },
    cfg: {
      type: "string",
      description:
        "classifier-free guidance scale (default 4.0, SPEC section 2; 3.0 with --ldm: the LDM repo's ImageNet sampling; 7.5 with --sd: diffusers' default; the paper gives none for either)",
    },
    "cfg-channels": {
      type: "string",
      description:
        "latent channels CFG guides: all (default with --unet), or N = the first N of the model's C latent channels, 1..C (3: DiT-XL/2's quirk, default with --dit)",
    },
    lambda: {
      type: "string",
      default: "0.1",
      description: "mode-guidance scale (App. F); 0 = unguided DiT baseline",
    },
    "t-stop": {
      type: "string",
      default: "25",
      description:
        "stop guidance: guide while the respaced step index (steps-1 .. 0) > t-stop (App. A); must be below steps-1 unless --lambda 0",
    },
    strength: {
      type: "string",
      description: "D4M-style prototype initialisation strength (0.7); off by default",
    },
    seed: { type: "string", default: "0", description: "dataset seed (paper: 0, 1, 2)" },
    "batch-size": {
      type: "string",
      description:
        "samples per network call, across classes (default: the model's: 50 with --unet, 1 with --sd, else 8; results do not depend on it)",
    },
  },
  positionals: [],
  epilog:
    "Example: mgd3 sample --unet weights/cpu_unet.safetensors --modes modes/ipc10 --out samples/mgd3-s0",
  async run(v) {
    required(v, "modes", "out");
    const { scale, id } = await loadFlagDenoiser(v);
    try {
      const lambda = numberFlag("lambda", v.lambda as string, 0);
      // CFG channels and variance come with the scale; --cfg-channels overrides the former.
      const r = await sample(await Store.open(v.store as string), scale, {
        modes: v.modes as string,
        out: v.out as string,
        model: id,
        method: v.method as "ddpm" | "ddim" | undefined,
        steps: intFlag("steps", v.steps as string, 1),
        cfgScale: v.cfg === undefined ? undefined : numberFlag("cfg", v.cfg as string, 0),
        cfgChannels: v["cfg-channels"] === undefined
          ? undefined
          : v["cfg-channels"] === "all"
          ? "all"
          : intFlag("cfg-channels", v["cfg-channels"] as string, 1),
        guidance: lambda === 0
          ? null
          : { lambda, tStop: intFlag("t-stop", v["t-stop"] as string, -1) },
        strength: v.strength === undefined
          ? null
          : numberFlag("strength", v.strength as string, 0, 1),
        seed: intFlag("seed", v.seed as string, 0),
        batchSize: v["batch-size"] === undefined
          ? undefined
          : intFlag("batch-size", v["batch-size"] as string, 1),
        shard: parseShard(v.shard as string),
        overwrite: Boolean(v.overwrite),
      });
      for (const b of r.redone) {
        console.error(`${r.artifact}: redid broken ${b.shard}: ${b.reason}`);
      }
      console.log(
        `${r.artifact}: wrote ${r.written.length} classes, skipped ${r.skipped.length} finished, ${
          r.seconds.toFixed(1)
        } s`,
      );
    } finally {
      await scale.release();
    }
  },
};

/** `mgd3 decode`. */
export const decodeCommand: Command = {
  name: "decode",
  summary:
    "Decode sampled latents into the distilled dataset (PNG ImageFolder) and a contact sheet.",
  flags: {
    ...COMMON,
    ...CODEC_FLAGS,
    samples: { type: "string", description: "samples artifact (from sample)" },
    "batch-size": { type: "string", default: "16", description: "latents per codec call" },
  },
  positionals: [],
  epilog:
    "Example: mgd3 decode --unet weights/cpu_unet.safetensors --samples samples/mgd3-s0 --out distilled/mgd3-s0",
  async run(v) {
    required(v, "samples", "out");
    const { codec, release } = await loadFlagCodec(v);
    try {
      const r = await decode(await Store.open(v.store as string), codec, {
        ...DECODE_DEFAULTS,
        samples: v.samples as string,
        out: v.out as string,
        batchSize: intFlag("batch-size", v["batch-size"] as string, 1),
        shard: parseShard(v.shard as string),
        overwrite: Boolean(v.overwrite),
      });
      for (const b of r.redone) {
        console.error(`${r.artifact}: redid broken ${b.shard}: ${b.reason}`);
      }
      console.log(`${r.artifact}: wrote ${r.written.length} classes; images in ${r.imageFolder}`);
      if (r.contactSheet) console.log(`contact sheet: ${r.contactSheet}`);
    } finally {
      await release();
    }
  },
};
