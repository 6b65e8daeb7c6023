/**
 * Result summaries of the evaluation protocols: mean and standard deviation over runs
 * (population std, numpy's `np.std` default, as the reference repos report), and the
 * markdown table written beside the JSON.
 *
 * @module
 */
import type { FitState } from "./_fit.ts";
import { type CodeVersion, formatVersion } from "../stages/version.ts";

/** One finished training run of a protocol. */
export interface RunResult {
  /** 0-based index of the run. */
  run: number;
  /** Training seed of the run. */
  seed: number;
  /** The distilled (training) ImageFolder. */
  train: string;
  /** Best validation top-1, in percent. */
  bestTop1: number;
  /** 1-based epoch of `bestTop1`. */
  bestEpoch: number;
  /** Top-1 of the last validation, in percent (NaN when there was none). */
  finalTop1: number;
  /** Training epochs. */
  epochs: number;
  /** Wall-clock seconds spent training. */
  seconds: number;
  /** Every validation: 1-based epoch, top-1 in percent, mean training loss of that epoch. */
  history: { epoch: number; top1: number; loss: number }[];
}

/** The result of one finished training run, from the fit's state. */
export function runResult(
  state: Pick<FitState, "bestTop1" | "bestEpoch" | "seconds" | "history">,
  o: { run: number; seed: number; train: string; epochs: number },
): RunResult {
  const last = state.history[state.history.length - 1];
  return {
    ...o,
    bestTop1: state.bestTop1,
    bestEpoch: state.bestEpoch,
    finalTop1: last?.top1 ?? NaN,
    seconds: state.seconds,
    history: state.history,
  };
}

/** Mean and population standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  if (xs.length === 0) return { mean: NaN, std: NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(v) };
}

/** The markdown report: summary line, one row per run, provenance. */
export function resultsMarkdown(o: {
  title: string;
  runs: readonly RunResult[];
  options: Record<string, unknown>;
  code: CodeVersion;
  artifact: string;
}): string {
  const { mean, std } = meanStd(o.runs.map((r) => r.bestTop1));
  const lines = [
    `# ${o.title}`,
    "",
    `Best top-1: **${mean.toFixed(1)} ± ${std.toFixed(1)}** over ${o.runs.length} run(s).`,
    "",
    "| run | seed | train | best top-1 | at epoch | final top-1 | epochs | minutes |",
    "| --: | ---: | ----- | ---------: | -------: | ----------: | -----: | ------: |",
    ...o.runs.map((r) =>
      `| ${r.run} | ${r.seed} | ${r.train} | ${r.bestTop1.toFixed(2)} | ${r.bestEpoch} | ` +
      `${r.finalTop1.toFixed(2)} | ${r.epochs} | ${(r.seconds / 60).toFixed(1)} |`
    ),
    "",
    `Artifact \`${o.artifact}\`, code ${formatVersion(o.code)}. Options:`,
    "",
    "```json",
    JSON.stringify(o.options, null, 2),
    "```",
    "",
  ];
  return lines.join("\n");
}

/** A finished run's `run-<i>.json` in an artifact directory, or null when absent. */
export async function readRunResult(dir: string, run: number): Promise<RunResult | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/run-${run}.json`)) as RunResult;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
