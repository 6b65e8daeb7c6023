/**
 * Executes every `examples/*.ipynb` headless (Jupyter's nbconvert with the Deno kernel) into a
 * temporary folder and checks the result: no cell may end in an error, and every kind of
 * output the committed notebook shows for a cell (an image, a table, text) must be produced
 * again, so a lost output fails the run. The committed notebooks are never rewritten; pass
 * `--update` to replace them with the executed versions (after a real run you want to commit).
 *
 * Usage: `deno task notebooks [--update] [NAME.ipynb ...]`. Needs `jupyter nbconvert` (Debian:
 * `jupyter-nbconvert python3-nbclient python3-ipykernel`) and the Deno kernel
 * (`deno jupyter --install`); without them it says so and exits 3.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One output of a cell, as nbformat stores it. */
export interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  name?: string;
  ename?: string;
  evalue?: string;
}
/** One cell, as nbformat stores it. */
export interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}
/** A notebook, as nbformat stores it (the fields the checker reads). */
export interface Notebook {
  cells: Cell[];
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The kinds of output of a cell: `stream` and every MIME type of its displays and results. */
export function outputKinds(cell: Cell): Set<string> {
  const kinds = new Set<string>();
  for (const o of cell.outputs ?? []) {
    if (o.output_type === "stream") kinds.add("stream");
    for (const mime of Object.keys(o.data ?? {})) kinds.add(mime);
  }
  return kinds;
}

/**
 * Problems of an executed notebook against the committed one: cells that errored, and cells
 * that lost a kind of output the committed notebook has.
 */
export function compareNotebooks(committed: Notebook, executed: Notebook): string[] {
  const problems: string[] = [];
  const code = (nb: Notebook) => nb.cells.filter((c) => c.cell_type === "code");
  const [before, after] = [code(committed), code(executed)];
  if (before.length !== after.length) {
    problems.push(`${after.length} code cells executed, ${before.length} committed`);
  }
  for (const [i, cell] of after.entries()) {
    const src = (Array.isArray(cell.source) ? cell.source.join("") : cell.source).split("\n")[0];
    for (const o of cell.outputs ?? []) {
      if (o.output_type === "error") {
        problems.push(`cell ${i + 1} (${src}): ${o.ename}: ${o.evalue}`);
      }
    }
    const had = before[i] ? outputKinds(before[i]) : new Set<string>();
    const has = outputKinds(cell);
    const lost = [...had].filter((k) => !has.has(k));
    if (lost.length) problems.push(`cell ${i + 1} (${src}): lost output ${lost.join(", ")}`);
  }
  return problems;
}

async function hasJupyter(): Promise<boolean> {
  try {
    const out = await new Deno.Command("jupyter", {
      args: ["kernelspec", "list", "--json"],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (out.success) return new TextDecoder().decode(out.stdout).includes('"deno"');
    // Debian's jupyter-nbconvert alone has no kernelspec command: look for the kernel file.
    const home = Deno.env.get("HOME") ?? "";
    await Deno.stat(join(home, ".local/share/jupyter/kernels/deno/kernel.json"));
    const nb = await new Deno.Command("jupyter", { args: ["nbconvert", "--version"] }).output();
    return nb.success;
  } catch {
    return false;
  }
}

/**
 * A notebook in a temporary folder outside the repository that imports the toolkit by path
 * (no deno.json there) and distils two classes; the problems found, or none.
 */
export async function outsideNotebook(): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-outside-notebook-" });
  const code = (source: string) => ({
    cell_type: "code",
    execution_count: null,
    metadata: {},
    outputs: [],
    source,
  });
  const nb = {
    cells: [
      code(`import { Distiller, show } from "${ROOT}/mod.ts";
const run = await Distiller.open({ classes: ["n01440764", "n02102040"], ipc: 2, store: "store" });
await run.encode();
await run.discover();
await run.sample({ lambda: 0.1 });
await show(await run.decode());
await run.release();`),
    ],
    metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
    nbformat: 4,
    nbformat_minor: 4,
  };
  await Deno.writeTextFile(`${dir}/outside.ipynb`, JSON.stringify(nb));
  const run = await new Deno.Command("jupyter", {
    args: ["nbconvert", "--to", "notebook", "--execute", "--output", "executed", "outside.ipynb"],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!run.success) {
    return [`nbconvert exited ${run.code}: ${new TextDecoder().decode(run.stderr).slice(-1500)}`];
  }
  const executed = JSON.parse(await Deno.readTextFile(`${dir}/executed.ipynb`)) as Notebook;
  const problems = compareNotebooks({
    cells: [{
      ...nb.cells[0],
      outputs: [{ output_type: "display_data", data: { "text/html": "" } }],
    }],
  }, executed);
  const extra = [...Deno.readDirSync(dir)].map((e) => e.name)
    .filter((n) => n === "node_modules" || n.startsWith("deno."));
  if (extra.length) problems.push(`the notebook's folder got ${extra.join(", ")}`);
  if (!problems.length) await Deno.remove(dir, { recursive: true });
  return problems;
}

async function main(args: string[]): Promise<number> {
  const update = args.includes("--update");
  const names = args.filter((a) => !a.startsWith("--"));
  const dir = join(ROOT, "examples");
  const all = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".ipynb"))
    .sort();
  const chosen = names.length ? names.map((n) => basename(n)) : all;
  for (const n of chosen) {
    if (!all.includes(n)) {
      console.error(`No notebook examples/${n}; have ${all.join(", ")}`);
      return 2;
    }
  }
  if (!(await hasJupyter())) {
    console.error(
      "jupyter nbconvert or the Deno kernel is missing: apt-get install jupyter-nbconvert " +
        "python3-nbclient python3-ipykernel, then npx --yes deno@2.9.6 jupyter --install",
    );
    return 3;
  }
  const out = await Deno.makeTempDir({ prefix: "mgd3-notebooks-" });
  let failed = 0;
  for (const n of chosen) {
    const start = performance.now();
    const run = await new Deno.Command("jupyter", {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--ExecutePreprocessor.timeout=1800",
        "--output-dir",
        out,
        join(dir, n),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const secs = ((performance.now() - start) / 1000).toFixed(0);
    if (!run.success) {
      const err = new TextDecoder().decode(run.stderr).split("\n").slice(-25).join("\n");
      console.error(`FAILED ${n} (${secs} s): nbconvert exited ${run.code}\n${err}`);
      failed++;
      continue;
    }
    const committed = JSON.parse(await Deno.readTextFile(join(dir, n))) as Notebook;
    const executed = JSON.parse(await Deno.readTextFile(join(out, n))) as Notebook;
    const problems = compareNotebooks(committed, executed);
    if (problems.length) {
      console.error(`FAILED ${n} (${secs} s):\n  ${problems.join("\n  ")}`);
      failed++;
    } else {
      console.log(`ok ${n} (${secs} s)`);
      if (update) await Deno.copyFile(join(out, n), join(dir, n));
    }
  }
  if (!names.length) {
    const start = performance.now();
    const problems = await outsideNotebook();
    const secs = ((performance.now() - start) / 1000).toFixed(0);
    if (problems.length) {
      console.error(`FAILED a notebook outside the repo (${secs} s):\n  ${problems.join("\n  ")}`);
      failed++;
    } else console.log(`ok a notebook outside the repo imports mod.ts by path (${secs} s)`);
  }
  console.log(`notebooks: ${failed ? "some" : "all"} passed, ${failed} failed (outputs in ${out})`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
