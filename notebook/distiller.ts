/**
 * The notebook facade: one object per distillation run over one store, whose methods run the
 * stages in order (encode -> discover -> sample -> decode -> evaluate / measure), resume from
 * the store, check their options at run time and return results that display themselves.
 * Plain stage functions (mod.ts) stay the way for scripts.
 *
 * ```ts
 * const run = await Distiller.open({ scale: "cpu" }); // the shipped model and ImageNette-64 subset
 * await run.encode();
 * await run.discover();
 * await run.sample({ lambda: 0.1 });     // "MGD3"
 * await run.sample({ guidance: false }); // "DiT", the unguided baseline
 * await run.decode();                    // labelled contact sheets
 * await run.evaluate();                  // hard-label top-1 per method
 * await run.measure();                   // t-SNE plots, diversity and representativeness
 * ```
 *
 * In the Deno Jupyter kernel an interrupt (the kernel's SIGINT) stops the running stage between
 * two shards; every finished shard stays in the store and running the cell again resumes.
 *
 * @module
 */
import type { ScaleModels } from "../models/scales/mod.ts";
import type { Store } from "../stages/store/store.ts";
import { readSafetensorsHeader } from "../models/io/safetensors.ts";
import { encode } from "../stages/encode.ts";
import { discover } from "../stages/discover.ts";
import { sample, SAMPLE_DEFAULTS } from "../stages/sample.ts";
import { decode, DECODE_DEFAULTS } from "../stages/decode.ts";
import { ALL } from "../stages/store/shard.ts";
import { flushProgress } from "../stages/progress.ts";
import { hardLabelEval } from "../eval/protocols/hard_label.ts";
import { measure } from "../eval/measure.ts";
import { checkOptions } from "./options.ts";
import { contactSheet, type Figure, Table } from "./display.ts";
import { Gallery } from "./gallery.ts";
import { interruptible } from "./_interrupt.ts";
import { type OpenOptions, openRun } from "./_open.ts";

export type { OpenOptions } from "./_open.ts";

/** The accuracy table of {@link Distiller.evaluate}, with its numbers by method. */
export type Scores = Table & { scores: Record<string, { mean: number; std: number }> };

/** A distillation run: a scale's models, a store and the run's settings. */
export class Distiller {
  /** Method name -> samples artifact, in the order they were sampled. */
  readonly samples: Map<string, string> = new Map();

  private constructor(
    readonly scale: ScaleModels,
    readonly store: Store,
    readonly o: { data: string; classes: string[]; ipc: number; seed: number },
  ) {}

  /** Loads the scale's models and opens the store. */
  static async open(options: OpenOptions = {}): Promise<Distiller> {
    const { scale, store, settings } = await openRun(options);
    return new Distiller(scale, store, settings);
  }

  /** Encodes the training images (`<data>/train`) into latents; a table of latents per class. */
  async encode(): Promise<Table> {
    return await this.#stage("encode", async (signal) => {
      const r = await encode(this.store, this.scale, {
        data: `${this.o.data}/train`,
        classes: this.o.classes,
        out: "latents/train",
        signal,
      });
      return await this.#perClass(
        "latents/train",
        "latents",
        `Latents (${r.seconds.toFixed(0)} s)`,
      );
    });
  }

  /** Finds `ipc` modes per class (k-means, SPEC section 1); a table of modes per class. */
  async discover(options: { method?: string; seed?: number } = {}): Promise<Table> {
    const o = checkOptions("discover", options, { method: "string", seed: "integer" }, {
      method: "kmeans",
      seed: 0,
    });
    return await this.#stage("discover", async (signal) => {
      await discover(this.store, {
        latents: "latents/train",
        out: this.#modes,
        modes: { method: o.method as "kmeans", k: this.o.ipc, seed: o.seed },
        shard: ALL,
        overwrite: false,
        signal,
      });
      return await this.#perClass(this.#modes, "modes", `Modes (${o.method}, k = ${this.o.ipc})`);
    });
  }

  /**
   * Samples one latent per mode: MGD3 (lambda 0.1, t_stop 25 unless given) or, with
   * `guidance: false`, the unguided baseline. Named "MGD3" / "DiT" unless `name` is given.
   */
  async sample(
    options: {
      lambda?: number;
      tStop?: number;
      guidance?: boolean;
      cfgScale?: number;
      name?: string;
    } = {},
  ): Promise<Table> {
    const o = checkOptions("sample", options, {
      lambda: "number",
      tStop: "integer",
      guidance: "boolean",
      cfgScale: "number",
      name: "string",
    }, { guidance: true });
    if (!o.guidance && (o.lambda !== undefined || o.tStop !== undefined)) {
      throw new TypeError("sample: 'lambda' and 'tStop' need guidance; drop 'guidance: false'");
    }
    const guidance = o.guidance
      ? {
        lambda: o.lambda ?? SAMPLE_DEFAULTS.guidance.lambda,
        tStop: o.tStop ?? SAMPLE_DEFAULTS.guidance.tStop,
      }
      : null;
    const name = o.name ?? (guidance ? "MGD3" : "DiT");
    const out = `samples/${name}-s${this.o.seed}`;
    return await this.#stage(`sample ${name}`, async (signal) => {
      const r = await sample(this.store, this.scale, {
        modes: this.#modes,
        out,
        guidance,
        seed: this.o.seed,
        ...(o.cfgScale === undefined ? {} : { cfgScale: o.cfgScale }),
        signal,
      });
      this.samples.set(name, out);
      return await this.#perClass(out, "latents", `${name} samples (${r.seconds.toFixed(0)} s)`);
    });
  }

  /** Decodes the sampled latents (every method so far, or `names`) to labelled contact sheets. */
  async decode(options: { names?: string[]; scale?: number } = {}): Promise<Gallery> {
    const o = checkOptions("decode", options, { names: "strings", scale: "integer" }, {
      scale: this.scale.codec.imageSize <= 64 ? 2 : 1,
    });
    return await this.#stage("decode", async (signal) => {
      const figures: Figure[] = [];
      for (const name of this.#names(o.names)) {
        const r = await decode(this.store, this.scale.codec, {
          ...DECODE_DEFAULTS,
          samples: this.samples.get(name)!,
          out: this.#distilled(name),
          signal,
        });
        const art = await this.store.open(r.artifact);
        const rows = [];
        for (const shard of await art.shards()) {
          const { tensors, metadata } = await art.readShard(shard);
          const t = tensors.get("images")!;
          rows.push({
            label: metadata.name ?? shard,
            images: t.data as Uint8Array,
            size: t.shape[2],
          });
        }
        figures.push(
          await contactSheet(rows, { scale: o.scale, title: `${name}: ${r.imageFolder}` }),
        );
      }
      return new Gallery(figures);
    });
  }

  /**
   * Hard-label top-1 of each decoded method (or `names`) on `<data>/val` (ConvNet-4 at the cpu
   * scale); the table's `scores` hold the numbers by method.
   */
  async evaluate(
    options: { epochs?: number; model?: string; seeds?: number[]; names?: string[] } = {},
  ): Promise<Scores> {
    const o = checkOptions("evaluate", options, {
      epochs: "integer",
      model: "string",
      seeds: "numbers",
      names: "strings",
    }, { model: "convnet", seeds: [0] });
    return await this.#stage("evaluate", async (signal) => {
      const rows: (string | number)[][] = [];
      const scores: Scores["scores"] = {};
      for (const name of this.#names(o.names)) {
        const r = await hardLabelEval(this.store, {
          name: `eval/${name}-s${this.o.seed}`,
          scale: this.scale.scale,
          train: `${this.store.root}/${this.#distilled(name)}/images`,
          val: `${this.o.data}/val`,
          classes: this.o.classes,
          model: o.model,
          seeds: o.seeds,
          ...(o.epochs === undefined ? {} : { epochs: o.epochs }),
          signal,
        });
        rows.push([name, r.mean.toFixed(1), r.std.toFixed(1), r.protocol.epochs]);
        scores[name] = { mean: r.mean, std: r.std };
      }
      const table = new Table(
        ["method", "top-1 %", "std", "epochs"],
        rows,
        `Hard-label (${o.model})`,
      );
      return Object.assign(table, { scores });
    });
  }

  /** t-SNE per class, diversity and representativeness (paper Table 9, Fig. 6). */
  async measure(options: { classes?: number } = {}): Promise<Gallery> {
    const o = checkOptions("measure", options, { classes: "integer" }, { classes: 3 });
    return await this.#stage("measure", async () => {
      const names = this.#names();
      const m = await measure(this.store, {
        latents: "latents/train",
        samples: Object.fromEntries(names.map((n) => [n, this.samples.get(n)!])),
        modes: this.#modes,
        out: `metrics/${names.join("-")}-s${this.o.seed}`,
        embedding: "tsne",
        seed: 42, // sklearn TSNE random_state=42 (SPEC section 5)
      });
      const table = new Table(
        ["class", ...Object.keys(m.table.rows[0]?.values ?? {})],
        m.table.rows.map((r) => [r.className, ...Object.values(r.values).map((v) => v.toFixed(2))]),
        "Class-wise diversity (min-max normalised)",
      );
      const tsne = [...Deno.readDirSync(`${m.artifact}/plots`)].map((e) => e.name)
        .filter((n) => n.endsWith("_tsne.png")).sort().slice(0, o.classes);
      const plots = await Gallery.read(m.artifact, [
        "fig6_diversity_representativeness.png",
        ...tsne.map((n) => `plots/${n}`),
      ]);
      return new Gallery(plots.figures, [table]);
    });
  }

  /** Frees the models' onnxruntime sessions. */
  async release(): Promise<void> {
    await this.scale.release();
  }

  get #modes(): string {
    return `modes/ipc${this.o.ipc}`;
  }

  #distilled(name: string): string {
    return `distilled/${name}-s${this.o.seed}`;
  }

  #names(names?: string | string[]): string[] {
    const all = [...this.samples.keys()];
    const chosen = names === undefined ? all : typeof names === "string" ? names.split(",") : names;
    if (chosen.length === 0) throw new Error("Nothing sampled yet: call sample() first");
    for (const n of chosen) {
      if (!this.samples.has(n)) throw new Error(`No samples named '${n}'; have ${all.join(", ")}`);
    }
    return chosen;
  }

  /** Rows of `key` per class shard, from the shard headers (the stage verified the shards). */
  async #perClass(artifact: string, key: string, caption: string): Promise<Table> {
    const art = await this.store.open(artifact);
    const rows: (string | number)[][] = [];
    for (const shard of await art.shards()) {
      const { tensors, metadata } = await readSafetensorsHeader(art.shardPath(shard));
      rows.push([metadata.name ?? shard, tensors[key]?.shape[0] ?? 0]);
    }
    return new Table(["class", key], rows, caption);
  }

  #stage<T>(label: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return interruptible(label, this.store.root, async (signal) => {
      const out = await run(signal);
      await flushProgress();
      return out;
    });
  }
}
