/**
 * No silent misconfiguration on the command line: options that can never do what they say
 * are refused before anything is written (usage errors exit 2, naming the flags), numbers
 * are plain decimals, every stage checks the kind of the artifact it is given, and
 * `--classes` takes one wnid.
 */
import assert from "node:assert/strict";
import { capture } from "./_cli_capture.ts";
import { randomModel } from "./_tiny_model.ts";
import { IMAGENETTE_224 } from "./shared.ts";
import { Store } from "../stages/store/store.ts";
import { Rng } from "../models/core/random.ts";
import { parseDecimal } from "../models/core/decimal.ts";

const HAVE_DATA = await Deno.stat(`${IMAGENETTE_224}/val`).then(() => true, () => false);

/** A tiny model (32x8x8 latents, 3 classes) and a store with modes and latents artifacts. */
async function setup(): Promise<{ dir: string; model: string; store: string }> {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-cli-options-" });
  const model = `${dir}/unet.safetensors`;
  await randomModel(model);
  const store = await Store.open(`${dir}/store`);
  const rng = Rng.from(1);
  for (const [name, kind, tensor] of [["modes", "modes", "modes"], ["lat", "latents", "latents"]]) {
    const a = await store.artifact(name, { kind, options: {}, seed: 0 });
    for (const c of [0, 1]) {
      await a.writeShard(`class-00${c}`, {
        [tensor]: { dtype: "F32", shape: [2, 32, 8, 8], data: rng.randn(2 * 32 * 8 * 8) },
      }, { class: String(c), name: `c${c}` });
    }
  }
  return { dir, model, store: store.root };
}

const fixture = await setup();

/** Runs `mgd3 <cmd> --store <fixture store> ...args` silently. */
function mgd3(cmd: string, ...args: string[]) {
  return capture([cmd, "--store", fixture.store, ...args, "--progress", "silent"]);
}

/** `mgd3 sample` on the fixture's modes with the tiny model. */
function sampleCli(out: string, ...args: string[]) {
  return mgd3("sample", "--unet", fixture.model, "--modes", "modes", "--out", out, ...args);
}

async function hasArtifact(name: string): Promise<boolean> {
  return await (await Store.open(fixture.store)).has(name);
}

Deno.test("mgd3 sample refuses mode guidance that would act on no step (t-stop at or above steps-1), status 2, naming --lambda, --t-stop and --steps", async () => {
  // Default lambda 0.1, t-stop 25 with 4 steps: indices 3..0 are never > 25.
  const r = await sampleCli("never", "--steps", "4");
  assert.equal(r.status, 2, r.err);
  assert.match(r.err, /--lambda\) would act on no step/);
  assert.match(r.err, /guidance\.tStop 25 \(--t-stop\)/);
  assert.match(r.err, /starts at respaced index 3 \(steps 4, --steps\)/);
  assert.equal(await hasArtifact("never"), false);
  // Exact: the first index run is steps-1, and guidance acts while index > t-stop.
  assert.equal((await sampleCli("never", "--steps", "3", "--t-stop", "2")).status, 2);
  assert.equal((await sampleCli("never", "--steps", "50", "--t-stop", "49")).status, 2);
  // D4M start floor(50 * 0.5) - 1 = 24 is below t-stop 25.
  const d4m = await sampleCli("never", "--steps", "50", "--strength", "0.5");
  assert.equal(d4m.status, 2);
  assert.match(d4m.err, /index 24 \(steps 50, --steps; strength 0\.5, --strength\)/);
  assert.equal(await hasArtifact("never"), false);
  // One guided step (index 2 > 1) runs, and lambda 0 (no guidance) runs with any t-stop.
  const ok = await sampleCli("guided", "--steps", "3", "--t-stop", "1");
  assert.equal(ok.status, 0, ok.err);
  const guidance = (await (await Store.open(fixture.store)).open("guided")).manifest.options
    .guidance;
  assert.deepEqual(guidance, { lambda: 0.1, tStop: 1 });
  const plain = await sampleCli("plain", "--steps", "3", "--t-stop", "2", "--lambda", "0");
  assert.equal(plain.status, 0, plain.err);
});

Deno.test("mgd3 sample --cfg-channels takes all or 1..C (the model's latent channels), checked against the model, status 2 naming the flag", async () => {
  const r = await sampleCli("cfg", "--steps", "2", "--lambda", "0", "--cfg-channels", "70");
  assert.equal(r.status, 2, r.err);
  assert.match(
    r.err,
    /--cfg-channels\) must be "all" or an integer in 1\.\.32 \(the model's latent/,
  );
  assert.equal(await hasArtifact("cfg"), false);
  for (const bad of ["0", "0x3", "3.0", "three"]) {
    const b = await sampleCli("cfg", "--steps", "2", "--lambda", "0", "--cfg-channels", bad);
    assert.equal(b.status, 2, `--cfg-channels ${bad}`);
    assert.match(b.err, /--cfg-channels/);
  }
  assert.equal(await hasArtifact("cfg"), false);
  const help = await mgd3("sample", "--help");
  assert.match(help.out, /--cfg-channels <value>\s+latent channels CFG guides: all .* 1\.\.C/);
  const seven = await sampleCli("cfg7", "--steps", "2", "--lambda", "0", "--cfg-channels", "7");
  assert.equal(seven.status, 0, seven.err);
});

Deno.test("every stage checks the kind of the artifact it is given, naming the artifact, the kind found and the kind expected", async () => {
  const d = await mgd3("decode", "--unet", fixture.model, "--samples", "modes", "--out", "dec");
  assert.equal(d.status, 1);
  assert.match(
    d.err,
    /Artifact 'modes' \(.*\/modes\) is a 'modes' artifact; decode option samples \(--samples\) expects 'samples' or 'latents'/,
  );
  assert.equal(await hasArtifact("dec"), false);
  const disc = await mgd3("discover", "--latents", "modes", "--out", "m2");
  assert.match(
    disc.err,
    /'modes' \(.*\) is a 'modes' artifact; discover option latents .* expects 'latents'/,
  );
  const s = await mgd3("sample", "--unet", fixture.model, "--modes", "lat", "--out", "s");
  assert.match(s.err, /'lat' .* is a 'latents' artifact; sample option modes .* expects 'modes'/);
  const m = await mgd3("metrics", "--latents", "lat", "--samples", "X=modes", "--out", "met");
  assert.match(
    m.err,
    /'modes' .* is a 'modes' artifact; metrics option samples \(--samples X=modes\) expects 'samples'/,
  );
  for (const name of ["m2", "s", "met"]) assert.equal(await hasArtifact(name), false, name);
});

Deno.test("a --shard that is not i/n with i < n is a usage error (status 2) in every command that takes it", async () => {
  const runs = [
    ["encode", "--unet", fixture.model, "--data", `${fixture.dir}/none`, "--out", "e"],
    ["discover", "--latents", "lat", "--out", "d"],
    ["sample", "--unet", fixture.model, "--modes", "modes", "--out", "s", "--steps", "2"],
    ["decode", "--unet", fixture.model, "--samples", "lat", "--out", "x"],
  ];
  for (const [cmd, ...args] of runs) {
    for (const shard of ["3/2", "1/1", "0/0", "a/b"]) {
      const r = await mgd3(cmd, ...args, "--shard", shard);
      assert.equal(r.status, 2, `${cmd} --shard ${shard}: ${r.err}`);
      assert.match(r.err, /--shard must be i\/n with 0 <= i < n/);
    }
  }
});

Deno.test("numbers in flags are plain decimals: 0x2, 1e1, 0b1, ' 2' and '' are usage errors (status 2) naming the flag", async () => {
  for (const ipc of ["0x2", "1e1", "0b1", " 2", "", "2.0", "+2"]) {
    const r = await mgd3("discover", "--latents", "lat", "--out", "d", "--ipc", ipc);
    assert.equal(r.status, 2, `--ipc '${ipc}': ${r.err}`);
    assert.match(r.err, /--ipc must be a decimal integer >= 1/);
  }
  const eps = await mgd3(
    "discover",
    "--latents",
    "lat",
    "--out",
    "dbs",
    "--method",
    "dbscan",
    "--ipc",
    "2",
  );
  assert.equal(eps.status, 0, eps.err); // without --eps 1e-3 the same command runs
  const bad = [
    [
      "discover",
      "--latents",
      "lat",
      "--out",
      "d",
      "--method",
      "dbscan",
      "--ipc",
      "2",
      "--eps",
      "1e-3",
    ],
    ["discover", "--latents", "lat", "--out", "d", "--seed", "0x0"],
    ["sample", "--unet", fixture.model, "--modes", "modes", "--out", "s", "--lambda", "1e-1"],
    ["sample", "--unet", fixture.model, "--modes", "modes", "--out", "s", "--cfg", "4e0"],
    ["sample", "--unet", fixture.model, "--modes", "modes", "--out", "s", "--steps", "0x4"],
    ["metrics", "--latents", "lat", "--samples", "X=lat", "--out", "t", "--seed", "1e1"],
    ["eval", "--name", "e", "--train", "t", "--val", "v", "--seeds", "0,1e0"],
  ];
  for (const [cmd, ...args] of bad) {
    const r = await mgd3(cmd, ...args);
    assert.equal(r.status, 2, `${cmd} ${args.join(" ")}: ${r.err}`);
    assert.match(r.err, /must be a (decimal integer|plain decimal number)/);
  }
  assert.equal(await hasArtifact("d"), false);
});

Deno.test("parseDecimal() takes plain decimal integers and floats only", () => {
  assert.equal(parseDecimal("10", "integer"), 10);
  assert.equal(parseDecimal("-1", "integer"), -1);
  assert.equal(parseDecimal("0.1", "float"), 0.1);
  assert.equal(parseDecimal("4", "float"), 4);
  assert.equal(parseDecimal(".5", "float"), 0.5);
  for (const t of ["0x2", "1e1", "0b1", "0o7", " 2", "2 ", "", "+2", "2.0", "Infinity", "NaN"]) {
    assert.equal(parseDecimal(t, "integer"), null, `integer '${t}'`);
  }
  assert.equal(parseDecimal("99999999999999999999", "integer"), null); // beyond 2^53
  for (const t of ["1e-1", "0x1", " 1", "", "1.2.3", "-", ".", "Infinity", "1,5"]) {
    assert.equal(parseDecimal(t, "float"), null, `float '${t}'`);
  }
});

Deno.test({
  name:
    "--classes takes a single wnid (encode, eval); a misspelt preset is a usage error (status 2)",
  ignore: !HAVE_DATA,
  async fn() {
    const data = `${IMAGENETTE_224}/val`;
    const enc = (out: string, classes: string) =>
      mgd3(
        "encode",
        "--unet",
        fixture.model,
        "--data",
        data,
        "--classes",
        classes,
        "--limit",
        "1",
        "--out",
        out,
      );
    const r = await enc("one", "n01440764");
    assert.equal(r.status, 0, r.err);
    const art = await (await Store.open(fixture.store)).open("one");
    assert.deepEqual(art.manifest.options.classes, ["n01440764"]);
    assert.deepEqual(await art.shards(), ["class-000"]);
    const typo = await enc("typo", "imagenete");
    assert.equal(typo.status, 2);
    assert.match(typo.err, /--classes: Unknown class preset 'imagenete'/);
    // eval: one wnid gets past the class list to the (missing) train folder.
    const ev = (classes: string) =>
      mgd3(
        "eval",
        "--name",
        "e",
        "--train",
        `${fixture.dir}/none`,
        "--val",
        data,
        "--classes",
        classes,
      );
    const one = await ev("n01440764");
    assert.equal(one.status, 1);
    assert.doesNotMatch(one.err, /class preset/);
    assert.equal((await ev("imagenete")).status, 2);
  },
});
