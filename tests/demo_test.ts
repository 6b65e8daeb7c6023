import assert from "node:assert/strict";
import { randomModel } from "./_tiny_model.ts";

const DEMO = new URL("../examples/demo.ts", import.meta.url).pathname;
const DATA = new URL("../data/imagenette-64", import.meta.url).pathname;

async function demo(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", DEMO, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, `demo failed:\n${new TextDecoder().decode(out.stderr)}`);
  return text;
}

Deno.test("the demo runs the whole pipeline on the shipped subset, writes its report, and a rerun reuses the store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-demo-" });
  await randomModel(`${dir}/model.safetensors`);
  const args = [
    "--store",
    `${dir}/store`,
    "--model",
    `${dir}/model.safetensors`,
    "--data",
    DATA,
    "--classes",
    "n01440764,n02102040",
    "--ipc",
    "2",
    "--epochs",
    "1",
    "--progress",
    "silent",
  ];
  const first = await demo(args);
  assert.match(first, /\| MGD3 \| \d+\.\d \| 1 \|/);
  assert.match(first, /Report: .*report\.html/);
  // Mode coverage of both sets, in both spaces, out of 2 classes x 2 modes.
  for (const space of ["latent", "tsne"]) {
    for (const m of ["MGD3", "DiT"]) {
      assert.match(first, new RegExp(`\\| ${space} \\| ${m} \\| \\d+\\.\\d{3} \\|.* \\d\\/4 \\|`));
    }
  }
  const html = await Deno.readTextFile(`${dir}/store/report/demo-s0/report.html`);
  assert.match(html, /<img src="data:image\/png;base64,/);
  assert.match(html, /<svg/);
  const shard = `${dir}/store/samples/MGD3-s0/class-000.safetensors`;
  const before = (await Deno.stat(shard)).mtime!.getTime();
  await demo(args);
  assert.equal(
    (await Deno.stat(shard)).mtime!.getTime(),
    before,
    "the rerun rewrote a finished sample shard",
  );
  await assert.rejects(
    () => demo(["--model", `${dir}/missing.safetensors`, "--store", `${dir}/s2`]),
    /train:model/,
  );
});
