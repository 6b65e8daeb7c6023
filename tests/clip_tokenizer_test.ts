// CLIP tokenizer parity with transformers' slow CLIPTokenizer (fixtures made by
// tools/fixtures/make_clip_tokenizer_fixtures.py), its file checks, and the class-name prompts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ClipTokenizer } from "../models/text/clip_tokenizer.ts";
import { MAX_VOCAB_BYTES } from "../models/text/_tokenizer_files.ts";
import { Bpe, BPE_CACHE_WORDS, pairKey } from "../models/text/_bpe.ts";
import {
  classPrompts,
  IMAGENET_CLASS_NAMES,
  imagenetClassName,
  imagenetShortName,
} from "../models/text/prompts.ts";

const FIX = new URL("./fixtures/sd/", import.meta.url).pathname;
const SD1 = join(FIX, "tokenizer_sd1");
const SD2 = join(FIX, "tokenizer_sd2");
const EXPECTED = JSON.parse(await Deno.readTextFile(join(FIX, "clip_tokenizer_expected.json"))) as {
  max_length: number;
  strings: string[];
  sd1: number[][];
  sd2: number[][];
};
const EOT = 49407;

function firstMismatches(tok: ClipTokenizer, expected: number[][]): string[] {
  const bad: string[] = [];
  EXPECTED.strings.forEach((s, i) => {
    const got = [...tok.encode(s)];
    if (JSON.stringify(got) !== JSON.stringify(expected[i])) {
      bad.push(
        `${JSON.stringify(s)}\n  got      ${got.join(",")}\n  expected ${expected[i].join(",")}`,
      );
    }
  });
  return bad;
}

Deno.test("ClipTokenizer.encode() matches transformers' CLIPTokenizer on every tricky string (SD 1.x folder)", async () => {
  const tok = await ClipTokenizer.load(SD1);
  assert.equal(EXPECTED.strings.length > 100, true);
  assert.deepEqual(firstMismatches(tok, EXPECTED.sd1), []);
  assert.deepEqual([tok.maxLength, tok.bosId, tok.eosId, tok.padId], [77, 49406, EOT, EOT]);
});

Deno.test("ClipTokenizer.encode() matches the reference on the SD 2.x folder, whose pad '!' is a special token", async () => {
  const tok = await ClipTokenizer.load(SD2);
  assert.deepEqual(firstMismatches(tok, EXPECTED.sd2), []);
  assert.equal(tok.padId, 0);
  assert.deepEqual(tok.tokenize("hello!world"), [3306, 0, 1002]);
  const sd1 = await ClipTokenizer.load(SD1);
  assert.deepEqual(sd1.tokenize("hello!world"), [3306, 256, 1002]);
  // the ids huggingface/diffusers#4153 reports for transformers (SD 2.x/XL) and open_clip (= SD 1.x here)
  assert.deepEqual([...tok.encode("! !! !!!").slice(0, 9)], [49406, 0, 0, 0, 0, 0, 0, EOT, 0]);
  assert.deepEqual([...sd1.encode("! !! !!!").slice(0, 6)], [49406, 256, 748, 995, EOT, EOT]);
});

Deno.test("encode() keeps bos + the first 75 ids + eos for a long prompt and pads short ones to 77", async () => {
  const tok = await ClipTokenizer.load(SD1);
  const long = "a photo of a " + "very ".repeat(100) + "large dog";
  const ids = tok.tokenize(long);
  assert.equal(ids.length, 106); // 4 + 100 x 'very' + 2
  const enc = tok.encode(long);
  assert.equal(enc.length, 77);
  assert.deepEqual([...enc], [49406, ...ids.slice(0, 75), EOT]);
  const empty = tok.encode("");
  assert.deepEqual([...empty], [49406, ...new Array(76).fill(EOT)]);
  assert.ok(empty instanceof Int32Array);
});

Deno.test("padding_side and truncation_side 'left' from tokenizer_config.json are honoured", async () => {
  const dir = await copyFolder(SD2);
  const cfg = JSON.parse(await Deno.readTextFile(join(dir, "tokenizer_config.json")));
  await Deno.writeTextFile(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({ ...cfg, padding_side: "left", truncation_side: "left", model_max_length: 6 }),
  );
  const tok = await ClipTokenizer.load(dir);
  assert.deepEqual([...tok.encode("tench")], [0, 0, 49406, 1149, 634, EOT]);
  const ids = tok.tokenize("a photo of a cat");
  assert.deepEqual([...tok.encode("a photo of a cat")], [49406, ...ids.slice(-4), EOT]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("special_tokens_map.json overrides tokenizer_config.json, and AddedToken objects are read", async () => {
  const dir = await copyFolder(SD1);
  await Deno.writeTextFile(
    join(dir, "special_tokens_map.json"),
    JSON.stringify({ pad_token: { content: "!" } }),
  );
  assert.equal((await ClipTokenizer.load(dir)).padId, 0);
  await Deno.remove(join(dir, "special_tokens_map.json"));
  assert.equal((await ClipTokenizer.load(dir)).padId, EOT); // the config's own pad
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Bpe merges the lowest-ranked pair first and keeps its per-word cache bounded", () => {
  const ranks = new Map([[pairKey("o", "g</w>"), 0], [pairKey("d", "o"), 1], [
    pairKey("d", "og</w>"),
    2,
  ]]);
  const bpe = new Bpe(ranks);
  assert.deepEqual(bpe.encode("dog"), ["dog</w>"]); // og</w> first (rank 0), then d + og</w>
  assert.deepEqual(bpe.encode("dodog"), ["do", "dog</w>"]); // og</w> (0), then d o (1), then d og</w> (2)
  assert.deepEqual(bpe.encode("x"), ["x</w>"]);
  for (let i = 0; i < BPE_CACHE_WORDS + 50; i++) bpe.encode(`w${i}dog`);
  assert.equal(bpe.cached, BPE_CACHE_WORDS);
  assert.deepEqual(bpe.encode("dog"), ["dog</w>"]); // evicted, recomputed the same
});

async function copyFolder(src: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "clip_tok_" });
  for await (const e of Deno.readDir(src)) {
    await Deno.copyFile(join(src, e.name), join(dir, e.name));
  }
  return dir;
}

async function loadError(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = await copyFolder(SD1);
  try {
    await edit(dir);
    await ClipTokenizer.load(dir);
  } catch (e) {
    return (e as Error).message;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  throw new Error("load() accepted a broken folder");
}

Deno.test("load() names the missing file", async () => {
  for (const name of ["vocab.json", "merges.txt", "tokenizer_config.json"]) {
    const msg = await loadError((d) => Deno.remove(join(d, name)));
    assert.match(msg, new RegExp(`has no ${name.replace(".", "\\.")}`));
  }
});

Deno.test("load() rejects hostile or malformed files, naming the file and the key or line", async () => {
  const w = (name: string, text: string) => (d: string) => Deno.writeTextFile(join(d, name), text);
  // the config alone (special_tokens_map.json, which would override its tokens, removed)
  const cfg = (text: string) => async (d: string) => {
    await Deno.remove(join(d, "special_tokens_map.json"));
    await Deno.writeTextFile(join(d, "tokenizer_config.json"), text);
  };
  const cases: [(d: string) => Promise<void>, RegExp][] = [
    [w("vocab.json", "not json"), /vocab\.json is not valid JSON/],
    [w("vocab.json", "[1, 2]"), /vocab\.json: expected a JSON object, got an array/],
    [w("vocab.json", '{"a": -1}'), /vocab\.json: key "a" has id -1/],
    [w("vocab.json", '{"a": 1.5}'), /vocab\.json: key "a" has id 1\.5/],
    [
      w("vocab.json", " ".repeat(MAX_VOCAB_BYTES + 1)),
      /vocab\.json is \d+ bytes; expected at most/,
    ],
    [w("merges.txt", "a b\n"), /merges\.txt line 1: expected the '#version/],
    [
      w("merges.txt", "#version: 0.2\ni n\nzz qq\n"),
      /merges\.txt line 3: symbol "zz" is not in vocab\.json/,
    ],
    [w("merges.txt", "#version: 0.2\ni n x\n"), /merges\.txt line 2: expected two symbols/],
    [cfg("null"), /tokenizer_config\.json: expected a JSON object/],
    [cfg('{"model_max_length": "77"}'), /key model_max_length is "77"/],
    [
      cfg('{"model_max_length": 77, "bos_token": 5}'),
      /key bos_token: expected a string or an AddedToken/,
    ],
    [
      cfg('{"model_max_length": 77, "pad_token": "<pad>"}'),
      /key pad_token: token "<pad>" is not in vocab\.json/,
    ],
    [
      cfg('{"model_max_length": 77, "padding_side": "up"}'),
      /key padding_side: expected "left" or "right"/,
    ],
    [
      w(
        "special_tokens_map.json",
        '{"eos_token": {"content": "<|endoftext|>", "single_word": true}}',
      ),
      /special_tokens_map\.json: key eos_token\.single_word/,
    ],
    [
      w("vocab.json", new TextDecoder("latin1").decode(new Uint8Array([0x7b, 0xff, 0x7d]))),
      /not valid JSON|not UTF-8/,
    ],
  ];
  for (const [i, [edit, re]] of cases.entries()) {
    assert.match(await loadError(edit), re, `case ${i}`);
  }
  const binary = await loadError((d) =>
    Deno.writeFile(join(d, "merges.txt"), new Uint8Array([0x23, 0xff, 0xfe]))
  );
  assert.match(binary, /merges\.txt is not UTF-8 text/);
});

Deno.test("classPrompts() fills the single {} of the template and rejects templates without exactly one", () => {
  assert.deepEqual(classPrompts(["tench", "golf ball"]), ["tench", "golf ball"]);
  assert.deepEqual(classPrompts(["tench", "$& x"], "a photo of a {}."), [
    "a photo of a tench.",
    "a photo of a $& x.",
  ]);
  assert.throws(
    () => classPrompts(["tench"], "a photo"),
    /"a photo" has 0 '\{\}' placeholders; expected exactly one/,
  );
  assert.throws(() => classPrompts(["tench"], "{} and {}"), /has 2 '\{\}' placeholders/);
});

Deno.test("imagenetClassName() gives the synonym list D4M prompts with, for all 1000 wnids", () => {
  const wnids = Object.keys(IMAGENET_CLASS_NAMES);
  assert.equal(wnids.length, 1000);
  assert.deepEqual(wnids, [...wnids].sort());
  assert.equal(imagenetClassName("n01440764"), "tench, Tinca tinca");
  assert.equal(imagenetShortName("n03888257"), "parachute");
  assert.equal(imagenetClassName("n02012849"), "crane");
  assert.equal(imagenetClassName("n03710721"), "maillot, tank suit");
  assert.throws(() => imagenetClassName("n99999999"), /Unknown ImageNet wnid "n99999999"/);
  assert.throws(() => imagenetClassName("toString"), /Unknown ImageNet wnid "toString"/);
});
