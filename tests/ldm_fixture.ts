// The tiny LatentDiffusion of tools/fixtures/make_ldm_fixtures.py, shared by the LDM tests.
import { CIN256_V2, type LdmConfig } from "../models/nets/ldm/mod.ts";
import { CIN256_V2_VQ, type VqConfig } from "../models/codecs/vq_codec.ts";

/** tests/fixtures/ldm/ldm_tiny.ckpt: a Lightning-style checkpoint laid out like cin256-v2.ckpt. */
export const TINY_CKPT: string = new URL("./fixtures/ldm/ldm_tiny.ckpt", import.meta.url).pathname;

/** Its U-Net and ClassEmbedder (1001 classes, context 16). */
export const TINY_LDM: LdmConfig = {
  ...CIN256_V2,
  name: "ldm-tiny",
  unet: {
    ...CIN256_V2.unet,
    imageSize: 8,
    modelChannels: 32,
    channelMult: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [2],
    numHeads: 2,
    contextDim: 16,
  },
};

/** Its VQ first stage (f = 4, 64 codes). */
export const TINY_VQ: VqConfig = {
  ...CIN256_V2_VQ,
  ch: 32,
  chMult: [1, 1, 2],
  numResBlocks: 1,
  nEmbed: 64,
};
