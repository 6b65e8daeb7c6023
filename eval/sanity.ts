/**
 * Sanity check of the hard-label trainer on real data (and the cpu-scale budget
 * measurement): train at cpu scale on the first `--per-class` real ImageNette training
 * images per class, validate on the first 50 real validation images per class (the measurement
 * behind the README's numbers; the cpu protocol itself validates on all since issue 19),
 * once with the true labels and once with the labels permuted. The first must beat chance
 * (10%) by a wide margin, the second must not.
 *
 *   deno run -A eval/sanity.ts [--model convnet] [--epochs 30] [--per-class 50]
 *     [--store .store-sanity] [--budgets 10,20,40] [--seed 0] [--no-shuffled] [--data DIR]
 *
 * `--budgets` trains once per epoch budget (true labels only), the measurement behind the
 * cpu scale's epoch budget (hard_label_protocol.ts `cpuEpochs`). Every run is resumable
 * (store artifacts under `sanity/`). Prints one line per run:
 *
 *   sanity model=<m> epochs=<e> labels=<true|shuffled> top1=<best> final=<last> minutes=<t>
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Store } from "../stages/store/store.ts";
import { parseDecimal } from "../models/core/decimal.ts";
import { hardLabelEval } from "./protocols/hard_label.ts";

/** Validation images per class of the sanity check (the README's 50.0% / 12.8% used 50). */
export const SANITY_VAL_PER_CLASS = 50;

/** Default ImageNette root: `MGD3_IMAGENETTE`, else `../shared/data/imagenette2-224` beside the checkout. */
export const DEFAULT_IMAGENETTE = Deno.env.get("MGD3_IMAGENETTE") ??
  new URL("../../shared/data/imagenette2-224", import.meta.url).pathname;

/** Options of {@link sanityCheck}. */
export interface SanityOptions {
  store: string;
  model: string;
  /** Epoch budgets to train with the true labels (the first is also used shuffled). */
  budgets: number[];
  perClass: number;
  seed: number;
  shuffled: boolean;
  /** ImageNette root with train/ and val/ (default: the shared 224 px copy). */
  data?: string;
}

/** One sanity run's outcome. */
export interface SanityLine {
  model: string;
  epochs: number;
  labels: "true" | "shuffled";
  top1: number;
  final: number;
  minutes: number;
}

/**
 * Trains the sanity runs and returns one line per run.
 *
 * @example
 * ```ts
 * import { sanityCheck } from "./sanity.ts";
 * const lines = await sanityCheck({
 *   store: ".store-sanity",
 *   model: "convnet",
 *   budgets: [30],
 *   perClass: 50,
 *   seed: 0,
 *   shuffled: true,
 * });
 * ```
 */
export async function sanityCheck(o: SanityOptions): Promise<SanityLine[]> {
  const data = o.data ?? DEFAULT_IMAGENETTE;
  const store = await Store.open(o.store);
  const out: SanityLine[] = [];
  const runs: [number, boolean][] = o.budgets.map((e) => [e, false]);
  if (o.shuffled) runs.push([o.budgets[0], true]);
  for (const [epochs, shuffled] of runs) {
    const labels = shuffled ? "shuffled" : "true";
    const r = await hardLabelEval(store, {
      name: `sanity/${o.model}-${o.perClass}pc-e${epochs}-${labels}-s${o.seed}`,
      scale: "cpu",
      train: `${data}/train`,
      val: `${data}/val`,
      classes: "imagenette",
      model: o.model,
      seeds: [o.seed],
      epochs,
      trainPerClass: o.perClass,
      valPerClass: SANITY_VAL_PER_CLASS,
      shuffleLabels: shuffled,
    });
    const run = r.runs[0];
    const line: SanityLine = {
      model: o.model,
      epochs,
      labels,
      top1: run.bestTop1,
      final: run.finalTop1,
      minutes: run.seconds / 60,
    };
    console.log(
      `sanity model=${line.model} epochs=${epochs} labels=${labels} top1=${line.top1.toFixed(1)} ` +
        `final=${line.final.toFixed(1)} minutes=${line.minutes.toFixed(1)}`,
    );
    out.push(line);
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      model: { type: "string", default: "convnet" },
      epochs: { type: "string", default: "30" },
      budgets: { type: "string" },
      "per-class": { type: "string", default: "50" },
      store: { type: "string", default: ".store-sanity" },
      seed: { type: "string", default: "0" },
      "no-shuffled": { type: "boolean", default: false },
      data: { type: "string" },
    },
  });
  const int = (name: string, text: string, min: number): number => {
    const n = parseDecimal(text, "integer");
    if (n === null || n < min) {
      console.error(`sanity: --${name} must be a decimal integer >= ${min}, got '${text}'`);
      Deno.exit(2);
    }
    return n;
  };
  const budgets = (values.budgets ?? values.epochs).split(",").map((b) => int("budgets", b, 1));
  const lines = await sanityCheck({
    store: values.store,
    model: values.model,
    budgets,
    perClass: int("per-class", values["per-class"], 1),
    seed: int("seed", values.seed, 0),
    shuffled: !values["no-shuffled"] && values.budgets === undefined,
    data: values.data,
  });
  const real = lines.find((l) => l.labels === "true")!;
  const shuffled = lines.find((l) => l.labels === "shuffled");
  if (shuffled) {
    const ok = real.top1 >= 30 && shuffled.top1 <= 20; // chance = 10% on 10 classes
    console.log(`sanity ${ok ? "PASS" : "FAIL"} (chance 10%)`);
    if (!ok) Deno.exit(1);
  }
}
