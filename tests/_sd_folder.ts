/**
 * A tiny Stable Diffusion 1.x diffusers folder laid out as a real one (model_index.json,
 * scheduler/, tokenizer/, text_encoder/, unet/, vae/), assembled from the committed parts:
 * tests/fixtures/sd/pipeline (index, scheduler, tokenizer, text encoder), the SD 1.x-like U-Net
 * of tests/fixtures/sd/unet_sd1 and the AutoencoderKL of tests/fixtures/vae/akl_small (f = 2).
 */
import { cpSync } from "node:fs";

const FIX = new URL("./fixtures/", import.meta.url).pathname;

/** Copies the tiny SD folder into a fresh temporary directory and returns its path. */
export async function tinySdFolder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-sd-" });
  cpSync(`${FIX}sd/pipeline`, dir, { recursive: true });
  cpSync(`${FIX}sd/unet_sd1`, `${dir}/unet`, { recursive: true });
  cpSync(`${FIX}vae/akl_small`, `${dir}/vae`, { recursive: true });
  return dir;
}
