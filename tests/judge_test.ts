/**
 * tools/judge_model.ts (the model card's quality check) end to end on the shipped subset with
 * a random tiny model: it trains the judge, samples, decodes, classifies and reports; a rerun
 * reuses the store; a class the model lacks is refused by name.
 */
import assert from "node:assert/strict";
import { randomModel } from "./_tiny_model.ts";

const JUDGE = new URL("../tools/judge_model.ts", import.meta.url).pathname;
const DATA = new URL("../data/imagenette-64", import.meta.url).pathname;

async function judge(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", JUDGE, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("judge:model trains the judge, classifies unguided samples per CFG scale, writes the report; a rerun reuses the store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mgd3-judge-" });
  try {
    await randomModel(`${dir}/model.safetensors`);
    const args = [
      ...["--model", `${dir}/model.safetensors`, "--data", DATA, "--subset", `${DATA}/train`],
      ...["--classes", "n01440764,n02102040", "--per-class", "2", "--cfg", "4.0,1.5"],
      ...["--epochs", "1", "--store", `${dir}/store`, "--progress", "silent"],
    ];
    const first = await judge(args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /\| CFG 4\.0 \| \*\*\d+\.\d%\*\* \| \d+ \/ \d+ \|/);
    assert.match(first.stdout, /\| CFG 1\.5 \| /);
    const reports = [...Deno.readDirSync(`${dir}/store/judge`)].map((e) => e.name);
    const report = reports.find((n) => n.startsWith("report"))!;
    const r = JSON.parse(await Deno.readTextFile(`${dir}/store/judge/${report}/results.json`));
    assert.deepEqual(r.classes, ["n01440764", "n02102040"]);
    assert.deepEqual(r.samples.map((s: { cfg: number }) => s.cfg), [4, 1.5]);
    for (const s of r.samples) {
      assert.equal(s.perClass.length, 2);
      // 2 samples per class: each class scores 0, 50 or 100, the total their mean
      assert.ok(s.perClass.every((x: number) => [0, 50, 100].includes(x)), `${s.perClass}`);
      assert.equal(s.top1, (s.perClass[0] + s.perClass[1]) / 2);
    }
    assert.ok(r.judge.realValTop1 >= 0 && r.judge.realValTop1 <= 100);
    const written = async () => {
      const out: Record<string, number> = {};
      for (const n of [...Deno.readDirSync(`${dir}/store/judge`)].map((e) => e.name)) {
        if (n.startsWith("report")) continue; // the report is rewritten
        for (const f of Deno.readDirSync(`${dir}/store/judge/${n}`)) {
          out[`${n}/${f.name}`] = (await Deno.stat(`${dir}/store/judge/${n}/${f.name}`)).mtime!
            .getTime();
        }
      }
      return out;
    };
    const before = await written();
    assert.ok(Object.keys(before).some((k) => k.endsWith("teacher.safetensors")));
    const again = await judge(args);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await written(), before); // the judge is not retrained
    assert.equal(
      again.stdout.split("\n").filter((l) => l.startsWith("| CFG")).join("\n"),
      first.stdout.split("\n").filter((l) => l.startsWith("| CFG")).join("\n"),
    );

    const bad = await judge([...args.slice(0, 6), "--classes", "n99999999"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--classes: 'n99999999' is not a class of the model/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
