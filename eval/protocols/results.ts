/**
 * Result summaries of the evaluation protocols: mean and standard deviation over runs
 * (population std, numpy's `np.std` default, as the reference repos report), and the
 * markdown table written beside the JSON; the per-seed loop of a protocol that resumes from
 * finished runs and writes them.
 *
 * @module
 */
import type { FitState } from "./fit.ts";
import type { Artifact } from "../../stages/store/store.ts";
import { type CodeVersion, formatVersion } from "../../stages/store/version.ts";

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
  /**
   * Which validation images were right at `bestEpoch`, as a base64 bitmap (correct_bits.ts);
   * absent in results written before it existed (issue 19).
   */
  correct?: string;
  /** Validation images in `correct`. */
  valImages?: number;
}

/** The result of one finished training run, from the fit's state. */
export function runResult(
  state: Pick<
    FitState,
    "bestTop1" | "bestEpoch" | "seconds" | "history" | "bestCorrect" | "valImages"
  >,
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
    ...(state.bestCorrect !== undefined
      ? { correct: state.bestCorrect, valImages: state.valImages }
      : {}),
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

/**
 * Runs every seed of a protocol into `art`, in seed order: a run whose `run-<i>.json` exists
 * is read back, the others are trained by `train` on their folder (`dirs`: one for every seed
 * or one per seed) and written as `run-<i>.json`.
 */
export async function runSeeds(
  art: Artifact,
  seeds: readonly number[],
  dirs: readonly string[],
  train: (run: number, seed: number, dir: string) => Promise<RunResult>,
): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (const [i, seed] of seeds.entries()) {
    const done = await readRunResult(art.dir, i);
    if (done) {
      runs.push(done);
      continue;
    }
    const r = await train(i, seed, dirs.length === 1 ? dirs[0] : dirs[i]);
    await art.writeJson(`run-${i}.json`, r as unknown as Record<string, unknown>);
    runs.push(r);
  }
  return runs;
}

/** What a protocol returns and writes as `results.json`. */
export interface ProtocolReport<P> {
  /** Directory of the artifact written. */
  artifact: string;
  /** The protocol the runs used (with any overrides applied). */
  protocol: P;
  /** Images per class of the distilled set. */
  ipc: number;
  /** Every run, in seed order. */
  runs: RunResult[];
  /** Mean of the runs' best top-1, in percent. */
  mean: number;
  /** Population standard deviation of the runs' best top-1. */
  std: number;
}

/**
 * Writes a protocol's `results.json` (the runs with their mean and std) and `results.md`
 * (titled `title`, with the artifact's options) into `art`, named `name` in the store.
 */
export async function writeResults<P>(art: Artifact, o: {
  protocol: P;
  ipc: number;
  runs: RunResult[];
  title: string;
  options: Record<string, unknown>;
  name: string;
}): Promise<ProtocolReport<P>> {
  const { protocol, ipc, runs } = o;
  const { mean, std } = meanStd(runs.map((r) => r.bestTop1));
  const report: ProtocolReport<P> = { artifact: art.dir, protocol, ipc, runs, mean, std };
  await art.writeJson("results.json", report as unknown as Record<string, unknown>);
  await art.writeFile(
    "results.md",
    resultsMarkdown({
      title: o.title,
      runs,
      options: o.options,
      code: art.manifest.code,
      artifact: o.name,
    }),
  );
  return report;
}
