// `mgd3 fetch` against a loopback HTTP server started here (127.0.0.1, a free port): good,
// resumed, redirected, wrong-size, wrong-hash, missing and silent downloads, and hostile
// archives. Each ends in a verified file or an error naming the asset and URL, and the cache
// keeps nothing unverified (a `.part` file, kept to resume, is the only other thing allowed).
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Bytes } from "../models/core/hash.ts";
import { setProgressMode } from "../stages/progress.ts";
import {
  cachedAssetPath,
  fetchAsset,
  type FetchOptions,
  LOCK_FILE,
  mirrorSource,
  readLock,
} from "../stages/fetch/fetch_asset.ts";
import { type Asset, ASSETS, findAsset } from "../stages/fetch/registry.ts";
import { fillFromCache, PAPER_ASSET_FLAGS } from "../stages/fetch/paper_assets.ts";
import { capture } from "./_cli_capture.ts";
import { tarGz } from "./_tar_fixture.ts";
import { storedZip } from "./_checkpoint_helpers.ts";

setProgressMode("silent");
const BODY = new Uint8Array(200_000).map((_, i) => (i * 7 + 3) % 251);
const BODY_SHA = sha256Bytes(BODY);
const GOOD_TGZ = await tarGz([
  { name: "pkg/", dir: true },
  { name: "pkg/a.txt", text: "alpha" },
  { name: "pkg/sub/b.txt", text: "beta" },
  { name: "pkg/link", symlink: "sub/b.txt" },
]);
const DOTDOT_TGZ = await tarGz([{ name: "pkg/a.txt", text: "a" }, {
  name: "pkg/../../evil.txt",
  text: "x",
}]);
const SYMLINK_TGZ = await tarGz([{ name: "pkg/a.txt", text: "a" }, {
  name: "pkg/out",
  symlink: "../../../etc",
}]);

const enc = (t: string) => new TextEncoder().encode(t);
const GOOD_ZIP = storedZip([["pkg/", enc("")], ["pkg/a.txt", enc("alpha")], [
  "pkg/sub/b.txt",
  enc("beta"),
]]) as Uint8Array<ArrayBuffer>;
const SLIP_ZIP = storedZip([["pkg/a.txt", enc("a")], ["../evil.txt", enc("x")]]) as Uint8Array<
  ArrayBuffer
>;

/** Requests the server saw: path and Range header. */
const seen: { path: string; range: string | null }[] = [];
let cutOnce = true;
let tofuBytes: Uint8Array<ArrayBuffer> = BODY;
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
  const path = new URL(req.url).pathname;
  const range = req.headers.get("range");
  seen.push({ path, range });
  const send = (body: Uint8Array<ArrayBuffer>) => {
    const m = range?.match(/^bytes=(\d+)-$/);
    if (m) {
      const from = Number(m[1]);
      return new Response(body.slice(from), {
        status: 206,
        headers: { "content-range": `bytes ${from}-${body.length - 1}/${body.length}` },
      });
    }
    return new Response(body as Uint8Array<ArrayBuffer>);
  };
  switch (path) {
    case "/good.bin":
    case "/mirror/plain/plain.bin":
      return send(BODY);
    case "/cut.bin": {
      if (!cutOnce || range) return send(BODY);
      cutOnce = false; // first answer: half the body, then the connection breaks
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(BODY.slice(0, 100_000));
        },
        pull(c) {
          return new Promise((r) => setTimeout(r, 50)).then(() => c.error(new Error("cut")));
        },
      });
      return new Response(stream, { headers: { "content-length": String(BODY.length) } });
    }
    case "/redirect.bin":
      return Response.redirect(new URL("/good.bin", req.url), 302);
    case "/silent.bin":
      return new Promise<Response>(() => {}); // never answers
    case "/tofu.bin":
      return send(tofuBytes);
    case "/good.tgz":
      return send(GOOD_TGZ);
    case "/dotdot.tgz":
      return send(DOTDOT_TGZ);
    case "/symlink.tgz":
      return send(SYMLINK_TGZ);
    case "/good.zip":
      return send(GOOD_ZIP);
    case "/slip.zip":
      return send(SLIP_ZIP);
    default:
      return new Response("no such file", { status: 404 });
  }
});
const BASE = `http://127.0.0.1:${server.addr.port}`;
const tmp = await Deno.makeTempDir({ prefix: "mgd3-fetch-" });
globalThis.addEventListener("unload", () => {
  void server.shutdown();
  Deno.removeSync(tmp, { recursive: true });
});

const file = (id: string, path: string, extra: Partial<Asset["files"][0]> = {}): Asset => ({
  id,
  description: id,
  kind: "file",
  files: [{ url: `${BASE}${path}`, name: path.slice(1), ...extra }],
  verify: extra.sha256 ? "publisher" : "first-use",
  usedBy: "tests",
});
const archive = (id: string, path: string): Asset => ({
  id,
  description: id,
  kind: "archive",
  files: [{ url: `${BASE}${path}`, name: path.slice(1) }],
  root: "pkg",
  verify: "first-use",
  usedBy: "tests",
});
const TEST_ASSETS: Asset[] = [
  file("good", "/good.bin", { sha256: BODY_SHA }),
  file("cut", "/cut.bin", { sha256: BODY_SHA, size: BODY.length }),
  file("redirect", "/redirect.bin", { sha256: BODY_SHA }),
  file("wrong-size", "/good.bin", { size: BODY.length + 1 }),
  file("wrong-hash", "/good.bin", { sha256: "0".repeat(64) }),
  file("missing", "/missing.bin"),
  file("silent", "/silent.bin"),
  file("tofu", "/tofu.bin"),
  file("plain", "/plain.bin"),
  archive("tree", "/good.tgz"),
  archive("dotdot", "/dotdot.tgz"),
  archive("symlink", "/symlink.tgz"),
  archive("zipped", "/good.zip"),
  archive("zipslip", "/slip.zip"),
];

let n = 0;
async function freshCache(): Promise<FetchOptions> {
  const cache = join(tmp, `cache${n++}`);
  await Deno.mkdir(cache);
  return { cache, assets: TEST_ASSETS, retries: 2, backoffMs: 10, timeoutMs: 300, log: () => {} };
}

/** Every file under the cache except the lock file and `.part` files. */
async function leftovers(cache: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.name !== LOCK_FILE && !e.name.endsWith(".part")) out.push(p.slice(cache.length));
    }
  };
  await walk(cache);
  return out;
}

async function failsNaming(id: string, pattern: RegExp): Promise<void> {
  const o = await freshCache();
  await assert.rejects(fetchAsset(id, o), (e: Error) => {
    assert.match(e.message, new RegExp(`\\b${id}\\b`));
    assert.match(e.message, /http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(e.message, pattern);
    return true;
  });
  assert.deepEqual(await leftovers(o.cache!), [], `unverified files left in the cache`);
  assert.deepEqual(await readLock(o.cache!), {});
}

Deno.test("fetchAsset() downloads, checks the publisher's SHA-256 and records the lock file", async () => {
  const o = await freshCache();
  const path = await fetchAsset("good", o);
  assert.equal(path, join(o.cache!, "good", "good.bin"));
  assert.equal(sha256Bytes(await Deno.readFile(path)), BODY_SHA);
  const lock = await readLock(o.cache!);
  assert.equal(lock["good/good.bin"].sha256, BODY_SHA);
  assert.equal(lock["good/good.bin"].size, BODY.length);
  const before = seen.length;
  assert.equal(await fetchAsset("good", o), path); // already there: no request
  assert.equal(seen.length, before);
  await fetchAsset("good", { ...o, verify: true });
  await Deno.writeFile(path, BODY.slice(1));
  await assert.rejects(
    fetchAsset("good", { ...o, verify: true }),
    /good: .* has SHA-256 [0-9a-f]{64}, the lock file records/,
  );
});

Deno.test("two fetches of one asset into one cache at once download it once", async () => {
  const o = await freshCache();
  const before = seen.filter((s) => s.path === "/redirect.bin").length;
  const [p, q] = await Promise.all([fetchAsset("redirect", o), fetchAsset("redirect", o)]);
  assert.equal(p, q);
  assert.equal(seen.filter((s) => s.path === "/redirect.bin").length - before, 1);
  assert.deepEqual(await leftovers(o.cache!), ["/redirect/redirect.bin"]);
});

Deno.test("fetchAsset() resumes a download whose connection was cut mid-body (HTTP Range)", async () => {
  const o = await freshCache();
  const path = await fetchAsset("cut", o);
  assert.equal(sha256Bytes(await Deno.readFile(path)), BODY_SHA);
  const ranges = seen.filter((s) => s.path === "/cut.bin").map((s) => s.range);
  assert.deepEqual(ranges, [null, "bytes=100000-"]);
});

Deno.test("fetchAsset() follows a redirect to the file", async () => {
  const o = await freshCache();
  assert.equal(sha256Bytes(await Deno.readFile(await fetchAsset("redirect", o))), BODY_SHA);
});

Deno.test("fetchAsset() refuses a wrong size, a wrong hash and a 404, keeping nothing", async () => {
  await failsNaming("wrong-size", /200000 bytes, expected 200001/);
  await failsNaming("wrong-hash", /SHA-256 [0-9a-f]{64}, expected 0{64}/);
  await failsNaming("missing", /HTTP 404/);
});

Deno.test("fetchAsset() gives up on a server that never answers, after its retries", async () => {
  await failsNaming("silent", /no answer within 300 ms.*after 3 attempts/);
});

Deno.test("a trust-on-first-use asset is checked against the lock file from the second download on", async () => {
  const o = await freshCache();
  const path = await fetchAsset("tofu", o);
  const first = (await readLock(o.cache!))["tofu/tofu.bin"];
  assert.equal(first.sha256, BODY_SHA);
  await Deno.remove(path);
  tofuBytes = BODY.slice().reverse(); // the publisher's file changed
  try {
    await assert.rejects(fetchAsset("tofu", o), /tofu.*SHA-256 [0-9a-f]{64}, expected/);
  } finally {
    tofuBytes = BODY;
  }
  assert.deepEqual(await leftovers(o.cache!), []);
  assert.deepEqual((await readLock(o.cache!))["tofu/tofu.bin"], first);
});

Deno.test("an archive is unpacked to its root folder, links inside it kept", async () => {
  const o = await freshCache();
  const root = await fetchAsset("tree", o);
  assert.equal(root, join(o.cache!, "tree", "pkg"));
  assert.equal(await Deno.readTextFile(join(root, "a.txt")), "alpha");
  assert.equal(await Deno.readTextFile(join(root, "link")), "beta");
  assert.equal(await Deno.readLink(join(root, "link")), "sub/b.txt");
  const zipped = await fetchAsset("zipped", o);
  assert.equal(await Deno.readTextFile(join(zipped, "sub", "b.txt")), "beta");
});

Deno.test("an archive with '../' paths or a symlink pointing out is refused and nothing is kept", async () => {
  await failsNaming("dotdot", /entry 'pkg\/\.\.\/\.\.\/evil\.txt' escapes the target folder/);
  await failsNaming("symlink", /entry 'pkg\/out' links outside the target folder/);
  await failsNaming("zipslip", /entry '\.\.\/evil\.txt' escapes the target folder/);
  assert.equal(await Deno.stat(join(tmp, "evil.txt")).catch(() => null), null);
});

Deno.test("a mirror folder or URL holds <asset>/<file>, used instead of the publisher", async () => {
  const plain = findAsset("plain", TEST_ASSETS);
  assert.equal(mirrorSource("/m", plain, plain.files[0]), "/m/plain/plain.bin");
  assert.equal(
    mirrorSource(`${BASE}/mirror/`, plain, plain.files[0]),
    `${BASE}/mirror/plain/plain.bin`,
  );
  const fromUrl = await freshCache();
  await fetchAsset("plain", { ...fromUrl, mirror: `${BASE}/mirror` });
  assert.ok(seen.some((s) => s.path === "/mirror/plain/plain.bin"));
  const dir = join(tmp, "mirror");
  await Deno.mkdir(join(dir, "plain"), { recursive: true });
  await Deno.writeFile(join(dir, "plain", "plain.bin"), BODY);
  const o = await freshCache();
  const path = await fetchAsset("plain", { ...o, mirror: dir });
  assert.equal(sha256Bytes(await Deno.readFile(path)), BODY_SHA);
  assert.equal((await readLock(o.cache!))["plain/plain.bin"].url, `${BASE}/plain.bin`);
});

Deno.test("mgd3 fetch --list names every asset, its check and its cache path; a mirror folder feeds mgd3 fetch", async () => {
  const cache = join(tmp, "cli-cache");
  const r = await capture(["fetch", "--list", "--cache", cache]);
  assert.equal(r.status, 0, r.err);
  for (const a of ASSETS) {
    assert.match(r.out, new RegExp(`^${a.id} `, "m"));
    assert.ok(r.out.includes(cachedAssetPath(a, cache)), a.id);
  }
  assert.match(r.out, /^resnet18-teacher +file +publisher hash$/m);
  assert.match(r.out, /^dit-xl-2-256 +file +trust on first download/m);
  assert.match(r.out, /sha256 f37072fd\.\.\./);
  const mirror = join(tmp, "cli-mirror");
  await Deno.mkdir(join(mirror, "dit-xl-2-256"), { recursive: true });
  await Deno.writeFile(join(mirror, "dit-xl-2-256", "DiT-XL-2-256x256.pt"), BODY);
  const f = await capture([
    "fetch",
    "dit-xl-2-256",
    "--cache",
    cache,
    "--mirror",
    mirror,
    "--progress",
    "silent",
  ]);
  assert.equal(f.status, 0, f.err);
  assert.match(f.out, /^dit-xl-2-256\t.*DiT-XL-2-256x256\.pt$/m);
  assert.equal((await readLock(cache))["dit-xl-2-256/DiT-XL-2-256x256.pt"].sha256, BODY_SHA);
  const help = await capture(["fetch", "--help"]);
  assert.match(help.out, /Usage: mgd3 fetch \[flags\] \[ASSET\.\.\.\]/);
  assert.match(help.out, /--mirror <value>/);
  const none = await capture(["fetch", "--cache", cache]);
  assert.equal(none.status, 2);
  const bad = await capture(["fetch", "no-such-asset", "--cache", cache]);
  assert.equal(bad.status, 2);
  assert.match(bad.err, /unknown asset no-such-asset/);
  const hashed = await capture([
    "fetch",
    "resnet18-teacher",
    "--cache",
    cache,
    "--mirror",
    mirror,
    "--retries",
    "0",
  ]);
  assert.equal(hashed.status, 1);
  assert.match(hashed.err, /resnet18-teacher/);
});

Deno.test("a paper-scale run takes the flags it lacks from the cache, fetches them with --fetch, and names the rest", async () => {
  const cache = join(tmp, "paper-cache");
  const dit = join(cache, "dit-xl-2-256", "DiT-XL-2-256x256.pt");
  await Deno.mkdir(join(cache, "dit-xl-2-256"), { recursive: true });
  await Deno.writeFile(dit, BODY);
  const r = await fillFromCache(PAPER_ASSET_FLAGS, { vae: "/my/vae" }, { fetch: false, cache });
  assert.deepEqual(r.filled, { dit });
  assert.deepEqual(r.missing, ["resnet18-teacher", "imagenette2"]);
  assert.match(r.hint, /resnet18-teacher \(--teacher\), imagenette2 \(--data --val\)/);
  assert.match(r.hint, /deno task mgd3 fetch resnet18-teacher imagenette2/);
  // --fetch from a mirror folder: ImageNette's archive unpacks to imagenette2/{train,val}.
  const mirror = join(tmp, "paper-mirror");
  await Deno.mkdir(join(mirror, "imagenette2"), { recursive: true });
  await Deno.writeFile(
    join(mirror, "imagenette2", "imagenette2.tgz"),
    await tarGz([
      { name: "imagenette2/train/n01440764/a.JPEG", text: "a" },
      { name: "imagenette2/val/n01440764/b.JPEG", text: "b" },
    ]),
  );
  const wanted = PAPER_ASSET_FLAGS.filter((w) => w.asset === "imagenette2");
  const f = await fillFromCache(wanted, {}, { fetch: true, cache, mirror, log: () => {} });
  assert.deepEqual(f.filled, {
    data: join(cache, "imagenette2", "imagenette2", "train"),
    val: join(cache, "imagenette2", "imagenette2", "val"),
  });
  assert.equal(await Deno.readTextFile(join(f.filled.val, "n01440764", "b.JPEG")), "b");
});

Deno.test("reproduce --scale paper names the missing assets and the fetch command", async () => {
  const cache = join(tmp, "empty-cache");
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../examples/reproduce.ts", import.meta.url).pathname,
      "table6",
      "--scale",
      "paper",
      "--quick",
      "--store",
      join(tmp, "paper-store"),
      "--progress",
      "silent",
    ],
    env: { MGD3_CACHE: cache },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  assert.match(
    err,
    /Not in the cache .*empty-cache: dit-xl-2-256 \(--dit\), sd-vae-ft-mse \(--vae\)/,
  );
  assert.match(err, /deno task mgd3 fetch dit-xl-2-256 sd-vae-ft-mse resnet18-teacher imagenette2/);
});
