/**
 * The CLIP BPE tokenizer of Stable Diffusion's text encoders, read from a diffusers/transformers
 * `tokenizer/` folder.
 *
 * `encode(prompt)` gives exactly the ids the Stable Diffusion pipelines get from
 * `tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length,
 * truncation=True).input_ids` with transformers' slow `CLIPTokenizer` on the path users have
 * without ftfy installed (adapted from huggingface/transformers@01f287b
 * src/transformers/models/clip/tokenization_clip.py and the `PreTrainedTokenizer.tokenize` /
 * padding and truncation of tokenization_utils(_base).py, semantics only):
 * 1. the special tokens (bos, eos, unk, pad, any `added_tokens_decoder` entry) split the text
 *    first, leftmost and longest match first (transformers' Trie on tokens that do not
 *    overlap), each becoming its own id; their `lstrip`/`rstrip` flags strip the neighbouring
 *    text. SD 2.x's pad token "!" is one of them, so a "!" in an SD 2.x prompt becomes id 0
 *    (the `!` symbol without `</w>`), where SD 1.x gives `!</w>` (256) or a longer run (`!!</w>`);
 * 2. every other piece: BasicTokenizer cleaning (control and format characters dropped,
 *    whitespace to spaces, CJK ideographs padded with spaces, NFC, lower case; no accent
 *    stripping, no punctuation splitting), CLIP's regex (the specials, 's 't 're 've 'm 'll 'd,
 *    letter runs, single digits, runs of anything else), UTF-8 bytes to symbols, BPE with `</w>`
 *    on the last symbol, vocab ids (the unk id for a symbol not in the vocab);
 * 3. ids cut to `maxLength - 2` (from the end, or the start for `truncation_side: "left"`),
 *    wrapped as bos + ids + eos and padded with the pad id to `maxLength` (77; on the right, or
 *    the left for `padding_side: "left"`).
 *
 * openai/CLIP's original `simple_tokenizer` (openai/CLIP@d05afc4) shares the vocab, the BPE and
 * the regex but cleans text differently: ftfy.fix_text (mojibake repair, NFC, some control
 * characters), HTML entities unescaped twice (`&amp;` -> `&`; transformers keeps `&amp;`),
 * whitespace collapsed, lower case; no BasicTokenizer, so CJK ideographs are not padded (a run
 * of them is one word) and format characters such as U+200B, U+200D or U+00AD are not dropped
 * unless ftfy drops them. It treats no pad token as special (SD 2.x's "!" stays `!</w>`), and
 * `clip.tokenize` pads with 0 and raises on prompts over 77 ids unless `truncate=True` (then
 * bos + the first 75 + eos, as here). The fixture tests/fixtures/sd/clip_tokenizer_expected.json
 * lists the test strings where it differs (`openai_differs`, run with ftfy replaced by the
 * identity).
 *
 * @module
 */
import { Bpe } from "./_bpe.ts";
import { basicClean, clipWords, toByteSymbols } from "./_clip_text.ts";
import { readTokenizerFiles, type SpecialToken, type TokenizerFiles } from "./_tokenizer_files.ts";

/** Reference-cache literals: the regex yields them as words and BPE returns them unchanged. */
const LITERAL_SPECIALS = new Set(["<|startoftext|>", "<|endoftext|>"]);

/**
 * CLIP's BPE tokenizer (SD 1.x pads with `<|endoftext|>`, SD 2.x with `!`: whatever the
 * folder says).
 *
 * @example
 * ```ts
 * import { ClipTokenizer } from "./clip_tokenizer.ts";
 * const tok = await ClipTokenizer.load("stable-diffusion-v1-5/tokenizer");
 * tok.tokenize("a photo of a cat"); // [320, 1125, 539, 320, 2368]
 * tok.encode("a photo of a cat"); // Int32Array(77) [49406, 320, 1125, 539, 320, 2368, 49407, 49407, ...]
 * ```
 */
export class ClipTokenizer {
  /** Length of every encoded prompt (tokenizer_config.json `model_max_length`, 77). */
  readonly maxLength: number;
  /** Id of the start token (`<|startoftext|>`, 49406). */
  readonly bosId: number;
  /** Id of the end token (`<|endoftext|>`, 49407). */
  readonly eosId: number;
  /** Id that pads encoded prompts (49407 for SD 1.x, 0 (`!`) for SD 2.x). */
  readonly padId: number;
  readonly #files: TokenizerFiles;
  readonly #bpe: Bpe;

  private constructor(files: TokenizerFiles) {
    this.#files = files;
    this.#bpe = new Bpe(files.ranks);
    this.maxLength = files.maxLength;
    this.bosId = files.bos.id;
    this.eosId = files.eos.id;
    this.padId = files.pad.id;
  }

  /**
   * Reads a `tokenizer/` folder: vocab.json, merges.txt, tokenizer_config.json and
   * special_tokens_map.json when present (its entries override the config's). Errors name the
   * file and the key or line.
   *
   * @example
   * ```ts
   * import { ClipTokenizer } from "./clip_tokenizer.ts";
   * const tok = await ClipTokenizer.load("tests/fixtures/sd/tokenizer_sd2");
   * tok.padId; // 0
   * ```
   */
  static async load(folder: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readTokenizerFiles(folder));
  }

  /**
   * BPE ids of `text` without bos/eos, padding or truncation (special tokens written in the text
   * keep their ids).
   *
   * @example
   * ```ts
   * import { ClipTokenizer } from "./clip_tokenizer.ts";
   * const tok = await ClipTokenizer.load("tests/fixtures/sd/tokenizer_sd1");
   * tok.tokenize("it's a Tench!"); // [585, 568, 320, 1149, 634, 256]
   * ```
   */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const piece of this.#splitSpecials(text)) {
      if (typeof piece !== "string") {
        ids.push(piece.id);
        continue;
      }
      for (const word of clipWords(basicClean(piece))) {
        if (LITERAL_SPECIALS.has(word)) ids.push(this.#id(word));
        else for (const sym of this.#bpe.encode(toByteSymbols(word))) ids.push(this.#id(sym));
      }
    }
    return ids;
  }

  /**
   * The Stable Diffusion pipelines' ids: bos + ids cut to `maxLength - 2` + eos, padded with the
   * pad id to `maxLength`.
   *
   * @example
   * ```ts
   * import { ClipTokenizer } from "./clip_tokenizer.ts";
   * const tok = await ClipTokenizer.load("tests/fixtures/sd/tokenizer_sd2");
   * tok.encode("tench").slice(0, 5); // Int32Array [49406, 1149, 634, 49407, 0]
   * ```
   */
  encode(text: string): Int32Array {
    const room = this.maxLength - 2;
    let ids = this.tokenize(text);
    if (ids.length > room) {
      ids = this.#files.truncateLeft ? ids.slice(ids.length - room) : ids.slice(0, room);
    }
    const body = [this.bosId, ...ids, this.eosId];
    const padding = new Array<number>(this.maxLength - body.length).fill(this.padId);
    return Int32Array.from(this.#files.padLeft ? [...padding, ...body] : [...body, ...padding]);
  }

  #id(symbol: string): number {
    return this.#files.vocab.get(symbol) ?? this.#files.unk.id;
  }

  /** Text pieces and special tokens, in order (leftmost, then longest special first). */
  #splitSpecials(text: string): (string | SpecialToken)[] {
    const out: (string | SpecialToken)[] = [];
    const specials = this.#files.specials;
    let start = 0;
    for (let i = 0; i < text.length;) {
      let hit: SpecialToken | undefined;
      for (const s of specials) {
        if (
          s.content && text.startsWith(s.content, i) &&
          (!hit || s.content.length > hit.content.length)
        ) hit = s;
      }
      if (!hit) {
        i++;
        continue;
      }
      if (i > start) out.push(text.slice(start, i));
      out.push(hit);
      i = start = i + hit.content.length;
    }
    if (start < text.length) out.push(text.slice(start));
    // AddedToken lstrip/rstrip: the special eats whitespace on that side
    for (let k = 0; k < out.length; k++) {
      const s = out[k];
      if (typeof s === "string") continue;
      if (s.rstrip && typeof out[k + 1] === "string") {
        out[k + 1] = (out[k + 1] as string).trimStart();
      }
      if (s.lstrip && typeof out[k - 1] === "string") out[k - 1] = (out[k - 1] as string).trimEnd();
    }
    return out;
  }
}
