/**
 * The paper-scale assets `mgd3 fetch` knows: the publishers' URLs and, where a publisher gives
 * one, the hash to check. `verify` says which kind of check each asset gets:
 *
 * - `publisher`: a hash the publisher states (torchvision names its files with the first 8 hex
 *   digits of their SHA-256, `resnet18-f37072fd.pth`; the check is the one torch.hub makes).
 * - `first-use` (trust on first download): no publisher hash could be verified when this list
 *   was written (no network; Hugging Face LFS hashes, fast.ai's and Meta's files, GitHub
 *   archives), so the first download's size and SHA-256 go to the lock file in the cache
 *   (`<cache>/mgd3.lock.json`) and every later download or `--verify` is checked against them.
 *
 * @module
 */

/** How an asset's bytes are checked. */
export type Verification = "publisher" | "first-use";

/** One downloaded file of an asset. */
export interface AssetFile {
  /** Publisher's URL. */
  url: string;
  /** File name inside the asset's cache folder (and inside a mirror's `<asset>/` folder). */
  name: string;
  /** Size in bytes, when the publisher states it. */
  size?: number;
  /** Full SHA-256 (hex), when the publisher states it. */
  sha256?: string;
  /** Leading hex digits of the SHA-256 (torchvision's file names). */
  sha256Prefix?: string;
}

/** One asset of the registry. */
export interface Asset {
  /** The name `mgd3 fetch` takes. */
  id: string;
  /** What it is and who publishes it. */
  description: string;
  /** `file`: one file; `folder`: several files side by side; `archive`: one tar.gz or zip, unpacked. */
  kind: "file" | "folder" | "archive";
  files: AssetFile[];
  verify: Verification;
  /** For archives: the folder the archive unpacks to, which is the asset's path. */
  root?: string;
  /** What uses it (a flag of `reproduce`, an environment variable of the benchmarks). */
  usedBy: string;
}

/** facebookresearch/DiT commit the DiT port and its fixtures follow (tests/fixtures/dit/dit_parity.safetensors records it). */
export const DIT_COMMIT = "ed81ce2229091fd4ecc9a223645f95cf379d582b";
/** madebyollin/taesd commit the TAESD/TAEF2 port follows (models/codecs/taesd.ts: taesd@5cccb12). */
export const TAESD_COMMIT = "5cccb12dc72074a4be35680c3b108548a7c69978";

const HF_VAE = "https://huggingface.co/stabilityai/sd-vae-ft-mse/resolve/main";
const FASTAI = "https://s3.amazonaws.com/fast-ai-imageclas";

/**
 * Every asset, in the order `mgd3 fetch --list` shows them.
 *
 * @example
 * ```ts
 * import { ASSETS } from "./registry.ts";
 * ASSETS.map((a) => a.id); // ["dit-xl-2-256", "sd-vae-ft-mse", ...]
 * ```
 */
export const ASSETS: readonly Asset[] = [
  {
    id: "dit-xl-2-256",
    description: "DiT-XL/2 at 256 px, EMA weights (facebookresearch/DiT, Meta)",
    kind: "file",
    files: [{
      url: "https://dl.fbaipublicfiles.com/DiT/models/DiT-XL-2-256x256.pt",
      name: "DiT-XL-2-256x256.pt",
    }],
    verify: "first-use",
    usedBy: "reproduce --dit",
  },
  {
    id: "sd-vae-ft-mse",
    description:
      "Stable Diffusion VAE ft-MSE, diffusers AutoencoderKL folder (stabilityai, Hugging Face)",
    kind: "folder",
    files: [
      { url: `${HF_VAE}/config.json`, name: "config.json" },
      {
        url: `${HF_VAE}/diffusion_pytorch_model.safetensors`,
        name: "diffusion_pytorch_model.safetensors",
      },
    ],
    verify: "first-use",
    usedBy: "reproduce --vae",
  },
  {
    id: "imagenette2",
    description: "ImageNette, full size (fast.ai): train/ and val/ ImageFolders of 10 classes",
    kind: "archive",
    files: [{ url: `${FASTAI}/imagenette2.tgz`, name: "imagenette2.tgz" }],
    root: "imagenette2",
    verify: "first-use",
    usedBy: "reproduce --data <asset>/train --val <asset>/val",
  },
  {
    id: "imagewoof2",
    description: "ImageWoof, full size (fast.ai): train/ and val/ ImageFolders of 10 dog breeds",
    kind: "archive",
    files: [{ url: `${FASTAI}/imagewoof2.tgz`, name: "imagewoof2.tgz" }],
    root: "imagewoof2",
    verify: "first-use",
    usedBy: "ImageWoof train/val folders",
  },
  {
    id: "resnet18-teacher",
    description: "torchvision ResNet-18 ImageNet weights (soft-label teacher)",
    kind: "file",
    files: [{
      url: "https://download.pytorch.org/models/resnet18-f37072fd.pth",
      name: "resnet18-f37072fd.pth",
      sha256Prefix: "f37072fd", // torchvision's file name: the hash torch.hub checks
    }],
    verify: "publisher",
    usedBy: "reproduce --teacher",
  },
  {
    id: "ldm-cin256-v2",
    description: "CompVis latent-diffusion class-conditional ImageNet LDM (cin256-v2, VQ-f4)",
    kind: "file",
    files: [{
      url: "https://ommer-lab.com/files/latent-diffusion/nitro/cin/model.ckpt",
      name: "cin256-v2.ckpt",
    }],
    verify: "first-use",
    usedBy: "the LDM family (cin256-v2 checkpoint)",
  },
  {
    id: "dit-ref",
    description: `facebookresearch/DiT source at ${DIT_COMMIT.slice(0, 7)} (benchmark reference)`,
    kind: "archive",
    files: [{
      url: `https://github.com/facebookresearch/DiT/archive/${DIT_COMMIT}.tar.gz`,
      name: `DiT-${DIT_COMMIT}.tar.gz`,
    }],
    root: `DiT-${DIT_COMMIT}`,
    verify: "first-use",
    usedBy: "deno task bench (MGD3_DIT_REF)",
  },
  {
    id: "taesd-ref",
    description: `madebyollin/taesd source and TAEF2 weights at ${
      TAESD_COMMIT.slice(0, 7)
    } (benchmark reference)`,
    kind: "archive",
    files: [{
      url: `https://github.com/madebyollin/taesd/archive/${TAESD_COMMIT}.tar.gz`,
      name: `taesd-${TAESD_COMMIT}.tar.gz`,
    }],
    root: `taesd-${TAESD_COMMIT}`,
    verify: "first-use",
    usedBy: "deno task bench (MGD3_TAESD_REF)",
  },
];

/**
 * The asset named `id`; throws listing the known names otherwise.
 *
 * @example
 * ```ts
 * import { findAsset } from "./registry.ts";
 * findAsset("resnet18-teacher").verify; // "publisher"
 * ```
 */
export function findAsset(id: string, assets: readonly Asset[] = ASSETS): Asset {
  const a = assets.find((x) => x.id === id);
  if (!a) {
    throw new Error(`Unknown asset '${id}'. Known assets: ${assets.map((x) => x.id).join(", ")}`);
  }
  return a;
}
