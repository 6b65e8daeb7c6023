/**
 * The guidance study's figure points and markdown (tools/guidance_study.ts), and the
 * schedule-only diagnostic of how hard a DDPM step can push: the sum over guided steps of the
 * step's sigma under fixed-small and fixed-large variance (the mean moves by lambda sigma_t g).
 *
 * @module
 */
import type { GuidanceResponse } from "../eval/guidance_response.ts";
import type { GuidancePoint } from "../eval/plots/guidance_plot.ts";
import { GaussianSchedule, makeBetas, spaceTimesteps } from "../models/diffusion/schedule.ts";
import { guidanceActive } from "../stages/diffusion/guidance.ts";

/** Figure panels: name and value of a point (NaN: not measured). */
const PANELS: [string, (p: GuidanceResponse["points"][number]) => number][] = [
  ["to its mode (latent RMS)", (p) => p.coverage[0].meanToMode],
  ["mode's nearest sample is its own (latent, %)", (p) => 100 * p.coverage[0].guidedNearestShare],
  ["modes covered (latent, of all)", (p) => p.coverage[0].covered],
  ["moved from the unguided twin (latent RMS)", (p) => p.shiftFromUnguided],
  ["diversity (t-SNE, class scale)", (p) => p.coverage[1]?.diversity ?? NaN],
  ["judge top-1 on the samples (%)", (p) => p.judgeTop1 ?? NaN],
];

/**
 * The figure's points: each panel against lambda, one series per (CFG, variance, t_stop); the
 * unguided point (lambda 0) starts every series of its CFG and variance.
 *
 * @example
 * ```ts
 * import { guidancePoints } from "./_guidance_report.ts";
 * const pts = guidancePoints(JSON.parse(await Deno.readTextFile("docs/guidance_study/results.json")));
 * ```
 */
export function guidancePoints(r: GuidanceResponse): GuidancePoint[] {
  const out: GuidancePoint[] = [];
  const setting = (p: GuidanceResponse["points"][number]) => `CFG ${p.cfg} ${p.variance}`;
  // The stops measured with the same CFG and variance (the unguided point starts each line).
  const stops = (q: GuidanceResponse["points"][number]) => [
    ...new Set(
      r.points.filter((p) => setting(p) === setting(q) && p.tStop !== null).map((p) => p.tStop!),
    ),
  ];
  for (const p of r.points) {
    for (const t of p.tStop === null ? stops(p) : [p.tStop]) {
      for (const [panel, f] of PANELS) {
        out.push({ panel, lambda: p.lambda, series: `${setting(p)} t_stop ${t}`, value: f(p) });
      }
    }
  }
  return out;
}

/**
 * Per t_stop: sum of sigma_t over the guided steps (fixed-small and fixed-large), and the share
 * of x_t that is signal (sqrt(abar)) when guidance stops.
 *
 * @example
 * ```ts
 * import { pullDiagnostics } from "./_guidance_report.ts";
 * pullDiagnostics(50, 1000, [25])[0]; // { tStop: 25, sumSigmaSmall: 12.3, sumSigmaLarge: 12.3, signalAtStop: 0.27 }
 * ```
 */
export function pullDiagnostics(steps: number, trainSteps: number, tStops: readonly number[]) {
  const s = GaussianSchedule.fromBetas(makeBetas(trainSteps)).respace(
    spaceTimesteps(trainSteps, String(steps)),
  );
  return tStops.map((tStop) => {
    let small = 0, large = 0;
    for (let i = steps - 1; i >= 0; i--) {
      if (!guidanceActive(i, tStop)) continue;
      small += Math.exp(0.5 * s.posteriorLogVarianceClipped[i]);
      large += Math.exp(0.5 * s.fixedLargeLogVariance(i));
    }
    const signalAtStop = Math.sqrt(s.alphasCumprod[Math.min(tStop, steps - 1)]);
    return { tStop, sumSigmaSmall: small, sumSigmaLarge: large, signalAtStop };
  });
}

/** Digits in the study's table. */
const DIGITS = 3;

/**
 * The study's markdown: one line per grid point, the judge, the schedule diagnostic and the
 * command.
 *
 * @example
 * ```ts
 * import { guidanceMarkdown } from "./_guidance_report.ts";
 * console.log(guidanceMarkdown(r, { command: "deno task study:guidance", judge: "none", pull: [] }));
 * ```
 */
export function guidanceMarkdown(
  r: GuidanceResponse,
  o: { command: string; judge: string; pull: ReturnType<typeof pullDiagnostics> },
): string {
  const f = (x: number | undefined | null) =>
    x === undefined || x === null || !Number.isFinite(x) ? "—" : x.toFixed(DIGITS);
  const pct = (x: number | undefined) => (x === undefined ? "—" : `${(100 * x).toFixed(0)}%`);
  return [
    "# Guidance response of the cpu-scale model",
    "",
    "| CFG | variance | lambda | t_stop | to mode (latent RMS) | median | own nearest (chance) | " +
    "covered | moved from unguided | to mode (t-SNE) | own nearest (t-SNE) | diversity (t-SNE) | " +
    "representativeness (t-SNE) | judge top-1 |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.points.map((p) => {
      const [l, t] = [p.coverage[0], p.coverage[1]];
      return `| ${p.cfg} | ${p.variance} | ${p.lambda} | ${p.tStop ?? "—"} | ${f(l.meanToMode)} | ${
        f(l.medianToMode)
      } | ${pct(l.guidedNearestShare)} (${pct(l.chance)}) | ${l.covered}/${l.modes} | ${
        f(p.shiftFromUnguided)
      } | ${f(t?.meanToMode)} | ${pct(t?.guidedNearestShare)} | ${f(t?.diversity)} | ${
        f(t?.representativeness)
      } | ${p.judgeTop1 === null ? "—" : `${p.judgeTop1.toFixed(1)}%`} |`;
    }),
    "",
    `Yardsticks (latent RMS per coordinate): modes lie ${
      f(r.points[0]?.coverage[0].modeSpacing)
    } from their nearest other mode; the original images lie ${
      f(r.originals?.toNearestMode)
    } from their nearest mode and ${
      f(r.originals?.toClassMean)
    } from their class mean. Judge: ${o.judge}.`,
    "",
    "How hard a DDPM step can push (the guided mean moves by lambda sigma_t g, g = mode - x0_hat):",
    "",
    "| t_stop | sum of sigma_t over guided steps, fixed-small | fixed-large | sqrt(abar) when guidance stops |",
    "| ---: | ---: | ---: | ---: |",
    ...o.pull.map((d) =>
      `| ${d.tStop} | ${f(d.sumSigmaSmall)} | ${f(d.sumSigmaLarge)} | ${f(d.signalAtStop)} |`
    ),
    "",
    `Command: \`${o.command}\`; settings ${JSON.stringify(r.settings)}.`,
    "",
  ].join("\n");
}
