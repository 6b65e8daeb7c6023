import assert from "node:assert/strict";
import { createProgress } from "../stages/progress.ts";

Deno.test("createProgress() in lines mode prints periodic plain lines and a final line", async () => {
  const lines: string[] = [];
  const p = createProgress("encode n01440764", 10, {
    mode: "lines",
    interval: 0.01,
    write: (l) => lines.push(l),
  });
  p.tick(3);
  await new Promise((r) => setTimeout(r, 20));
  p.tick(2, "batch 2");
  p.done();
  assert.ok(lines.length >= 2, `lines: ${lines}`);
  assert.match(lines.at(-1)!, /^encode n01440764: 5\/10 \(50\.0%\) \d+\.\ds/);
  assert.match(lines.at(-1)!, /batch 2$/);
});

Deno.test("createProgress() in silent mode prints nothing", () => {
  const lines: string[] = [];
  const p = createProgress("x", 2, { mode: "silent", write: (l) => lines.push(l) });
  p.tick();
  p.done();
  assert.deepEqual(lines, []);
});
