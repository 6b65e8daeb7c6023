/**
 * The markdown of a table's results: the table with the paper's number beside ours (one line
 * per method with paper and ours side by side for tables of at most six columns, else one
 * line per cell), the per-class table of a metrics table, what was not run and why, the
 * notes and the settings.
 *
 * @module
 */
import type { CellResult, TableResults, TableValue } from "./results.ts";
import { COVERAGE_LEGEND, formatCoverageTable } from "../metrics/coverage_table.ts";
import { CI_LEVEL } from "./paired.ts";

/** Tables with at most this many columns print one line per method (paper, ours side by side). */
const WIDE_MAX_COLUMNS = 6;

const fmt = (v: TableValue | null, digits: number) =>
  v === null
    ? "—"
    : `${v.mean.toFixed(digits)}${v.std === null ? "" : ` ± ${v.std.toFixed(digits)}`}`;

const signed = (x: number, digits: number) => `${x >= 0 ? "+" : ""}${x.toFixed(digits)}`;

/**
 * The paired differences of the run cells that have a baseline (eval/tables/paired.ts): one
 * line each, "method - baseline", the difference, its CI and whether it is resolved.
 */
function pairedLines(r: TableResults, digits: number): string[] {
  const withBase = r.cells.filter((c) => c.status === "run" && c.ours && c.baseline);
  if (!withBase.length) return [];
  const pct = Math.round(100 * CI_LEVEL);
  return [
    "",
    `Paired differences to the baseline (top-1 points, ${pct}% bootstrap CI over seeds and val ` +
    "images; resolved = the CI excludes 0):",
    "",
    "| column | method - baseline | difference | CI | resolved | seeds x val images |",
    "| --- | --- | ---: | ---: | --- | ---: |",
    ...withBase.map((c) => {
      const b = c.baseline!, p = c.paired;
      const vs = `${c.row} - ${b.column === c.column ? b.row : b.column}`;
      if (!p) return `| ${c.column} | ${vs} | — | no per-image results on both sides | — | — |`;
      return `| ${c.column} | ${vs} | ${signed(p.diff, digits)} | [${signed(p.lo, digits)}, ${
        signed(p.hi, digits)
      }] | ${p.resolved ? "**yes**" : "no"} | ${p.seeds} x ${p.images} |`;
    }),
  ];
}

/**
 * The markdown report: the table (paper beside ours), the per-class table of metrics tables,
 * what was not run and why, the notes and the settings.
 *
 * @example
 * ```ts
 * import { formatMarkdown } from "./markdown.ts";
 * console.log(formatMarkdown(results, { package: "0.1.0", commit: null, dirty: false }));
 * ```
 */
export function formatMarkdown(
  r: TableResults,
  code: { package: string; commit: string | null; dirty: boolean },
): string {
  const digits = r.kind === "metrics" ? 2 : 1;
  const reasons: string[] = [];
  const ref = (why: string) => {
    if (!reasons.includes(why)) reasons.push(why);
    return `[${reasons.indexOf(why) + 1}]`;
  };
  const ours = (c: CellResult) => {
    if (c.status === "quoted") return "(quoted)";
    if (c.status === "dropped") return `— ${ref("not in --quick")}`;
    if (c.status === "unavailable") return `not run ${ref(c.reason ?? "unavailable")}`;
    return c.ours ? fmt(c.ours, digits) : "pending";
  };
  const s = r.settings;
  const runs = [...new Set(r.cells.flatMap((c) => c.ours?.runs ?? []))];
  const lines = [
    `# ${r.title}`,
    "",
    `Scale: **${s.scale}** — ${s.models}. Seeds ${(s.seeds as number[]).join(", ")}` +
    `${s.quick ? " (--quick)" : ""}. Paper numbers: ${r.source}.`,
  ];
  if (s.scale === "cpu") {
    lines.push(
      "",
      "cpu-scale numbers (64 px, TAEF2 latents, the toolkit's U-Net in place of DiT-XL/2, a short " +
        "training schedule) compare methods with each other; they are not comparable with the paper's " +
        "224 px numbers.",
    );
  }
  if (s.networks && r.kind !== "metrics") {
    lines.push(
      "",
      `Evaluated with --networks ${(s.networks as string[]).join(", ")} instead of the table's.`,
    );
  }
  if (s.cpuNetworks && r.kind !== "metrics") lines.push("", s.cpuNetworks as string);
  if (r.kind !== "metrics" && runs.length) {
    const n = runs.join(" or ");
    lines.push("", `Ours: mean ± std (population, as the paper) over ${n} run(s) per cell.`);
  }
  const columns = [...new Set(r.cells.map((c) => c.column))];
  const rows = [...new Set(r.cells.map((c) => c.row))];
  lines.push("");
  if (columns.length <= WIDE_MAX_COLUMNS && r.kind !== "sweep") {
    const at = new Map(r.cells.map((c) => [`${c.row}\u0000${c.column}`, c]));
    lines.push(
      `| method | ${columns.map((c) => `${c} paper | ${c} ours`).join(" | ")} |`,
      `| --- | ${columns.map(() => "---: | ---:").join(" | ")} |`,
      ...rows.map((row) =>
        `| ${row} | ${
          columns.map((col) => {
            const c = at.get(`${row}\u0000${col}`)!;
            return `${fmt(c.paper, digits)} | ${ours(c)}`;
          }).join(" | ")
        } |`
      ),
    );
  } else {
    lines.push(
      "| column | method | paper | ours |",
      "| --- | --- | ---: | ---: |",
      ...r.cells.filter((c) => c.status !== "dropped").map((c) =>
        `| ${c.column} | ${c.row} | ${fmt(c.paper, digits)} | ${ours(c)} |`
      ),
    );
    if (s.quick && r.cells.some((c) => c.status === "dropped")) lines.push("", `${s.quickNote}.`);
  }
  if (r.kind !== "metrics") lines.push(...pairedLines(r, digits));
  if (r.classwise) {
    const methods = Object.keys(r.classwise[0].ours);
    lines.push(
      "",
      "Class-wise average diversity (paper Table 9 layout):",
      "",
      `| class | ${methods.map((m) => `${m} paper | ${m} ours`).join(" | ")} |`,
      `| --- | ${methods.map(() => "---: | ---:").join(" | ")} |`,
      ...r.classwise.map((row) =>
        `| ${row.className} | ${
          methods.map((m) => `${row.paper[m] ?? "—"} | ${row.ours[m].toFixed(2)}`).join(" | ")
        } |`
      ),
    );
  }
  if (r.coverage?.length) {
    lines.push(
      "",
      "Mode coverage (first seed's samples, the modes they were drawn from):",
      "",
      formatCoverageTable({ rows: r.coverage }),
      "",
      COVERAGE_LEGEND,
    );
  }
  if (reasons.length) {
    lines.push("", "Not run:", "", ...reasons.map((why, i) => `${i + 1}. ${why}`));
  }
  if (r.claims?.length) {
    lines.push("", "The paper says:", "", ...r.claims.map((c) => `- ${c}`));
  }
  if (r.findings?.length) lines.push("", "Ours:", "", ...r.findings.map((f) => `- ${f}`));
  if (r.notes.length) lines.push("", "Notes:", "", ...r.notes.map((n) => `- ${n}`));
  const version = code.commit
    ? `${code.package}+${code.commit.slice(0, 7)}${code.dirty ? "-dirty" : ""}`
    : code.package;
  lines.push("", `Settings: \`${JSON.stringify(s)}\`; code ${version}.`, "");
  return lines.join("\n");
}
