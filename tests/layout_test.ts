// The layering rules of the README's "Layout", checked on the source's own import statements:
// arrows run eval -> stages -> models (cli, examples, tools, bench and mod.ts on top), the
// models/ rooms keep their order, no two files import each other through any chain, and a
// `_` file is imported only from its own folder.
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));
const SOURCE_DIRS = ["models", "stages", "eval", "cli", "notebook", "examples", "tools", "bench"];

/** Layer of each top folder, and of each room of models/: a file may import only its own layer or lower. */
const LAYERS: [string, number][] = [
  ["models/core/", 0],
  ["models/io/", 1],
  ["models/diffusion/", 1],
  ["models/text/", 1],
  ["models/graph/", 2],
  ["models/codecs/", 3],
  ["models/nets/", 3],
  ["models/train/", 4],
  ["models/", 5], // models/*.ts (the scale loader) sits on every room
  ["stages/", 6],
  ["eval/", 7],
  ["cli/", 8],
  ["examples/", 8],
  ["notebook/", 8],
  ["tools/", 8],
  ["bench/", 8],
  ["tests/", 8], // test helpers that the benchmarks share
  ["mod.ts", 9],
  ["cli.ts", 9],
];

function layer(path: string): number {
  for (const [prefix, l] of LAYERS) if (path === prefix || path.startsWith(prefix)) return l;
  return 10; // tests and anything else: free to import everything
}

async function sourceFiles(): Promise<string[]> {
  const out = ["mod.ts", "cli.ts"];
  async function walk(dir: string) {
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory && e.name !== "node_modules" && e.name !== "fixtures") await walk(p);
      else if (e.isFile && p.endsWith(".ts")) out.push(p);
    }
  }
  for (const d of SOURCE_DIRS) await walk(d);
  return out.sort();
}

/** Relative import targets of a file (static `import`/`export ... from`), comments removed. */
function imports(path: string, text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const re = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.{1,2}\/[^"]+)"/g;
  const out: string[] = [];
  for (const m of code.matchAll(re)) {
    const target = normalize(join(dirname(path), m[1]));
    if (target.endsWith(".ts")) out.push(relative(".", target));
  }
  return out;
}

const graph = new Map<string, string[]>();
for (const f of await sourceFiles()) {
  graph.set(f, imports(f, await Deno.readTextFile(join(ROOT, f))));
}

Deno.test("layout: every import points to the same layer or one below (eval -> stages -> models)", () => {
  const up: string[] = [];
  for (const [f, targets] of graph) {
    for (const t of targets) if (layer(t) > layer(f)) up.push(`${f} -> ${t}`);
  }
  assert.deepEqual(up, [], `imports that run back up:\n${up.join("\n")}`);
});

Deno.test("layout: no file reaches a `_` file of another folder", () => {
  const bad: string[] = [];
  for (const [f, targets] of graph) {
    for (const t of targets) {
      const base = t.split("/").pop()!;
      if (base.startsWith("_") && dirname(t) !== dirname(f)) bad.push(`${f} -> ${t}`);
    }
  }
  assert.deepEqual(bad, [], `private files imported from another folder:\n${bad.join("\n")}`);
});

Deno.test("layout: the import graph has no circle", () => {
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      circles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, "done");
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(circles, [], `import circles:\n${circles.join("\n")}`);
});

Deno.test("layout: the checker sees the imports it checks (a known arrow is found)", () => {
  assert.ok(graph.get("stages/sample.ts")?.includes("stages/diffusion/sampler.ts"));
  assert.ok(graph.get("models/graph/graph.ts")?.includes("models/graph/_emit.ts"));
  assert.ok(graph.size > 150, `only ${graph.size} source files found`);
});
