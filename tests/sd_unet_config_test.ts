// Stable Diffusion U-Net configuration: diffusers config.json files (SD 1.5, SD 2.1, the tiny
// fixture) read into the LDM U-Net settings, unsupported keys refused naming the file and key,
// diffusers' per-level head lists, and the weight renaming at full SD 1.5 size against
// diffusers' convert_ldm_unet_checkpoint. Fixtures: tools/fixtures/make_sd_unet_fixtures.py.
import assert from "node:assert/strict";
import {
  SD15_UNET_CONFIG,
  SD21_UNET_CONFIG,
  SdUNet,
  sdUNetConfigFromJson,
} from "../models/nets/sd/mod.ts";
import { Session } from "../models/graph/session.ts";
import { ParamStore } from "../models/graph/nn.ts";
import { Rng } from "../models/core/random.ts";
import { diffusersName } from "../models/nets/sd/_key_map.ts";

const DIR = new URL("./fixtures/sd/", import.meta.url).pathname;
const SD1_JSON = JSON.parse(await Deno.readTextFile(`${DIR}unet_sd1/config.json`));

/** Largest absolute difference, and that over the largest |b|. */
function errors(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  assert.equal(a.length, b.length);
  let d = 0, m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return { abs: d, rel: d / m };
}

// runwayml/stable-diffusion-v1-5 unet/config.json and stabilityai/stable-diffusion-2-1's.
const CROSS3 = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"];
const SD15_JSON = {
  _class_name: "UNet2DConditionModel",
  _diffusers_version: "0.6.0",
  act_fn: "silu",
  attention_head_dim: 8,
  block_out_channels: [320, 640, 1280, 1280],
  center_input_sample: false,
  cross_attention_dim: 768,
  down_block_types: [...CROSS3, "DownBlock2D"],
  downsample_padding: 1,
  flip_sin_to_cos: true,
  freq_shift: 0,
  in_channels: 4,
  layers_per_block: 2,
  mid_block_scale_factor: 1,
  norm_eps: 1e-05,
  norm_num_groups: 32,
  out_channels: 4,
  sample_size: 64,
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
};
const SD21_JSON = {
  ...SD15_JSON,
  _diffusers_version: "0.10.0.dev0",
  attention_head_dim: [5, 10, 20, 20],
  cross_attention_dim: 1024,
  dual_cross_attention: false,
  num_class_embeds: null,
  only_cross_attention: false,
  sample_size: 96,
  upcast_attention: true,
  use_linear_projection: true,
};

Deno.test("the SD 1.5 and SD 2.1 config.json files read as SD15_UNET_CONFIG and SD21_UNET_CONFIG", () => {
  assert.deepEqual(sdUNetConfigFromJson(SD15_JSON, "sd15/unet/config.json"), SD15_UNET_CONFIG);
  assert.deepEqual(sdUNetConfigFromJson(SD21_JSON, "sd21/unet/config.json"), SD21_UNET_CONFIG);
  // SD 2.x: 5, 10, 20, 20 heads of 64 channels; SD 1.x: 8 heads of 40, 80, 160 channels.
  assert.equal(SD21_UNET_CONFIG.unet.numHeadChannels, 64);
  assert.equal(SD15_UNET_CONFIG.unet.numHeads, 8);
});

Deno.test("config keys that change the network and are not supported are refused naming the file and key", async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ class_embed_type: "timestep" }, /key 'class_embed_type' is "timestep"; supported: null/],
    [{ addition_embed_type: "text_time" }, /key 'addition_embed_type'/],
    [{ time_cond_proj_dim: 256 }, /key 'time_cond_proj_dim' is 256/],
    [{ encoder_hid_dim: 1024 }, /key 'encoder_hid_dim'/],
    [{ dual_cross_attention: true }, /key 'dual_cross_attention'/],
    [{ resnet_time_scale_shift: "scale_shift" }, /key 'resnet_time_scale_shift'.*"default"/],
    [{ flip_sin_to_cos: false }, /key 'flip_sin_to_cos' is false; supported: true/],
    [{ freq_shift: 1 }, /key 'freq_shift' is 1; supported: 0/],
    [{ mid_block_type: "UNetMidBlock2DSimpleCrossAttn" }, /key 'mid_block_type'/],
    [{ transformer_layers_per_block: [1, 2] }, /key 'transformer_layers_per_block' is \[1,2\]/],
    [{ transformer_layers_per_block: [[1], [2]] }, /per-block lists are not supported/],
    [{ layers_per_block: [1, 2] }, /key 'layers_per_block' is \[1,2\]/],
    [
      { down_block_types: ["SimpleCrossAttnDownBlock2D", "DownBlock2D"] },
      /down_block_types'? ?\[0\] is "SimpleCrossAttnDownBlock2D"/,
    ],
    [{ up_block_types: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"] }, /up blocks must mirror/],
    [
      { attention_head_dim: [2, 2, 2] },
      /key 'attention_head_dim' is \[2,2,2\]; expected a head count or one per level \(2\)/,
    ],
    [{ attention_head_dim: 3 }, /gives 3 heads to 32 channels/],
    [{ block_out_channels: [32, 48] }, /must be multiples of its first entry 32/],
    [{ sample_size: null }, /key 'sample_size' is null; expected a positive integer/],
    [
      { _class_name: "AutoencoderKL" },
      /key '_class_name' is "AutoencoderKL"; expected "UNet2DConditionModel"/,
    ],
    [
      { num_layers_per_something: 2 },
      /key 'num_layers_per_something' is not a UNet2DConditionModel setting/,
    ],
  ];
  for (const [edit, want] of bad) {
    assert.throws(
      () => sdUNetConfigFromJson({ ...SD1_JSON, ...edit }, "tiny/unet/config.json"),
      (e: Error) => {
        assert.match(e.message, /^U-Net config tiny\/unet\/config\.json: /);
        assert.match(e.message, want);
        return true;
      },
    );
  }
  // Settings that do not change a float32 forward pass are accepted.
  const ok = {
    ...SD1_JSON,
    dropout: 0.1,
    upcast_attention: true,
    only_cross_attention: [false, false],
  };
  assert.deepEqual(sdUNetConfigFromJson(ok, "x"), sdUNetConfigFromJson(SD1_JSON, "x"));
  const dir = await Deno.makeTempDir({ prefix: "sd_unet_config_test_" });
  try {
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...SD1_JSON, freq_shift: 1 }));
    await assert.rejects(
      () => SdUNet.load(dir),
      new RegExp(`${dir}/config\\.json: key 'freq_shift'`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a head list of unequal head widths builds per-level heads (levelHeads), not one head width", async () => {
  const json = { ...SD1_JSON, block_out_channels: [32, 64], attention_head_dim: [2, 2] };
  json.down_block_types = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"];
  json.up_block_types = ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"];
  const list = sdUNetConfigFromJson(json, "x");
  assert.deepEqual(list.unet.levelHeads, [2, 2]); // widths 16 and 32
  const int = sdUNetConfigFromJson({ ...json, attention_head_dim: 2 }, "x");
  const four = sdUNetConfigFromJson({ ...json, attention_head_dim: [2, 4] }, "x");
  assert.equal(four.unet.numHeadChannels, 16); // widths 16 and 16: one head width
  const rng = Rng.from(0);
  const rand = () => rng.random();
  const store = new ParamStore(rand); // random weights shared by the three, keyed alike
  const outs: Float32Array[] = [];
  const feeds = {
    x: {
      dtype: "F32" as const,
      shape: [1, 4, 8, 8],
      data: Float32Array.from({ length: 256 }, rand),
    },
    t: { dtype: "F32" as const, shape: [1], data: new Float32Array([500]) },
    context: {
      dtype: "F32" as const,
      shape: [1, 3, 32],
      data: Float32Array.from({ length: 96 }, rand),
    },
  };
  for (const c of [list, int, four]) {
    const s = await Session.create(new SdUNet(c, store).toModel(1, 3, 8), { intraOpThreads: 1 });
    outs.push((await s.run(feeds)).out.data as Float32Array);
    await s.release();
  }
  assert.ok(errors(outs[0], outs[1]).rel < 1e-6, "2 heads per level = attention_head_dim 2");
  assert.ok(errors(outs[0], outs[2]).abs > 1e-4, "[2, 4] heads differ from [2, 2]");
});

Deno.test("diffusersName() renames all 686 weights of the full-size SD 1.5 U-Net as convert_ldm_unet_checkpoint does", async () => {
  const map: { layers_per_block: number; params: number; pairs: [string, string][] } = JSON.parse(
    await Deno.readTextFile(`${DIR}sd15_key_map.json`),
  );
  assert.equal(map.pairs.length, 686);
  assert.equal(map.params, 859_520_964); // the reference UNetModel's count (SD 1.5)
  const wrong = map.pairs.filter(([o, d]) => diffusersName(o, map.layers_per_block) !== d);
  assert.deepEqual(wrong, []);
  assert.ok(map.pairs.some(([o]) => o === "output_blocks.5.2.conv.weight")); // upsample after attention
});
