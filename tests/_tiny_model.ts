/** A cpu-scale model file with random weights: a stand-in for the trained model in tests. */
import { Graph } from "../models/graph/graph.ts";
import { Layers, ParamStore } from "../models/graph/nn.ts";
import { unet, type UNetConfig } from "../models/nets/unet/unet.ts";
import { saveCpuModel } from "../models/nets/unet/cpu_model.ts";
import type { Tensor } from "../models/core/tensor.ts";
import { Rng } from "../models/core/random.ts";

export const TINY_UNET: UNetConfig = {
  inChannels: 32,
  size: 8,
  channels: 8,
  mult: [1, 2],
  blocksPerLevel: 1,
  midBlocks: 0,
  numClasses: 3,
  groups: 4,
};

/** A cpu-scale model file with random weights (a stand-in for the trained model). */
export async function randomModel(path: string): Promise<void> {
  const rng = Rng.from(3);
  const store = new ParamStore(() => rng.random());
  const g = new Graph();
  unet(
    new Layers(g, store, false),
    TINY_UNET,
    g.input("x", [1, 32, 8, 8]),
    g.input("t", [1, 8]),
    g.input("y", [1], "int64"),
  );
  const weights = new Map<string, Tensor>();
  for (const k of store.entries.keys()) weights.set(k, store.toTorch(k));
  await saveCpuModel(path, weights, {
    config: TINY_UNET,
    predictionType: "v",
    imageSize: 64,
    normalisation: { mean: new Array(32).fill(0.1), std: new Array(32).fill(2) },
    classes: ["n01440764", "n02102040", "n02979186"],
    training: { note: "random weights for tests" },
  });
}
