/**
 * Learning-rate schedules as pure functions of the epoch (or step) index, with the values
 * PyTorch 1.13's schedulers give when `scheduler.step()` is called once per epoch. Being
 * stateless, a resumed run only needs the epoch number.
 *
 * @module
 */

/** A schedule: the learning rate used during epoch `e` (0-based). */
export type LrSchedule = (e: number) => number;

/**
 * torch.optim.lr_scheduler.MultiStepLR: base * gamma^(number of milestones <= e).
 *
 * @example
 * ```ts
 * import { multiStepLr } from "./lr_schedule.ts";
 * // hard-label protocol: milestones at 2/3 and 5/6 of training, gamma 0.2 (SPEC section 4)
 * const lr = multiStepLr(0.01, [1333, 1666], 0.2);
 * lr(1400); // 0.002
 * ```
 */
export function multiStepLr(base: number, milestones: number[], gamma: number): LrSchedule {
  const sorted = [...milestones].sort((a, b) => a - b);
  return (e) => base * gamma ** sorted.filter((m) => m <= e).length;
}

/**
 * torch.optim.lr_scheduler.CosineAnnealingLR (closed form): eta_min + (base - eta_min) *
 * (1 + cos(pi * e / tMax)) / 2.
 *
 * @example
 * ```ts
 * import { cosineLr } from "./lr_schedule.ts";
 * cosineLr(0.1, 100)(50); // 0.05
 * ```
 */
export function cosineLr(base: number, tMax: number, etaMin = 0): LrSchedule {
  return (e) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2;
}

/**
 * torch.optim.lr_scheduler.LambdaLR: base * factor(e).
 *
 * @example
 * ```ts
 * import { lambdaLr } from "./lr_schedule.ts";
 * lambdaLr(1e-3, (e) => 0.95 ** e)(2); // 9.025e-4
 * ```
 */
export function lambdaLr(base: number, factor: (e: number) => number): LrSchedule {
  return (e) => base * factor(e);
}

/**
 * RDED's half-cosine factor for the soft-label protocol: 0.5 * (1 + cos(pi * e / (2 * epochs)))
 * while e <= epochs, else 0 (used with {@link lambdaLr}).
 *
 * @example
 * ```ts
 * import { halfCosineFactor, lambdaLr } from "./lr_schedule.ts";
 * const lr = lambdaLr(1e-3, halfCosineFactor(300)); // AdamW lr 1e-3, 300 epochs
 * ```
 */
export function halfCosineFactor(epochs: number): (e: number) => number {
  return (e) => (e <= epochs ? 0.5 * (1 + Math.cos((Math.PI * e) / epochs / 2)) : 0);
}

/**
 * torch.optim.lr_scheduler.LinearLR warmup: the factor goes linearly from `startFactor` to
 * 1 over `warmup` epochs; then `after` (shifted to start at 0) takes over, as SequentialLR.
 *
 * @example
 * ```ts
 * import { cosineLr, warmupLr } from "./lr_schedule.ts";
 * const lr = warmupLr(0.1, 5, 0.1, cosineLr(0.1, 95));
 * ```
 */
export function warmupLr(
  base: number,
  warmup: number,
  startFactor: number,
  after?: LrSchedule,
): LrSchedule {
  return (e) => {
    if (e < warmup) return base * (startFactor + ((1 - startFactor) * e) / warmup);
    return after ? after(e - warmup) : base;
  };
}
