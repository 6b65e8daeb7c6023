/**
 * Finite-difference checks of every gradient rule (float32 graphs: onnxruntime's CPU
 * provider has no float64 Conv/pool kernels; errors are relative to the L1 mass of the
 * directional derivative).
 */
import assert from "node:assert/strict";
import { checkGrad, distinct, input } from "./engine_fd.ts";
import {
  abs,
  add,
  div,
  erf,
  exp,
  greater,
  log,
  mul,
  neg,
  pow,
  reciprocal,
  sqrt,
  sub,
  where,
} from "../models/graph/ops/elementwise.ts";
import {
  gelu,
  leakyRelu,
  logSoftmax,
  relu,
  sigmoid,
  silu,
  softmax,
  tanh,
} from "../models/graph/ops/activation.ts";
import { mean, sum } from "../models/graph/ops/reduce.ts";
import {
  conv,
  convLowering,
  convTranspose,
  gemm,
  linear,
  matmul,
} from "../models/graph/ops/conv.ts";
import { avgPool, globalAvgPool, maxPool, upsampleNearest } from "../models/graph/ops/pool.ts";
import {
  cat,
  expand,
  flatten,
  gather,
  pad,
  permute,
  reshape,
  slice,
  split,
  squeeze,
  unsqueeze,
} from "../models/graph/ops/shape.ts";

const t = (name: string, fn: () => Promise<unknown>) =>
  Deno.test(name, async () => void (await fn()));

t("broadcasting add, sub, mul and div gradients match finite differences", () =>
  checkGrad(
    ([a, b, c]) => div(sub(mul(add(a, b), c), b), add(mul(c, c), 1)),
    [input("a", [2, 3, 4], 1), input("b", [3, 1], 2), input("c", [4], 3)],
  ));

t(
  "neg, exp, log, sqrt, reciprocal and erf gradients match finite differences",
  () =>
    checkGrad(([a, b]) => {
      const p = add(mul(b, b), 0.5); // positive
      return add(add(neg(exp(mul(a, 0.5))), log(p)), add(sqrt(p), add(reciprocal(p), erf(a))));
    }, [input("a", [3, 5], 4), input("b", [3, 5], 5)]),
);

t("pow by a constant and abs gradients match finite differences", () =>
  checkGrad(([a]) => {
    const p = add(abs(a), 0.5);
    return add(add(pow(a, 2), pow(a, 3)), add(pow(p, 0.5), pow(p, -1.5)));
  }, [input("a", [4, 6], 6)]));

t("relu, leaky relu, sigmoid and tanh gradients match finite differences", () =>
  checkGrad(
    ([a]) => add(add(relu(a), leakyRelu(a, 0.2)), add(sigmoid(a), tanh(a))),
    [input("a", [5, 7], 7)],
  ));

t("gelu (erf and tanh forms) and silu gradients match finite differences", () =>
  checkGrad(
    ([a]) => add(add(gelu(a), gelu(a, "tanh")), silu(a)),
    [input("a", [5, 7], 8, 2)],
  ));

t("softmax and log-softmax gradients match finite differences", () =>
  checkGrad(
    ([a]) => add(softmax(a, 1), logSoftmax(a, -1)),
    [input("a", [3, 4, 5], 9)],
  ));

t(
  "where gradient matches finite differences",
  () =>
    checkGrad(([a, b]) => where(greater(a, 0), mul(a, b), b), [
      input("a", [4, 5], 10),
      input("b", [5], 11),
    ]),
);

t("sum and mean reduction gradients match finite differences", () =>
  checkGrad(
    ([a]) => add(sum(a, [1], true), add(mean(a, [0, 2], true), mean(sum(a, [2]), []))),
    [input("a", [3, 4, 5], 12)],
  ));

t("conv gradient (stride 1, padding 1, bias) matches finite differences", () =>
  checkGrad(
    ([x, w, b]) => conv(x, w, b, { padding: 1 }),
    [input("x", [2, 3, 6, 6], 13), input("w", [4, 3, 3, 3], 14), input("b", [4], 15)],
  ));

t("conv gradient (stride 2, groups 2, no bias) matches finite differences", () =>
  checkGrad(
    ([x, w]) => conv(x, w, null, { padding: 1, stride: 2, groups: 2 }),
    [input("x", [2, 4, 7, 7], 16), input("w", [6, 2, 3, 3], 17)],
  ));

t(
  "conv gradient (7x7 stride 2 padding 3, dilation 2, 1x1 stride 2) matches finite differences",
  () =>
    checkGrad(
      ([x, w1, w2, w3]) =>
        add(
          add(conv(x, w1, null, { padding: 3, stride: 2 }), conv(x, w3, null, { stride: 2 })),
          conv(x, w2, null, { padding: 2, dilation: 2, stride: 2 }),
        ),
      [
        input("x", [2, 3, 9, 9], 18),
        input("w1", [4, 3, 7, 7], 19, 0.3),
        input("w2", [4, 3, 3, 3], 20),
        input("w3", [4, 3, 1, 1], 21),
      ],
    ),
);

t(
  "convs lowered to one batched Gemm on small maps (strides, dilation, 1x1) match finite differences",
  () =>
    checkGrad(
      ([x, w1, b1, w2, w3]) =>
        add(
          add(
            sum(conv(x, w1, b1, { padding: 1 })),
            sum(conv(x, w2, null, { stride: 2, padding: 1 })),
          ),
          add(
            sum(conv(x, w2, null, { padding: 2, dilation: 2 })),
            sum(conv(x, w3, null, { stride: 2 })),
          ),
        ),
      [
        input("x", [2, 3, 4, 4], 50),
        input("w1", [5, 3, 3, 3], 51),
        input("b1", [5], 52),
        input("w2", [4, 3, 3, 3], 53),
        input("w3", [4, 3, 1, 1], 54),
      ],
    ),
);

t("conv gradients with the Gemm lowering disabled match finite differences", async () => {
  const saved = convLowering.gemmMaxPixels;
  convLowering.gemmMaxPixels = 0;
  try {
    await checkGrad(
      ([x, w1, w2]) =>
        add(
          sum(conv(x, w1, null, { padding: 1 })),
          sum(conv(x, w2, null, { stride: 2, padding: 1 })),
        ),
      [input("x", [2, 3, 4, 4], 55), input("w1", [5, 3, 3, 3], 56), input("w2", [4, 3, 3, 3], 57)],
    );
  } finally {
    convLowering.gemmMaxPixels = saved;
  }
});

t(
  "conv gradients with 16 input channels and dilation match finite differences",
  () =>
    checkGrad(
      ([x, w1, w2]) =>
        add(
          sum(conv(x, w1, null, { padding: 1 })),
          sum(conv(x, w2, null, { padding: 2, dilation: 2 })),
        ),
      [
        input("x", [2, 16, 9, 9], 58),
        input("w1", [4, 16, 3, 3], 59, 0.3),
        input("w2", [3, 16, 3, 3], 60, 0.3),
      ],
    ),
);

t("depthwise conv gradient matches finite differences", () =>
  checkGrad(
    ([x, w]) => conv(x, w, null, { padding: 1, groups: 4 }),
    [input("x", [2, 4, 5, 5], 22), input("w", [4, 1, 3, 3], 23)],
  ));

t("conv transpose gradient (stride 2, groups 2, bias) matches finite differences", () =>
  checkGrad(
    ([x, w, b]) => convTranspose(x, w, b, { stride: 2, padding: 1, groups: 2, outputPadding: 1 }),
    [input("x", [2, 4, 4, 4], 24), input("w", [4, 3, 3, 3], 25), input("b", [6], 26)],
  ));

t("gemm gradients (all transposes, broadcast bias) match finite differences", async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    await checkGrad(
      ([a, b, c]) => gemm(a, b, c, { transA: ta, transB: tb, alpha: 0.7, beta: 1.3 }),
      [
        input("a", ta ? [5, 3] : [3, 5], 27),
        input("b", tb ? [4, 5] : [5, 4], 28),
        input("c", [4], 29),
      ],
    );
  }
});

t(
  "linear and batched matmul gradients (broadcast batch, 1-D operands) match finite differences",
  () =>
    checkGrad(
      ([x, w, b, a3, b2, v]) =>
        add(
          sum(linear(x, w, b)),
          add(sum(matmul(a3, b2)), add(sum(matmul(a3, v)), sum(matmul(v, b2)))),
        ),
      [
        input("x", [3, 4], 30),
        input("w", [5, 4], 31),
        input("b", [5], 32),
        input("a", [2, 3, 4, 3], 33),
        input("bb", [1, 3, 5], 34),
        input("v", [3], 35),
      ],
    ),
);

t(
  "average pool gradients (2x2, odd size, 3x3 stride 2 padded) match finite differences",
  () =>
    checkGrad(
      ([x, y]) =>
        add(
          sum(avgPool(x, 2)),
          add(
            sum(avgPool(y, 2)),
            add(
              sum(mul(avgPool(y, 3, { stride: 2, padding: 1 }), 1.5)),
              sum(avgPool(y, 3, { stride: 2, padding: 1, countIncludePad: false })),
            ),
          ),
        ),
      [input("x", [2, 3, 6, 6], 36), input("y", [2, 3, 7, 7], 37)],
    ),
);

t(
  "global average pool gradient matches finite differences",
  () => checkGrad(([x]) => globalAvgPool(x), [input("x", [2, 3, 5, 4], 38)]),
);

t("max pool gradients (overlapping 3x3 stride 2 and 2x2) match finite differences", () =>
  checkGrad(
    ([x]) => add(sum(maxPool(x, 3, { stride: 2, padding: 1 })), sum(mul(maxPool(x, 2), 2))),
    [distinct("x", [2, 3, 8, 8], 39)],
  ));

t(
  "nearest upsampling gradient matches finite differences",
  () => checkGrad(([x]) => upsampleNearest(x, 2), [input("x", [2, 3, 3, 4], 40)]),
);

t(
  "reshape, permute, flatten, squeeze, unsqueeze and expand gradients match finite differences",
  () =>
    checkGrad(
      ([x, b]) =>
        add(
          flatten(permute(reshape(x, [2, 3, 4]), [2, 0, 1]), 1),
          reshape(expand(unsqueeze(squeeze(b, [1]), [0]), [4, 6]), [4, 6]),
        ),
      [input("x", [6, 4], 41), input("b", [6, 1], 42)],
    ),
);

t(
  "cat, split, slice (steps, negative steps) and pad gradients match finite differences",
  () =>
    checkGrad(([x, y]) => {
      const [p, q] = split(cat([x, y], 1), [3, 5], 1); // [4, 3, 6], [4, 5, 6]
      const s1 = slice(q, [1, 2], [0, -1], [5, -7], [2, -2]); // [4, 3, 3]
      const s2 = slice(p, [2], [1], [6], [3]); // [4, 3, 2]
      return add(sum(pad(s1, [0, 0, 1, 0, 1, 0])), add(sum(mul(s2, s2)), sum(mul(p, 0.5))));
    }, [input("x", [4, 2, 6], 43), input("y", [4, 6, 6], 44)]),
);

t("gather (embedding rows, axis 1) gradient matches finite differences", () =>
  checkGrad(
    ([tbl], _g, [ids]) => add(sum(mul(gather(tbl, ids, 0), 1.5)), sum(gather(tbl, ids, 1))),
    [input("table", [6, 6], 45)],
    {
      consts: [{
        name: "ids",
        tensor: { dtype: "I64", shape: [2, 3], data: BigInt64Array.from([1n, 4n, 1n, 0n, 5n, 4n]) },
      }],
    },
  ));

Deno.test("differentiableOps lists a rule for every primitive the issue names", async () => {
  const { differentiableOps } = await import("../models/graph/autodiff/autodiff.ts");
  const ops = new Set(differentiableOps());
  for (
    const op of [
      "Conv",
      "ConvTranspose",
      "Gemm",
      "MatMul",
      "Add",
      "Sub",
      "Mul",
      "Div",
      "Neg",
      "Exp",
      "Log",
      "Sqrt",
      "Pow",
      "Abs",
      "Relu",
      "LeakyRelu",
      "Sigmoid",
      "Tanh",
      "Softmax",
      "LogSoftmax",
      "ReduceSum",
      "ReduceMean",
      "AveragePool",
      "GlobalAveragePool",
      "MaxPool",
      "Resize",
      "Reshape",
      "Transpose",
      "Flatten",
      "Concat",
      "Slice",
      "Split",
      "Squeeze",
      "Unsqueeze",
      "Expand",
      "Gather",
    ]
  ) assert.ok(ops.has(op), op);
});
