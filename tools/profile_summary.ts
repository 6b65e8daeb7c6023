/**
 * Summarises an onnxruntime profile (written by a session made with `profile: "<prefix>"`,
 * models/session.ts; e.g. `MGD3_BENCH_PROFILE=/tmp/p deno task bench:engine resnet18_64_train`):
 * time per op type and the slowest nodes with their input shapes, averaged over the profiled
 * runs after the first `--skip` (default 1, the warm-up).
 *
 * Usage: deno run -A tools/profile_summary.ts PROFILE.json [--skip 1] [--top 20]
 */
import { parseArgs } from "node:util";

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; input_type_shape?: unknown };
}

const { values: v, positionals } = parseArgs({
  args: Deno.args,
  strict: true,
  allowPositionals: true,
  options: { skip: { type: "string", default: "1" }, top: { type: "string", default: "20" } },
});
if (positionals.length !== 1) {
  console.error("Usage: deno run -A tools/profile_summary.ts PROFILE.json [--skip 1] [--top 20]");
  Deno.exit(2);
}
const events = JSON.parse(await Deno.readTextFile(positionals[0])) as TraceEvent[];
const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
const skip = Number(v.skip);
if (runs.length <= skip) {
  throw new Error(
    `${positionals[0]}: ${runs.length} profiled run(s), nothing left after --skip ${skip}`,
  );
}
const from = runs[skip].ts;
const n = runs.length - skip;
const nodes = events.filter((e) =>
  e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= from
);
const byOp = new Map<string, { us: number; count: number }>();
const byNode = new Map<string, { us: number; op: string; shapes: unknown }>();
for (const e of nodes) {
  const op = e.args?.op_name ?? "?";
  const o = byOp.get(op) ?? { us: 0, count: 0 };
  o.us += e.dur;
  o.count++;
  byOp.set(op, o);
  const k = byNode.get(e.name) ?? { us: 0, op, shapes: e.args?.input_type_shape };
  k.us += e.dur;
  byNode.set(e.name, k);
}
const total = [...byOp.values()].reduce((a, o) => a + o.us, 0);
const ms = (us: number) => (us / n / 1000).toFixed(1).padStart(8);
console.log(
  `${n} run(s): ${(runs.slice(skip).reduce((a, r) => a + r.dur, 0) / n / 1000).toFixed(1)} ms ` +
    `per run, ${ms(total).trim()} ms in nodes`,
);
console.log("\nop type                        ms/run  nodes/run  share");
for (const [op, o] of [...byOp].sort((a, b) => b[1].us - a[1].us)) {
  console.log(
    `${op.padEnd(28)} ${ms(o.us)} ${String(o.count / n).padStart(10)} ${
      (100 * o.us / total).toFixed(1).padStart(5)
    }%`,
  );
}
console.log("\nslowest nodes                                      ms/run  op  inputs");
for (const [name, k] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, Number(v.top))) {
  console.log(`${name.slice(0, 48).padEnd(48)} ${ms(k.us)}  ${k.op}  ${JSON.stringify(k.shapes)}`);
}
