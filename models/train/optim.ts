/**
 * Optimizers with PyTorch 1.13 semantics (torch.optim.SGD and torch.optim.AdamW, single
 * tensor path), updating float32 parameters in place. State is exported and imported as
 * tensors named `state.<param>.<key>` with PyTorch's keys (`momentum_buffer`, `exp_avg`,
 * `exp_avg_sq`, `max_exp_avg_sq`, `step`), so a training run can be saved and resumed.
 *
 * Notation: p parameter, g gradient, lr learning rate, wd weight decay, mu momentum,
 * tau dampening, b1/b2 Adam betas, m/v first/second moment, t step count.
 *
 * @module
 */
import type { Tensor } from "../core/tensor.ts";

/** Named float32 arrays (parameters or gradients), updated in place. */
export type ParamMap = Map<string, Float32Array>;

/** The common interface of {@link SGD} and {@link AdamW}. */
export interface Optimizer {
  /** Learning rate of the next step (set it from a schedule before each epoch or step). */
  lr: number;
  /** One update of every parameter that has a gradient. */
  step(params: ParamMap, grads: ParamMap): void;
  /** Optimizer state as tensors named `state.<param>.<key>`. */
  stateDict(): Map<string, Tensor>;
  /** Restores state written by {@link Optimizer.stateDict}; throws naming a missing or mis-sized key. */
  loadStateDict(state: Map<string, Tensor>, params: ParamMap): void;
}

/** Options of {@link SGD} (torch.optim.SGD's arguments). */
export interface SGDOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor mu (default 0: none). */
  momentum?: number;
  /** Dampening tau of the momentum buffer (default 0). */
  dampening?: number;
  /** L2 weight decay wd, added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent as torch.optim.SGD: g += wd * p; with momentum the buffer
 * starts as g and then b = mu * b + (1 - tau) * g; nesterov uses g + mu * b; p -= lr * update.
 *
 * @example
 * ```ts
 * import { SGD } from "./optim.ts";
 * const opt = new SGD({ lr: 0.01, momentum: 0.9, weightDecay: 5e-4 }); // the hard-label protocol
 * const w = new Float32Array([1, 2]);
 * opt.step(new Map([["w", w]]), new Map([["w", new Float32Array([0.5, -0.5])]]));
 * ```
 */
export class SGD implements Optimizer {
  lr: number;
  /** Momentum factor mu. */
  readonly momentum: number;
  /** Dampening tau. */
  readonly dampening: number;
  /** Weight decay wd. */
  readonly weightDecay: number;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
  private buffers = new Map<string, Float32Array>();

  /** Checks the options (lr, momentum and weightDecay >= 0; nesterov's conditions). */
  constructor(o: SGDOptions) {
    this.lr = checkNonNegative("lr", o.lr);
    this.momentum = checkNonNegative("momentum", o.momentum ?? 0);
    this.dampening = o.dampening ?? 0;
    this.weightDecay = checkNonNegative("weightDecay", o.weightDecay ?? 0);
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError("SGD: nesterov needs momentum > 0 and dampening 0 (as in PyTorch)");
    }
  }

  step(params: ParamMap, grads: ParamMap): void {
    const { lr, momentum: mu, dampening: tau, weightDecay: wd, nesterov } = this;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      checkSameSize(name, p, g);
      let buf = this.buffers.get(name);
      const fresh = buf === undefined;
      if (mu !== 0 && !buf) {
        buf = new Float32Array(p.length);
        this.buffers.set(name, buf);
      }
      for (let i = 0; i < p.length; i++) {
        let d = wd !== 0 ? Math.fround(g[i] + Math.fround(wd * p[i])) : g[i];
        if (buf) {
          buf[i] = fresh ? d : Math.fround(Math.fround(mu * buf[i]) + Math.fround((1 - tau) * d));
          d = nesterov ? Math.fround(d + Math.fround(mu * buf[i])) : buf[i];
        }
        p[i] = Math.fround(p[i] - Math.fround(lr * d));
      }
    }
  }

  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, b] of this.buffers) {
      out.set(`state.${name}.momentum_buffer`, {
        dtype: "F32",
        shape: [b.length],
        data: b.slice(),
      });
    }
    return out;
  }

  loadStateDict(state: Map<string, Tensor>, params: ParamMap): void {
    this.buffers.clear();
    if (this.momentum === 0) return;
    for (const [name, p] of params) {
      const t = state.get(`state.${name}.momentum_buffer`);
      if (t) this.buffers.set(name, takeF32(`state.${name}.momentum_buffer`, t, p.length));
    }
  }
}

/** Options of {@link AdamW} (torch.optim.AdamW's arguments; PyTorch's defaults). */
export interface AdamWOptions {
  /** Learning rate. */
  lr: number;
  /** Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Default 0.01 (PyTorch's AdamW default). */
  weightDecay?: number;
  /** Use the running max of v (AMSGrad; default false). */
  amsgrad?: boolean;
}

/**
 * AdamW as torch.optim.AdamW: p *= 1 - lr * wd; m, v updated; p -= lr / (1 - b1^t) * m /
 * (sqrt(v) / sqrt(1 - b2^t) + eps) (v replaced by its running max with amsgrad).
 *
 * @example
 * ```ts
 * import { AdamW } from "./optim.ts";
 * const opt = new AdamW({ lr: 1e-3, weightDecay: 0.01 }); // the soft-label (RDED) protocol
 * ```
 */
export class AdamW implements Optimizer {
  lr: number;
  /** Adam betas b1, b2. */
  readonly betas: [number, number];
  /** Term added to the denominator. */
  readonly eps: number;
  /** Decoupled weight decay wd. */
  readonly weightDecay: number;
  /** Whether AMSGrad is used. */
  readonly amsgrad: boolean;
  private state = new Map<
    string,
    { step: number; m: Float32Array; v: Float32Array; vmax?: Float32Array }
  >();

  /**
   * Fills in PyTorch's defaults and checks the options: lr, eps and weightDecay >= 0, betas in
   * [0, 1).
   */
  constructor(o: AdamWOptions) {
    this.lr = checkNonNegative("lr", o.lr);
    this.betas = o.betas ?? [0.9, 0.999];
    for (const b of this.betas) {
      if (!(b >= 0 && b < 1)) {
        throw new RangeError(`AdamW: betas must be in [0, 1), got [${this.betas}]`);
      }
    }
    this.eps = checkNonNegative("eps", o.eps ?? 1e-8);
    this.weightDecay = checkNonNegative("weightDecay", o.weightDecay ?? 0.01);
    this.amsgrad = o.amsgrad ?? false;
  }

  step(params: ParamMap, grads: ParamMap): void {
    const { lr, eps, weightDecay: wd } = this;
    const [b1, b2] = this.betas;
    for (const [name, p] of params) {
      const g = grads.get(name);
      if (!g) continue;
      checkSameSize(name, p, g);
      let s = this.state.get(name);
      if (!s) {
        s = { step: 0, m: new Float32Array(p.length), v: new Float32Array(p.length) };
        if (this.amsgrad) s.vmax = new Float32Array(p.length);
        this.state.set(name, s);
      }
      s.step += 1;
      const bc1 = 1 - b1 ** s.step;
      const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
      const stepSize = lr / bc1;
      const decay = Math.fround(1 - lr * wd);
      const { m, v, vmax } = s;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const pi = Math.fround(p[i] * decay);
        m[i] = Math.fround(Math.fround(b1 * m[i]) + Math.fround((1 - b1) * gi));
        v[i] = Math.fround(Math.fround(b2 * v[i]) + Math.fround((1 - b2) * Math.fround(gi * gi)));
        let vi = v[i];
        if (vmax) vi = vmax[i] = Math.max(vmax[i], vi);
        const denom = Math.fround(Math.fround(Math.fround(Math.sqrt(vi)) / bc2Sqrt) + eps);
        p[i] = Math.fround(pi - Math.fround(stepSize * Math.fround(m[i] / denom)));
      }
    }
  }

  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const f32 = (a: Float32Array): Tensor => ({ dtype: "F32", shape: [a.length], data: a.slice() });
    for (const [name, s] of this.state) {
      out.set(`state.${name}.step`, { dtype: "F32", shape: [1], data: new Float32Array([s.step]) });
      out.set(`state.${name}.exp_avg`, f32(s.m));
      out.set(`state.${name}.exp_avg_sq`, f32(s.v));
      if (s.vmax) out.set(`state.${name}.max_exp_avg_sq`, f32(s.vmax));
    }
    return out;
  }

  loadStateDict(state: Map<string, Tensor>, params: ParamMap): void {
    this.state.clear();
    for (const [name, p] of params) {
      const step = state.get(`state.${name}.step`);
      if (!step) continue;
      const get = (key: string) => {
        const t = state.get(`state.${name}.${key}`);
        if (!t) throw new Error(`AdamW state for '${name}' has a step but no '${key}'`);
        return takeF32(`state.${name}.${key}`, t, p.length);
      };
      this.state.set(name, {
        step: Number(step.data[0]),
        m: get("exp_avg"),
        v: get("exp_avg_sq"),
        ...(this.amsgrad ? { vmax: get("max_exp_avg_sq") } : {}),
      });
    }
  }
}

function takeF32(key: string, t: Tensor, n: number): Float32Array {
  if (t.dtype !== "F32" || t.data.length !== n) {
    throw new RangeError(
      `Optimizer state '${key}' is ${t.dtype} with ${t.data.length} elements; expected F32 with ${n}`,
    );
  }
  return (t.data as Float32Array).slice();
}

function checkSameSize(name: string, p: Float32Array, g: Float32Array): void {
  if (p.length !== g.length) {
    throw new RangeError(
      `Gradient of '${name}' has ${g.length} elements; the parameter has ${p.length}`,
    );
  }
}

function checkNonNegative(name: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) {
    throw new RangeError(`Optimizer option ${name} must be >= 0, got ${v}`);
  }
  return v;
}
