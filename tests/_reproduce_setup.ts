/**
 * Shared stand-ins for the reproduce tests: a random tiny cpu-scale model (3 ImageNette
 * classes), the shipped ImageNette-64 images, the committed tiny DiT and AutoencoderKL
 * fixtures, and option sets that make a table run in seconds (2 classes, 1 epoch, ConvNet
 * at 32 px, one seed).
 */
import { randomModel } from "./_tiny_model.ts";
import type { RunTableOptions } from "../eval/tables/run_table.ts";

export const ROOT = new URL("../", import.meta.url).pathname;
export const DATA = `${ROOT}data/imagenette-64`;
export const DIT_TINY = `${ROOT}tests/fixtures/dit/dit_tiny.pt`; // DiT-T/2, input 8, 10 classes
export const AKL_SMALL = `${ROOT}tests/fixtures/vae/akl_small`; // 2 blocks: downsampling 2
export const CLASSES = ["n01440764", "n02102040"];

/** A temporary directory with a random tiny model file in it. */
export async function tinyWorkspace(): Promise<{ dir: string; model: string }> {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-reproduce-" });
  const model = `${dir}/model.safetensors`;
  await randomModel(model);
  return { dir, model };
}

/** Fast cpu-scale options: the shipped images, 2 classes, 1 epoch, ConvNet at 32 px, seed 0. */
export function fastCpu(model: string, extra: Partial<RunTableOptions> = {}): RunTableOptions {
  return {
    scale: "cpu",
    models: { scale: "cpu", model },
    data: { train: `${DATA}/train`, val: `${DATA}/val` },
    classes: CLASSES,
    seeds: [0],
    epochs: 1,
    evalSize: 32,
    networks: ["convnet"],
    pollSeconds: 0.05,
    log: () => {},
    ...extra,
  };
}

/** The same arguments for the command line. */
export function fastCpuArgs(model: string, store: string): string[] {
  return [
    "--model",
    model,
    "--data",
    `${DATA}/train`,
    "--val",
    `${DATA}/val`,
    "--classes",
    CLASSES.join(","),
    "--seeds",
    "0",
    "--epochs",
    "1",
    "--eval-size",
    "32",
    "--networks",
    "convnet",
    "--store",
    store,
    "--progress",
    "silent",
  ];
}

/** Runs examples/reproduce.ts; returns exit code, stdout and stderr. */
export async function reproduce(
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}examples/reproduce.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}
