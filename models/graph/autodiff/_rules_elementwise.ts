/**
 * Gradient rules of elementwise ops (broadcasting undone with sumTo), activations and
 * softmax. Notation: x, y = node input and output, dy = output gradient.
 *
 * @module
 */
import type { Node, Value } from "../graph.ts";
import { cast, div, exp, greater, mul, neg, pow, sign, sub, where } from "../ops/elementwise.ts";
import { sum, sumTo } from "../ops/reduce.ts";
import { attr, node1 } from "../ops/operands.ts";
import { attrInt, constNumbers, type GradRule } from "./_rules_types.ts";

const FLT_MAX = 3.4028234663852886e38;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

function hardSigmoid(x: Value, alpha: number, beta: number): Value {
  return node1(x.graph, "HardSigmoid", [x], x.shape, x.dtype, {
    alpha: attr.float(alpha),
    beta: attr.float(beta),
  });
}

const x0 = (n: Node) => n.inputs[0]!;
const x1 = (n: Node) => n.inputs[1]!;
const y0 = (n: Node) => n.outputs[0];
const none: GradRule = (n) => n.inputs.map(() => null);

/**
 * Elementwise rules, keyed by ONNX op type.
 *
 * @example
 * ```ts
 * import { ELEMENTWISE_RULES } from "./_rules_elementwise.ts";
 * Object.keys(ELEMENTWISE_RULES); // op types with a rule
 * ```
 */
export const ELEMENTWISE_RULES: Record<string, GradRule> = {
  Add: (n, [dy], nd) => [
    nd[0] ? sumTo(dy!, x0(n).shape) : null,
    nd[1] ? sumTo(dy!, x1(n).shape) : null,
  ],
  Sub: (n, [dy], nd) => [
    nd[0] ? sumTo(dy!, x0(n).shape) : null,
    nd[1] ? sumTo(neg(dy!), x1(n).shape) : null,
  ],
  Mul: (n, [dy], nd) => [
    nd[0] ? sumTo(mul(dy!, x1(n)), x0(n).shape) : null,
    nd[1] ? sumTo(mul(dy!, x0(n)), x1(n).shape) : null,
  ],
  Div: (n, [dy], nd) => {
    const t = div(dy!, x1(n)); // dy / b
    return [
      nd[0] ? sumTo(t, x0(n).shape) : null,
      nd[1] ? sumTo(neg(mul(t, y0(n))), x1(n).shape) : null, // -dy a / b^2
    ];
  },
  Sum: (n, [dy], nd) => n.inputs.map((x, i) => (nd[i] ? sumTo(dy!, x!.shape) : null)),
  Neg: (_n, [dy]) => [neg(dy!)],
  Identity: (_n, [dy]) => [dy],
  Exp: (n, [dy]) => [mul(dy!, y0(n))],
  Log: (n, [dy]) => [div(dy!, x0(n))],
  Sqrt: (n, [dy]) => [div(mul(dy!, 0.5), y0(n))],
  Reciprocal: (n, [dy]) => [neg(mul(dy!, mul(y0(n), y0(n))))],
  Abs: (n, [dy]) => [mul(dy!, sign(x0(n)))],
  Erf: (n, [dy]) => {
    const x = x0(n);
    return [mul(dy!, mul(exp(neg(mul(x, x))), TWO_OVER_SQRT_PI))];
  },
  Pow: (n, [dy], nd) => {
    if (nd[1]) throw new Error("Pow: only constant exponents are differentiable");
    const [p] = constNumbers(n.inputs[1], "the Pow exponent");
    const x = x0(n);
    const d = p === 2 ? mul(x, 2) : p === 1 ? null : mul(pow(x, p - 1), p);
    return [d ? mul(dy!, d) : dy, null];
  },
  Cast: (n, [dy]) => [cast(dy!, x0(n).dtype)],
  Where: (n, [dy], nd) => [
    null,
    nd[1] ? sumTo(where(n.inputs[0]!, dy!, 0), x1(n).shape) : null,
    nd[2] ? sumTo(where(n.inputs[0]!, 0, dy!), n.inputs[2]!.shape) : null,
  ],
  Sign: none,
  Greater: none,
  Less: none,
  Equal: none,
  // mask = HardSigmoid(y; alpha = FLT_MAX, beta = 0) = min(1, max(0, alpha y)): 1 where y > 0
  // (any normal float), 0 where y = 0; one fast pass where Greater + Where take four.
  Relu: (n, [dy]) => {
    const y = y0(n);
    if (y.dtype !== "float32") return [where(greater(y, 0), dy!, 0)];
    return [mul(dy!, hardSigmoid(y, FLT_MAX, 0))];
  },
  LeakyRelu: (n, [dy]) => {
    const alpha = n.attrs.alpha?.value as number ?? 0.01;
    return [where(greater(x0(n), 0), dy!, mul(dy!, alpha))];
  },
  Sigmoid: (n, [dy]) => {
    const y = y0(n);
    return [mul(dy!, mul(y, sub(1, y)))];
  },
  Tanh: (n, [dy]) => {
    const y = y0(n);
    return [mul(dy!, sub(1, mul(y, y)))];
  },
  Softmax: (n, [dy]) => {
    const y = y0(n);
    const a = attrInt(n, "axis", -1);
    const dyy = mul(dy!, y);
    return [sub(dyy, mul(y, sum(dyy, [a], true)))]; // y (dy - sum(dy y))
  },
  LogSoftmax: (n, [dy]) => {
    const a = attrInt(n, "axis", -1);
    return [sub(dy!, mul(exp(y0(n)), sum(dy!, [a], true)))];
  },
};
