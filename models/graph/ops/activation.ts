/**
 * Activations: relu, leakyRelu, sigmoid, tanh, softmax, logSoftmax (single ONNX ops) and
 * gelu (erf or tanh form) and silu (composites with their own backward).
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr, axis, isFloat, node1, transposedFrom } from "./operands.ts";
import { permute } from "./shape.ts";
import { add, erf, exp, mul, sub } from "./elementwise.ts";

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const GELU_TANH_C = Math.sqrt(2 / Math.PI); // tanh approximation constant
const GELU_TANH_A = 0.044715;

/**
 * `max(x, 0)`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { relu } from "./activation.ts";
 * const y = relu(new Graph().input("x", [4]));
 * ```
 */
export function relu(x: Value): Value {
  isFloat("Relu", x);
  const t = transposedFrom(x);
  if (t) return permute(relu(t[0]), t[1]); // relu(T(z)) = T(relu(z))
  return node1(x.graph, "Relu", [x], x.shape, x.dtype);
}

/**
 * `x < 0 ? slope * x : x` (PyTorch default slope 0.01).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { leakyRelu } from "./activation.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = leakyRelu(x, 0.2);
 * ```
 */
export function leakyRelu(x: Value, slope = 0.01): Value {
  isFloat("LeakyRelu", x);
  return node1(x.graph, "LeakyRelu", [x], x.shape, x.dtype, { alpha: attr.float(slope) });
}

/**
 * Logistic sigmoid.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { sigmoid } from "./activation.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = sigmoid(x);
 * ```
 */
export function sigmoid(x: Value): Value {
  isFloat("Sigmoid", x);
  return node1(x.graph, "Sigmoid", [x], x.shape, x.dtype);
}

/**
 * Hyperbolic tangent.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { tanh } from "./activation.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = tanh(x);
 * ```
 */
export function tanh(x: Value): Value {
  isFloat("Tanh", x);
  return node1(x.graph, "Tanh", [x], x.shape, x.dtype);
}

/**
 * Softmax along one axis (default last).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { softmax } from "./activation.ts";
 * const g = new Graph();
 * const logits = g.input("logits", [2, 10]);
 * const y = softmax(logits, 1);
 * ```
 */
export function softmax(x: Value, ax = -1): Value {
  isFloat("Softmax", x);
  return node1(x.graph, "Softmax", [x], x.shape, x.dtype, {
    axis: attr.int(axis("softmax", ax, x.rank)),
  });
}

/**
 * Log-softmax along one axis (default last).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { logSoftmax } from "./activation.ts";
 * const g = new Graph();
 * const logits = g.input("logits", [2, 10]);
 * const y = logSoftmax(logits, 1);
 * ```
 */
export function logSoftmax(x: Value, ax = -1): Value {
  isFloat("LogSoftmax", x);
  return node1(x.graph, "LogSoftmax", [x], x.shape, x.dtype, {
    axis: attr.int(axis("logSoftmax", ax, x.rank)),
  });
}

/**
 * GELU, exact (`0.5 x (1 + erf(x / sqrt 2))`, PyTorch's default) or with the tanh
 * approximation (`approximate: "tanh"`).
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { gelu } from "./activation.ts";
 * const y = gelu(new Graph().input("x", [4]), "tanh");
 * ```
 */
export function gelu(x: Value, approximate: "none" | "tanh" = "none"): Value {
  isFloat("gelu", x);
  const g = x.graph;
  return g.composite([x], () => {
    if (approximate === "none") {
      const phi = mul(add(erf(mul(x, SQRT1_2)), 1), 0.5); // Phi(x)
      const y = mul(x, phi);
      return {
        outputs: [y],
        backward: ([dy]) => {
          // d/dx = Phi(x) + x * pdf(x)
          const pdf = mul(exp(mul(mul(x, x), -0.5)), INV_SQRT_2PI);
          return [mul(dy!, add(phi, mul(x, pdf)))];
        },
      };
    }
    const inner = mul(add(x, mul(mul(mul(x, x), x), GELU_TANH_A)), GELU_TANH_C);
    const t = tanh(inner);
    const y = mul(mul(x, 0.5), add(t, 1));
    return {
      outputs: [y],
      backward: ([dy]) => {
        // d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
        const dinner = mul(add(mul(mul(x, x), 3 * GELU_TANH_A), 1), GELU_TANH_C);
        const sech2 = sub(1, mul(t, t));
        const d = add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), sech2), dinner));
        return [mul(dy!, d)];
      },
    };
  })[0];
}

/**
 * SiLU (swish), `x * sigmoid(x)`.
 *
 * @example
 * ```ts
 * import { Graph } from "../graph.ts";
 * import { silu } from "./activation.ts";
 * const g = new Graph();
 * const x = g.input("x", [2, 4, 8, 8]);
 * const y = silu(x);
 * ```
 */
export function silu(x: Value): Value {
  isFloat("silu", x);
  return x.graph.composite([x], () => {
    const s = sigmoid(x);
    const y = mul(x, s);
    return {
      outputs: [y],
      // d/dx = s (1 + x (1 - s))
      backward: ([dy]) => [mul(dy!, mul(s, add(mul(x, sub(1, s)), 1)))],
    };
  })[0];
}
