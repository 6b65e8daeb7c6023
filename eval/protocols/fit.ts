/**
 * The epoch loop both evaluation protocols share: per-epoch learning rate from a schedule,
 * a training epoch, validation at chosen epochs with the best top-1 kept, and a checkpoint
 * (model + optimizer state + loop state, one safetensors shard of the run's artifact)
 * every N epochs and at the end, from which an interrupted run continues.
 *
 * Randomness is keyed by (seed, stream, epoch) by the caller, so a resumed run draws the
 * same numbers as an uninterrupted one: resuming is exact at epoch granularity.
 *
 * @module
 */
import type { Optimizer, ParamMap } from "../../models/train/optim.ts";
import type { LrSchedule } from "../../models/train/lr_schedule.ts";
import type { Tensor } from "../../models/core/tensor.ts";
import type { Batch, Trainer } from "../../models/train/trainer.ts";
import type { Artifact } from "../../stages/store/store.ts";
import { createProgress } from "../../stages/progress.ts";
import type { Evaluation } from "./evaluate.ts";
import { packBits } from "./correct_bits.ts";

/** Random streams of a run: `Rng.from(seed, stream, ...keys)`. */
export const STREAM = { init: 0, epoch: 1, dropout: 2, labels: 3 } as const;

/** An optimizer and the parameters it updates (PyTorch param group). */
export interface ParamGroup {
  /** The optimizer of the group. */
  optimizer: Optimizer;
  /** The parameters it updates, by name. */
  params: ParamMap;
}

/** One validation: 1-based epoch, top-1 in percent, mean training loss of that epoch. */
export interface EvalPoint {
  epoch: number;
  top1: number;
  loss: number;
}

/** Loop state saved with each checkpoint. */
export interface FitState {
  /** Epochs completed (1-based count). */
  epoch: number;
  bestTop1: number;
  bestEpoch: number;
  history: EvalPoint[];
  /** Wall-clock seconds spent training so far (over all sessions). */
  seconds: number;
  /**
   * Per validation image, right or wrong at `bestEpoch`: a bitmap (correct_bits.ts), when the
   * evaluation gives it.
   */
  bestCorrect?: string;
  /** Validation images behind `bestCorrect`. */
  valImages?: number;
}

/** Options of {@link fit}. */
export interface FitOptions {
  trainer: Trainer;
  groups: ParamGroup[];
  epochs: number;
  lr: LrSchedule;
  /** 1-based epochs after which to validate. */
  evalEpochs: readonly number[];
  /** Runs one training epoch (0-based index); returns the mean loss. */
  trainEpoch: (epoch: number) => Promise<number>;
  /** Validation top-1 in percent, with the per-image correctness when available. */
  evaluate: () => Promise<number | Evaluation>;
  /** Where checkpoints go (none: no resume). */
  checkpoint?: { artifact: Artifact; shard: string; every: number };
  label: string;
  /** Called after every epoch (1-based) with its mean loss and top-1 (null: not validated). */
  onEpoch?: (epoch: number, loss: number, top1: number | null) => void;
  /** Checked after every epoch: when aborted, a checkpoint is written and the loop throws. */
  signal?: AbortSignal;
}

/** One optimisation step over several parameter groups; returns the loss. */
export async function stepGroups(trainer: Trainer, groups: ParamGroup[], batch: Batch) {
  const { loss, grads } = await trainer.computeGradients(batch);
  for (const g of groups) g.optimizer.step(g.params, grads);
  return loss;
}

/** Splits parameters into groups by a predicate (e.g. RDED's weight-decay rule). */
export function splitParams(params: ParamMap, pick: (name: string, n: number) => boolean) {
  const yes: ParamMap = new Map(), no: ParamMap = new Map();
  for (const [k, v] of params) (pick(k, v.length) ? yes : no).set(k, v);
  return [yes, no] as const;
}

async function saveCheckpoint(o: FitOptions, state: FitState): Promise<void> {
  const c = o.checkpoint!;
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of o.trainer.stateDict()) tensors.set(`model.${k}`, t);
  o.groups.forEach((g, i) => {
    for (const [k, t] of g.optimizer.stateDict()) tensors.set(`optim${i}.${k}`, t);
  });
  await c.artifact.writeShard(c.shard, tensors, { "mgd3.fit": JSON.stringify(state) });
}

async function loadCheckpoint(o: FitOptions): Promise<FitState | null> {
  const c = o.checkpoint;
  // A checkpoint that does not verify (truncated, corrupt) is one the run does not have.
  if (!c || (await c.artifact.verifyShard(c.shard)).status !== "ok") return null;
  const { tensors, metadata } = await c.artifact.readShard(c.shard);
  const part = (prefix: string) => {
    const m = new Map<string, Tensor>();
    for (const [k, t] of tensors) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), t);
    return m;
  };
  o.trainer.loadStateDict(part("model."));
  o.groups.forEach((g, i) => g.optimizer.loadStateDict(part(`optim${i}.`), g.params));
  const state = JSON.parse(metadata["mgd3.fit"] ?? "null") as FitState | null;
  if (!state) throw new Error(`Checkpoint ${c.artifact.shardPath(c.shard)} lacks its loop state`);
  return state;
}

/**
 * Trains for `epochs`, validating at `evalEpochs`, resuming from the checkpoint shard when
 * one exists. Returns the final loop state (best top-1 and its epoch, the history).
 */
export async function fit(o: FitOptions): Promise<FitState> {
  let state: FitState = (await loadCheckpoint(o)) ??
    { epoch: 0, bestTop1: -1, bestEpoch: 0, history: [], seconds: 0 };
  const evalSet = new Set(o.evalEpochs);
  const progress = createProgress(o.label, o.epochs);
  progress.tick(state.epoch, state.epoch > 0 ? `resumed at epoch ${state.epoch}` : "");
  for (let e = state.epoch; e < o.epochs; e++) {
    const t0 = performance.now();
    for (const g of o.groups) g.optimizer.lr = o.lr(e);
    const loss = await o.trainEpoch(e);
    if (!Number.isFinite(loss)) {
      throw new Error(`${o.label}: training loss became ${loss} at epoch ${e + 1}`);
    }
    const history = [...state.history];
    let { bestTop1, bestEpoch, bestCorrect, valImages } = state;
    let top1: number | null = null;
    if (evalSet.has(e + 1)) {
      const v = await o.evaluate();
      top1 = typeof v === "number" ? v : v.top1;
      history.push({ epoch: e + 1, top1, loss });
      if (top1 > bestTop1) {
        [bestTop1, bestEpoch] = [top1, e + 1];
        if (typeof v !== "number") {
          [bestCorrect, valImages] = [packBits(v.correct), v.correct.length];
        }
      }
    }
    const seconds = state.seconds + (performance.now() - t0) / 1000;
    state = {
      epoch: e + 1,
      bestTop1,
      bestEpoch,
      history,
      seconds,
      ...(bestCorrect !== undefined ? { bestCorrect, valImages } : {}),
    };
    o.onEpoch?.(e + 1, loss, top1);
    const c = o.checkpoint;
    const stop = o.signal?.aborted ?? false;
    if (c && ((e + 1) % c.every === 0 || e + 1 === o.epochs || stop)) {
      await saveCheckpoint(o, state);
    }
    if (stop) {
      progress.done();
      throw o.signal!.reason ?? new DOMException(`${o.label} aborted`, "AbortError");
    }
    const last = history[history.length - 1];
    progress.tick(
      1,
      `loss ${loss.toFixed(3)}${last ? ` top1@${last.epoch} ${last.top1.toFixed(1)}` : ""}`,
    );
  }
  progress.done();
  return state;
}
