/**
 * Training losses as composites with fused backward passes (PyTorch semantics):
 * - crossEntropy: `F.cross_entropy(logits, y)` with hard labels, mean over the batch;
 * - mixedCrossEntropy: CutMix/MixUp targets, `lam CE(y_a) + (1 - lam) CE(y_b)`;
 * - klDivSoftTargets: RDED's soft-label loss, `nn.KLDivLoss(reduction="batchmean")(
 *   log_softmax(s / T), softmax(t / T))`. RDED does not multiply by T^2 (validation/main.py,
 *   LINs-lab/RDED@31f9117), so `scaleByTSquared` defaults to false.
 *
 * Gradients: d CE / d logits = (softmax - onehot) / N; d KL / d s = (softmax(s/T) - p_t) / (T N).
 *
 * @module
 */
import type { Value } from "../graph/graph.ts";
import { attr, node1 } from "../graph/ops/operands.ts";
import { logSoftmax, softmax } from "../graph/ops/activation.ts";
import { add, div, exp, mul, neg, sub } from "../graph/ops/elementwise.ts";
import { mean, sum } from "../graph/ops/reduce.ts";
import { reshape } from "../graph/ops/shape.ts";

function checkLogits(op: string, logits: Value, labels?: Value): void {
  if (logits.rank !== 2) throw new RangeError(`${op}: logits ${logits} must be [N, classes]`);
  if (
    labels && (labels.dtype !== "int64" || labels.rank !== 1 || labels.shape[0] !== logits.shape[0])
  ) {
    throw new TypeError(`${op}: labels ${labels} must be int64 [${logits.shape[0]}]`);
  }
}

function oneHot(labels: Value, classes: number, dtype: Value["dtype"]): Value {
  const g = labels.graph;
  const values = g.constant(
    dtype === "float64" ? new Float64Array([0, 1]) : new Float32Array([0, 1]),
    [2],
  );
  return node1(
    g,
    "OneHot",
    [labels, g.constant(new BigInt64Array([BigInt(classes)]), [], "int64"), values],
    [labels.shape[0], classes],
    dtype,
    { axis: attr.int(-1) },
  );
}

function oneMinus(lam: Value | number): Value | number {
  return typeof lam === "number" ? 1 - lam : sub(1, lam);
}

function pickedLogProb(lsm: Value, labels: Value): Value {
  const n = labels.shape[0];
  const idx = reshape(labels, [n, 1]);
  return node1(lsm.graph, "GatherElements", [lsm, idx], [n, 1], lsm.dtype, { axis: attr.int(1) });
}

/**
 * Mean cross-entropy of `logits [N, K]` against int64 class indices `labels [N]`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { crossEntropy } from "./losses.ts";
 * const g = new Graph();
 * const loss = crossEntropy(g.input("logits", [4, 10]), g.input("y", [4], "int64")); // []
 * ```
 */
export function crossEntropy(logits: Value, labels: Value): Value {
  return mixedCrossEntropy(logits, labels, null, 1);
}

/**
 * `lam * CE(logits, a) + (1 - lam) * CE(logits, b)` (CutMix/MixUp); `lam` is a number or a
 * scalar graph input (it changes per batch). With `b` null this is plain cross-entropy.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { mixedCrossEntropy } from "./losses.ts";
 * const g = new Graph();
 * const logits = g.input("logits", [4, 10]);
 * const loss = mixedCrossEntropy(logits, g.input("ya", [4], "int64"), g.input("yb", [4], "int64"), g.input("lam", []));
 * ```
 */
export function mixedCrossEntropy(
  logits: Value,
  a: Value,
  b: Value | null,
  lam: Value | number,
): Value {
  checkLogits("crossEntropy", logits, a);
  if (b) checkLogits("crossEntropy", logits, b);
  const [n, k] = logits.shape;
  return logits.graph.composite([logits], () => {
    const lsm = logSoftmax(logits, 1);
    let loss = neg(mean(pickedLogProb(lsm, a))); // []
    if (b) {
      const lb = neg(mean(pickedLogProb(lsm, b)));
      loss = add(mul(loss, lam), mul(lb, oneMinus(lam)));
    }
    return {
      outputs: [loss],
      backward: ([dl]) => {
        let target = oneHot(a, k, logits.dtype);
        if (b) target = add(mul(target, lam), mul(oneHot(b, k, logits.dtype), oneMinus(lam)));
        return [mul(sub(exp(lsm), target), div(dl!, n))];
      },
    };
  })[0];
}

/**
 * Soft-label KL divergence at temperature `T` between teacher and student logits
 * (RDED/PyTorch `KLDivLoss(batchmean)` on `log_softmax(s/T)` and `softmax(t/T)`); the
 * teacher gets no gradient.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph/graph.ts";
 * import { klDivSoftTargets } from "./losses.ts";
 * const g = new Graph();
 * const loss = klDivSoftTargets(g.input("s", [4, 10]), g.input("t", [4, 10]), 4);
 * ```
 */
export function klDivSoftTargets(
  student: Value,
  teacher: Value,
  temperature: number,
  o: { scaleByTSquared?: boolean } = {},
): Value {
  checkLogits("klDivSoftTargets", student);
  if (teacher.shape.join() !== student.shape.join()) {
    throw new RangeError(`klDivSoftTargets: teacher ${teacher} and student ${student} differ`);
  }
  const n = student.shape[0];
  const scale = o.scaleByTSquared ? temperature * temperature : 1;
  return student.graph.composite([student], () => {
    const ls = logSoftmax(div(student, temperature), 1);
    const lt = logSoftmax(div(teacher, temperature), 1);
    const pt = exp(lt);
    const loss = mul(sum(mul(pt, sub(lt, ls))), scale / n); // []
    return {
      outputs: [loss],
      backward: (
        [dl],
      ) => [
        mul(sub(softmax(div(student, temperature), 1), pt), mul(dl!, scale / (temperature * n))),
      ],
    };
  })[0];
}
