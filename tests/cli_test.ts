import assert from "node:assert/strict";
import { capture } from "./_cli_capture.ts";
import { TAEF2_DIR } from "./shared.ts";
import { Store } from "../stages/store/store.ts";

const haveTaef2 = await Deno.stat(`${TAEF2_DIR}/taef2_encoder.pth`).then(() => true, () => false);

Deno.test({
  name:
    "mgd3 inspect lists the TAEF2 encoder's tensors with taesd.py's shapes (32 latent channels, mid-block GroupNorm)",
  ignore: !haveTaef2,
  async fn() {
    const { status, out } = await capture(["inspect", `${TAEF2_DIR}/taef2_encoder.pth`]);
    assert.equal(status, 0);
    assert.match(out, /^0\.weight\s+F16\s+\[64, 3, 3, 3\]$/m); // first conv: RGB -> 64
    assert.match(out, /^13\.pool\.1\.weight\s+F16\s+\[256\]$/m); // flux_2 mid-block GroupNorm
    assert.match(out, /^14\.weight\s+F16\s+\[32, 64, 3, 3\]$/m); // 32 latent channels
    assert.match(out, /79 tensors, 1,338,528 elements/);
  },
});

Deno.test("mgd3 inspect lists a store artifact's provenance and shards", async () => {
  const store = await Store.open(await Deno.makeTempDir());
  const a = await store.artifact("latents/x", { kind: "latents", options: { size: 64 }, seed: 3 });
  await a.writeShard("class-000", {
    latents: { dtype: "F32", shape: [2, 32, 8, 8], data: new Float32Array(4096) },
  });
  const { status, out } = await capture(["inspect", a.dir]);
  assert.equal(status, 0);
  assert.match(out, /kind=latents seed=3 dtype=F32/);
  assert.match(out, /latents\s+F32\s+\[2, 32, 8, 8\]/);
});

Deno.test("the command line rejects unknown commands and flags with status 2 and answers --help", async () => {
  assert.equal((await capture(["nope"])).status, 2);
  const bad = await capture(["inspect", "--bogus", "x"]);
  assert.equal(bad.status, 2);
  assert.match(bad.err, /Unknown option '--bogus'/);
  assert.equal((await capture(["inspect"])).status, 2);
  assert.match(
    (await capture(["inspect", "--progress", "fancy", "x"])).err,
    /--progress must be one of/,
  );
  const help = await capture(["inspect", "--help"]);
  assert.equal(help.status, 0);
  assert.match(help.out, /Usage: mgd3 inspect \[flags\] PATH/);
  const missing = await capture(["inspect", "/nonexistent/file.pt"]);
  assert.equal(missing.status, 1);
  assert.match(missing.err, /\/nonexistent\/file\.pt/);
});
