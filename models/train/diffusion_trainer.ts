/**
 * Training of a class-conditional latent diffusion model (the cpu-scale U-Net) with the
 * toolkit's own engine: one ONNX graph computes the MSE loss and every gradient, AdamW
 * updates the weights in place, and an exponential moving average (EMA) of the weights is
 * kept for sampling. Step s draws its noise, timesteps and label dropout from
 * `Rng.from(seed, s)`, so a run resumed from a checkpoint continues exactly.
 *
 * Objective (code -> DDPM notation): x0 -> x_0, t ~ U{0..T-1}, eps ~ N(0, I),
 * xt = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps; target v = sqrt(abar_t) eps - sqrt(1 - abar_t) x0
 * (v-prediction) or eps; labels replaced by the null class with probability `cfgDropout`.
 *
 * @module
 */
import { grad } from "../graph/autodiff/autodiff.ts";
import { Graph } from "../graph/graph.ts";
import { Layers, ParamStore } from "../graph/nn.ts";
import { AdamW, type ParamMap } from "./optim.ts";
import { mean } from "../graph/ops/reduce.ts";
import { mul, sub } from "../graph/ops/elementwise.ts";
import { Session, type SessionOptions } from "../graph/session.ts";
import type { Tensor } from "../core/tensor.ts";
import { timestepDim, timestepFeatures, unet, type UNetConfig } from "../nets/unet/unet.ts";
import { GaussianSchedule, linearBetas } from "../diffusion/schedule.ts";
import { Rng } from "../core/random.ts";

/** Options of {@link DiffusionTrainer}. */
export interface DiffusionTrainerOptions {
  /** The U-Net's architecture. */
  config: UNetConfig;
  /** Latents per training step (the graph is built for this batch size). */
  batchSize: number;
  /** AdamW learning rate (1e-3, DESIGN's measured run). */
  lr: number;
  /** AdamW weight decay. */
  weightDecay: number;
  /** EMA decay of the sampling weights (0.999). */
  emaDecay: number;
  /** Probability of replacing a label with the null class (0.1, for classifier-free guidance). */
  cfgDropout: number;
  /** The regression target: `"v"` (v-prediction) or `"eps"` (the noise). */
  predictionType: "v" | "eps";
  /** Diffusion training steps T of the linear schedule (1000, as DiT). */
  trainSteps: number;
  /** Seed of the initial weights and of each step's noise, timesteps and label dropout. */
  seed: number;
  /** Options of the onnxruntime training session. */
  session?: SessionOptions;
}

/**
 * Builds the training graph once and trains step by step.
 *
 * @example
 * ```ts
 * import { DiffusionTrainer } from "./diffusion_trainer.ts";
 * import { CPU_UNET } from "../nets/unet/unet.ts";
 * const tr = await DiffusionTrainer.create({ config: CPU_UNET, batchSize: 64, lr: 1e-3, weightDecay: 0,
 *   emaDecay: 0.999, cfgDropout: 0.1, predictionType: "v", trainSteps: 1000, seed: 0 });
 * const loss = await tr.step(latents, labels); // latents [64, 32, 8, 8], labels [64]
 * ```
 */
export class DiffusionTrainer {
  /** Optimisation steps done. */
  steps = 0;
  /** EMA of the weights (stored layout), by parameter name. */
  readonly ema: Map<string, Float32Array> = new Map();
  private readonly abar: Float64Array;
  private readonly feeds: Record<string, Tensor> = {};
  private readonly grads: Record<string, Tensor> = {};

  private constructor(
    readonly o: DiffusionTrainerOptions,
    readonly store: ParamStore,
    private readonly session: Session,
    readonly optimizer: AdamW,
  ) {
    this.abar = GaussianSchedule.fromBetas(linearBetas(o.trainSteps)).alphasCumprod;
    for (const [k, p] of store.entries) {
      this.ema.set(k, p.data.slice());
      this.feeds[k] = { dtype: "F32", shape: p.shape, data: p.data };
      this.grads[`grad:${k}`] = {
        dtype: "F32",
        shape: p.shape,
        data: new Float32Array(p.data.length),
      };
    }
  }

  /** Builds the loss-and-gradients graph and its session. */
  static async create(o: DiffusionTrainerOptions): Promise<DiffusionTrainer> {
    const init = Rng.from(o.seed, 0xffffffff);
    const store = new ParamStore(() => init.random());
    const { batchSize: b, config: cfg } = o;
    const g = new Graph();
    const nn = new Layers(g, store, true);
    const out = unet(
      nn,
      cfg,
      g.input("x", [b, cfg.inChannels, cfg.size, cfg.size]),
      g.input("t_feat", [b, timestepDim(cfg)]),
      g.input("y", [b], "int64"),
    );
    const d = sub(out, g.input("target", out.shape));
    const loss = mean(mul(d, d)); // MSE over every element
    g.output(loss, "loss");
    const params = [...g.params.values()].filter((p) => p.trainable);
    grad(loss, params.map((p) => p.value)).forEach((gv, i) =>
      g.output(gv, `grad:${params[i].value.name}`)
    );
    const session = await Session.create(g.toModel(), o.session);
    return new DiffusionTrainer(
      o,
      store,
      session,
      new AdamW({ lr: o.lr, weightDecay: o.weightDecay }),
    );
  }

  /** Trainable weights by name (updated in place). */
  get params(): ParamMap {
    const m: ParamMap = new Map();
    for (const [k, p] of this.store.entries) m.set(k, p.data);
    return m;
  }

  /** One step on a batch of clean latents x0 [B, C, H, W] with labels [B]; returns the loss. */
  async step(x0: Float32Array, labels: ArrayLike<number>): Promise<number> {
    const { batchSize: b, config: cfg } = this.o;
    const D = cfg.inChannels * cfg.size * cfg.size;
    if (x0.length !== b * D || labels.length !== b) {
      throw new RangeError(
        `Training batch must be ${b} latents of [${cfg.inChannels}, ${cfg.size}, ${cfg.size}] with ${b} labels`,
      );
    }
    const rng = Rng.from(this.o.seed, this.steps);
    const xt = new Float32Array(b * D);
    const target = new Float32Array(b * D);
    const t = new Float32Array(b);
    const y = new BigInt64Array(b);
    for (let i = 0; i < b; i++) {
      t[i] = rng.randint(this.o.trainSteps);
      y[i] = BigInt(rng.random() < this.o.cfgDropout ? cfg.numClasses : labels[i]);
      const a = Math.sqrt(this.abar[t[i]]);
      const s = Math.sqrt(1 - this.abar[t[i]]);
      for (let j = i * D; j < (i + 1) * D; j++) {
        const e = rng.normal();
        xt[j] = a * x0[j] + s * e;
        target[j] = this.o.predictionType === "v" ? a * e - s * x0[j] : e;
      }
    }
    const out = await this.session.run({
      ...this.feeds,
      x: { dtype: "F32", shape: [b, cfg.inChannels, cfg.size, cfg.size], data: xt },
      t_feat: {
        dtype: "F32",
        shape: [b, timestepDim(cfg)],
        data: timestepFeatures(t, timestepDim(cfg)),
      },
      y: { dtype: "I64", shape: [b], data: y },
      target: { dtype: "F32", shape: [b, cfg.inChannels, cfg.size, cfg.size], data: target },
    }, { into: this.grads, validate: false });
    const grads: ParamMap = new Map();
    for (const [k, v] of Object.entries(this.grads)) grads.set(k.slice(5), v.data as Float32Array);
    const params = this.params;
    this.optimizer.step(params, grads);
    const decay = this.o.emaDecay;
    for (const [k, p] of params) {
      const e = this.ema.get(k)!;
      for (let i = 0; i < p.length; i++) e[i] = decay * e[i] + (1 - decay) * p[i];
    }
    this.steps++;
    return (out.loss.data as Float32Array)[0];
  }

  /** The EMA weights (the ones to sample with), as tensors named like the model's modules. */
  emaWeights(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const [k, e] of this.ema) m.set(k, this.store.toTorch(k, e));
    return m;
  }

  /**
   * Everything needed to resume: `model.*` and `ema.*` (PyTorch layout), `optimizer.state.*`
   * (the engine's layout) and `steps`.
   */
  stateDict(): Map<string, Tensor> {
    const m = new Map<string, Tensor>();
    for (const k of this.store.entries.keys()) m.set(`model.${k}`, this.store.toTorch(k));
    for (const [k, t] of this.emaWeights()) m.set(`ema.${k}`, t);
    for (const [k, t] of this.optimizer.stateDict()) m.set(`optimizer.${k}`, t);
    m.set("steps", { dtype: "I64", shape: [], data: BigInt64Array.of(BigInt(this.steps)) });
    return m;
  }

  /** Restores a {@link DiffusionTrainer.stateDict}; throws naming a missing or mis-shaped key. */
  loadStateDict(state: Map<string, Tensor>): void {
    for (const k of this.store.entries.keys()) {
      const get = (prefix: string) => {
        const t = state.get(`${prefix}.${k}`);
        if (!t) throw new Error(`Training state lacks '${prefix}.${k}'`);
        return t;
      };
      this.store.fromTorch(k, get("ema"));
      this.ema.get(k)!.set(this.store.entries.get(k)!.data);
      this.store.fromTorch(k, get("model"));
    }
    const opt = new Map<string, Tensor>();
    for (const [k, t] of state) if (k.startsWith("optimizer.")) opt.set(k.slice(10), t);
    this.optimizer.loadStateDict(opt, this.params);
    const steps = state.get("steps");
    this.steps = steps ? Number(steps.data[0]) : 0;
  }

  /** Frees the session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
