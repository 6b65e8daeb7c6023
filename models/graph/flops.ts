/**
 * Work of a graph in FLOPs (2 per multiply-add of its Conv, ConvTranspose, Gemm and MatMul
 * nodes; elementwise ops are not counted), and the best rate this machine reaches on one dense
 * matrix product through onnxruntime: together a lower bound on how long a job of such graphs
 * can take (tools/table_floor.ts) and the achieved share of the peak (bench/engine_bench.ts).
 *
 * @module
 */
import { Graph, type Node } from "./graph.ts";
import { matmul } from "./ops/conv.ts";
import { Session } from "./session.ts";

/**
 * Multiply-add FLOPs (2 per MAC) of the matrix-product nodes of a graph.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * import { matmul } from "./ops/conv.ts";
 * import { graphFlops } from "./flops.ts";
 * const g = new Graph();
 * g.output(matmul(g.input("a", [4, 8]), g.input("b", [8, 2])), "c");
 * graphFlops(g.nodes); // 2 * 4 * 2 * 8 = 128
 * ```
 */
export function graphFlops(nodes: readonly Node[]): number {
  let f = 0;
  const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  for (const n of nodes) {
    const [a, b] = n.inputs;
    const y = n.outputs[0];
    if (n.op === "Conv") f += 2 * prod(y.shape) * prod(b!.shape.slice(1));
    else if (n.op === "ConvTranspose") f += 2 * prod(a!.shape) * prod(b!.shape.slice(1));
    else if (n.op === "Gemm") {
      f += 2 * prod(y.shape) * (n.attrs.transA?.value ? a!.shape[0] : a!.shape[1]);
    } else if (n.op === "MatMul") f += 2 * prod(y.shape) * a!.shape[a!.rank - 1];
  }
  return f;
}

/**
 * GFLOP/s of the fastest of 5 dense `n x n` float32 products through onnxruntime's MatMul
 * (after one warm-up run), with `threads` threads per op (default: one per core).
 *
 * @example
 * ```ts
 * import { matmulPeakGflops } from "./flops.ts";
 * console.log(`${(await matmulPeakGflops({ n: 512 })).toFixed(0)} GFLOP/s`);
 * ```
 */
export async function matmulPeakGflops(o: { n?: number; threads?: number } = {}): Promise<number> {
  const n = o.n ?? 2048;
  const g = new Graph();
  g.output(matmul(g.input("a", [n, n]), g.input("b", [n, n])), "c");
  const s = await Session.create(g.toModel(), o.threads ? { intraOpThreads: o.threads } : {});
  const data = new Float32Array(n * n);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const a = { dtype: "F32" as const, shape: [n, n], data };
  try {
    await s.run({ a, b: a });
    let best = Infinity;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await s.run({ a, b: a });
      best = Math.min(best, performance.now() - t0);
    }
    return (2 * n ** 3) / (best / 1000) / 1e9;
  } finally {
    await s.release();
  }
}
