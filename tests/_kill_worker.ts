/**
 * Worker of tests/store_kill_test.ts: `deno run -A _kill_worker.ts <store> <classes> <point>
 * [stage]` runs one stage (sample, the default; discover; decode; encode) on a fixture store
 * (tests/_store_fixture.ts) and prints its report as JSON.
 * With a kill point `<n>:partial` it stops inside its n-th temporary-file write after half
 * the bytes; with `<n>:synced`, after the n-th temporary file is complete and synced but
 * before it is renamed (or linked) into place. There it prints KILL-POINT and waits for the
 * test to kill it with SIGKILL. Point `none` runs to the end.
 */
import { Store } from "../stages/store/store.ts";
import { sample } from "../stages/sample.ts";
import { discover } from "../stages/discover.ts";
import { decode } from "../stages/decode.ts";
import { encode } from "../stages/encode.ts";
import { setProgressMode } from "../stages/progress.ts";
import { FIXTURE_SAMPLE, fixtureCodec, fixtureModel } from "./_store_fixture.ts";

const [root, classes, point, stage = "sample"] = Deno.args;
if (point !== "none") armKillPoint(point);
setProgressMode("silent");
const store = await Store.open(root);
const report = stage === "sample"
  ? await sample(store, fixtureModel(Number(classes)), FIXTURE_SAMPLE)
  : stage === "discover"
  ? await discover(store, {
    latents: "latents",
    out: "modes-out",
    modes: { method: "kmeans", k: 2, seed: 0 },
  })
  : stage === "decode"
  ? await decode(store, fixtureCodec(), { samples: "latents", out: "decoded", batchSize: 5 })
  : await encode(store, fixtureCodec(), {
    data: new URL("../data/imagenette-64/train", import.meta.url).pathname,
    classes: ["n01440764", "n02102040", "n02979186"],
    classIds: "label",
    out: "encoded",
    limit: 6,
    resize: "center_crop_arr",
    dtype: "F32",
    flip: false,
    onError: "throw",
    batchSize: 4,
    shard: { index: 0, count: 1 },
    overwrite: false,
  });
console.log(JSON.stringify(report));

function armKillPoint(point: string): void {
  const [n, mode] = [Number(point.split(":")[0]), point.split(":")[1]];
  const deno = Deno as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const temps = new Map<string, number>();
  const open = deno.open;
  deno.open = async (path, options) => {
    const file = await open(path, options) as Deno.FsFile;
    if (String(path).endsWith(".tmp") && (options as Deno.OpenOptions | undefined)?.write) {
      temps.set(String(path), temps.size + 1);
      if (temps.size === n && mode === "partial") {
        const write = file.write.bind(file);
        file.write = async (p: Uint8Array) => {
          await write(p.subarray(0, Math.max(1, p.length >> 1)));
          await file.sync();
          return await waitForKill();
        };
      }
    }
    return file;
  };
  for (const name of ["rename", "link"]) {
    const real = deno[name];
    deno[name] = async (from, to) => {
      if (mode === "synced" && temps.get(String(from)) === n) await waitForKill();
      return await real(from, to);
    };
  }
}

function waitForKill(): Promise<never> {
  console.log("KILL-POINT");
  setInterval(() => {}, 1000); // keeps the process alive until the SIGKILL
  return new Promise(() => {});
}
