/**
 * The paired difference of two evaluation artifacts (`mgd3 eval` results), run for run by seed
 * and image for image, with its 95% bootstrap CI over seeds and val images
 * (eval/tables/paired.ts): the same statistic the tables print, for any two evaluations made on
 * the same val images.
 *
 * Usage: deno run -A tools/paired_diff.ts <eval dir A> <eval dir B>   (prints A - B)
 */
import { pairedBootstrap, type PairedRun } from "../eval/tables/paired.ts";
import { unpackBits } from "../eval/protocols/correct_bits.ts";

/** Runs of an eval artifact with their per-image correctness. */
async function runsOf(dir: string): Promise<PairedRun[]> {
  const path = `${dir}/results.json`;
  const r = JSON.parse(await Deno.readTextFile(path)) as {
    runs: { seed: number; correct?: string; valImages?: number }[];
    provenance?: { options?: { model?: string; student?: string } };
  };
  const network = r.provenance?.options?.model ?? r.provenance?.options?.student ?? "?";
  const out = r.runs.filter((x) => x.correct && x.valImages).map((x) => ({
    network,
    seed: x.seed,
    correct: unpackBits(x.correct!, x.valImages!),
  }));
  if (!out.length) {
    throw new Error(`${path}: no run has per-image results (made before issue 19?)`);
  }
  return out;
}

if (Deno.args.length !== 2) {
  console.error("Usage: deno run -A tools/paired_diff.ts <eval dir A> <eval dir B>");
  Deno.exit(2);
}
const [a, b] = Deno.args;
const r = pairedBootstrap(await runsOf(a), await runsOf(b));
if (!r) {
  console.error(`${a} and ${b} share no (network, seed) run`);
  Deno.exit(1);
}
const f = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
console.log(
  `${a} - ${b}: ${f(r.diff)} points, 95% CI [${f(r.lo)}, ${
    f(r.hi)
  }] (${r.seeds} seed(s) x ${r.images} val images)${
    r.lo > 0 || r.hi < 0 ? ", resolved" : ", not resolved"
  }`,
);
