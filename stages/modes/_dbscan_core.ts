/**
 * The DBSCAN steps on precomputed squared distances, and the data-driven eps.
 *
 * @module
 */

/** DBSCAN on precomputed squared distances D [n, n] (see dbscan.ts). */
export function dbscanFromDistances(
  D: Float64Array,
  n: number,
  options: { eps: number; minSamples: number },
): { labels: Int32Array; nClusters: number; core: Uint8Array } {
  const eps2 = options.eps * options.eps;
  // Neighbourhoods (itself included), in index order.
  const neighbors: Int32Array[] = [];
  const core = new Uint8Array(n);
  const buf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (D[i * n + j] <= eps2) buf[m++] = j;
    neighbors.push(buf.slice(0, m));
    if (m >= options.minSamples) core[i] = 1;
  }
  // Grow clusters from each unlabelled core row with a stack (sklearn's dbscan_inner).
  const labels = new Int32Array(n).fill(-1);
  let label = 0;
  const stack: number[] = [];
  for (let start = 0; start < n; start++) {
    if (labels[start] !== -1 || !core[start]) continue;
    let i = start;
    for (;;) {
      if (labels[i] === -1) {
        labels[i] = label;
        if (core[i]) {
          for (const j of neighbors[i]) if (labels[j] === -1) stack.push(j);
        }
      }
      if (stack.length === 0) break;
      i = stack.pop()!;
    }
    label++;
  }
  return { labels, nClusters: label, core };
}

/**
 * A data-driven eps: the median over rows of the distance to the row's `minSamples`-th
 * nearest row (itself counted, as minSamples counts it), so about half of the rows are core
 * samples. scikit-learn's default eps = 0.5 is meaningless for 4096-d latents.
 */
export function medianKDistance(D: Float64Array, n: number, minSamples: number): number {
  const m = Math.min(minSamples, n);
  const kth = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = D.slice(i * n, (i + 1) * n).sort();
    kth[i] = Math.sqrt(row[m - 1]);
  }
  kth.sort();
  return n % 2 ? kth[(n - 1) / 2] : 0.5 * (kth[n / 2 - 1] + kth[n / 2]);
}
