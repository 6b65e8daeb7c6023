/**
 * `mgd3 inspect PATH`: lists every tensor of a checkpoint (.pt/.pth/.bin, .safetensors,
 * a diffusers folder) or of a store artifact (a directory with manifest.json).
 *
 * @module
 */
import { describeCheckpoint } from "../models/io/checkpoint.ts";
import type { Command } from "./command.ts";

/** One printed row. */
interface Row {
  name: string;
  dtype: string;
  shape: number[];
}

/** The `inspect` command. */
export const inspectCommand: Command = {
  name: "inspect",
  summary: "Print every tensor (name, dtype, shape) in a checkpoint or store artifact.",
  flags: {
    json: { type: "boolean", description: "print JSON instead of a table" },
  },
  positionals: [{
    name: "PATH",
    description: "checkpoint file, diffusers folder, or store artifact directory",
  }],
  epilog: "Example: mgd3 inspect ../shared/models/taef2/taef2_encoder.pth",
  async run(values, [path]) {
    const sections = await describePath(path);
    if (values.json) {
      console.log(JSON.stringify(sections, null, 2));
      return;
    }
    for (const s of sections) {
      console.log(`# ${s.title}`);
      if (s.info) console.log(s.info);
      const width = Math.max(4, ...s.rows.map((r) => r.name.length));
      let total = 0;
      for (const r of s.rows) {
        total += r.shape.reduce((a, b) => a * b, 1);
        console.log(`${r.name.padEnd(width)}  ${r.dtype.padEnd(5)} [${r.shape.join(", ")}]`);
      }
      console.log(`${s.rows.length} tensors, ${total.toLocaleString("en-US")} elements`);
    }
  },
};

async function describePath(
  path: string,
): Promise<{ title: string; info?: string; rows: Row[] }[]> {
  const stat = await Deno.stat(path).catch(() => {
    throw new Error(`Cannot inspect ${path}: no such file or directory`);
  });
  if (stat.isDirectory) {
    const manifestText = await Deno.readTextFile(`${path}/manifest.json`).catch(() => null);
    if (manifestText !== null) {
      const m = JSON.parse(manifestText);
      const info = `kind=${m.kind} seed=${m.seed} dtype=${m.dtype} code=${m.code?.package}+${
        m.code?.commit?.slice(0, 7) ?? "?"
      } options=${JSON.stringify(m.options)}`;
      const shards = [];
      for await (const e of Deno.readDir(path)) {
        if (e.isFile && e.name.endsWith(".safetensors")) shards.push(e.name);
      }
      shards.sort();
      const out: { title: string; info?: string; rows: Row[] }[] = [{
        title: `${path} (artifact '${m.name}')`,
        info,
        rows: [],
      }];
      for (const s of shards) {
        out.push({ title: `${path}/${s}`, rows: await describeCheckpoint(`${path}/${s}`) });
      }
      return out;
    }
  }
  return [{ title: path, rows: await describeCheckpoint(path) }];
}
