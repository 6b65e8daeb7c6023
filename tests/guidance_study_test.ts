import assert from "node:assert/strict";
import { randomModel } from "./_tiny_model.ts";
import type { GuidanceResponse } from "../eval/guidance_response.ts";
import { pullDiagnostics } from "../tools/_guidance_report.ts";

const STUDY = new URL("../tools/guidance_study.ts", import.meta.url).pathname;
const DATA = new URL("../data/imagenette-64", import.meta.url).pathname;

async function study(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", STUDY, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, `study failed:\n${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test("study:guidance measures the unguided set and each lambda x t_stop point, writes JSON, markdown and plot, and resumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-study-" });
  await randomModel(`${dir}/model.safetensors`);
  const args = [
    ...["--store", `${dir}/store`, "--out", `${dir}/out`, "--model", `${dir}/model.safetensors`],
    ...["--data", DATA, "--classes", "n01440764,n02102040", "--ipc", "2", "--steps", "3"],
    ...["--lambda", "1", "--t-stop", "1,0", "--judge", "none", "--progress", "silent"],
  ];
  const md = await study(args);
  const r: GuidanceResponse = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  assert.deepEqual(r.points.map((p) => [p.lambda, p.tStop]), [[0, null], [1, 1], [1, 0]]);
  assert.equal(r.points[0].shiftFromUnguided, 0); // the unguided set is its own twin
  // Originals are nearer their nearest mode than their class mean (a mode is the nearer centre).
  assert.ok(r.originals!.toNearestMode < r.originals!.toClassMean);
  assert.ok(r.points[1].shiftFromUnguided > 0, "guidance moved the samples");
  assert.deepEqual(r.points[1].coverage.map((c) => c.space), ["latent", "tsne"]);
  assert.equal(r.points[1].coverage[0].modes, 4); // 2 classes x IPC 2
  assert.match(md, /\| 4 \| fixed_small \| 1 \| 0 \| \d+\.\d{3} \|/);
  assert.ok((await Deno.stat(`${dir}/out/guidance_response.png`)).size > 1000);
  // A rerun reuses every point (none sampled again).
  await study(args);
  const again: GuidanceResponse = JSON.parse(await Deno.readTextFile(`${dir}/out/results.json`));
  assert.deepEqual(again.points, r.points);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("pullDiagnostics(): fixed-small and fixed-large sigmas sum alike over guided steps; guidance stops at low signal", () => {
  const [t25, t0] = pullDiagnostics(50, 1000, [25, 0]);
  // 24 guided steps (indices 49..26): the two variances differ by under 1% there.
  assert.ok(Math.abs(t25.sumSigmaSmall / t25.sumSigmaLarge - 1) < 0.01);
  assert.ok(t0.sumSigmaSmall > t25.sumSigmaSmall);
  // sqrt(abar) at respaced index 25 (train step 510) of DiT's linear schedule: 0.265.
  assert.ok(Math.abs(t25.signalAtStop - 0.265) < 0.005, `${t25.signalAtStop}`);
});
