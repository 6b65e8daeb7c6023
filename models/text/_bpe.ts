/**
 * CLIP's byte-level BPE: the table that maps each UTF-8 byte to a printable symbol, and the merge
 * loop over one word's symbols, whose last symbol carries `</w>`.
 *
 * Adapted from huggingface/transformers@01f287b src/transformers/models/clip/tokenization_clip.py
 * (`bytes_to_unicode`, `CLIPTokenizer.bpe`) and openai/CLIP@d05afc4 clip/simple_tokenizer.py
 * (semantics only).
 *
 * @module
 */

/** Suffix of the last symbol of a word (`"dog"` -> `d`, `o`, `g</w>`). */
export const END_OF_WORD = "</w>";

/**
 * Merges the CLIP tokenizers read from merges.txt: lines 1 .. 49152 - 256 - 2 after the
 * `#version` line (both references slice the file so; the CLIP vocab is 256 bytes, 256 bytes
 * with `</w>`, one token per merge and 2 specials = 49408).
 *
 * @example
 * ```ts
 * import { CLIP_MERGES } from "./_bpe.ts";
 * CLIP_MERGES; // 48894
 * ```
 */
export const CLIP_MERGES = 49152 - 256 - 2;

/**
 * Words whose BPE result is cached (the references cache every word without bound; here the
 * oldest entry is dropped past this many).
 *
 * @example
 * ```ts
 * import { BPE_CACHE_WORDS } from "./_bpe.ts";
 * BPE_CACHE_WORDS; // 10000
 * ```
 */
export const BPE_CACHE_WORDS = 10_000;

const BYTES = 256;
/** Byte ranges that keep their own code point: '!'..'~', '¡'..'¬', '®'..'ÿ'. */
const PRINTABLE: readonly [number, number][] = [[0x21, 0x7e], [0xa1, 0xac], [0xae, 0xff]];

/**
 * The symbol of each byte value (index = byte): printable Latin-1 bytes stand for themselves,
 * the other 68 take code points 256, 257, ... in byte order.
 *
 * @example
 * ```ts
 * import { byteSymbols } from "./_bpe.ts";
 * const s = byteSymbols();
 * [s[0x61], s[0x20]]; // ["a", "Ġ"]
 * ```
 */
export function byteSymbols(): string[] {
  const out = new Array<string>(BYTES);
  const kept = (b: number) => PRINTABLE.some(([lo, hi]) => b >= lo && b <= hi);
  let next = BYTES;
  for (let b = 0; b < BYTES; b++) out[b] = String.fromCharCode(kept(b) ? b : next++);
  return out;
}

/**
 * Key of a merge pair in the rank table. Symbols never hold whitespace (merges.txt is split on
 * it), so one space separates the two sides unambiguously.
 *
 * @example
 * ```ts
 * import { pairKey } from "./_bpe.ts";
 * pairKey("d", "og</w>"); // "d og</w>"
 * ```
 */
export function pairKey(first: string, second: string): string {
  return `${first} ${second}`;
}

/**
 * BPE over a fixed rank table, with a bounded per-word cache.
 *
 * @example
 * ```ts
 * import { Bpe, pairKey } from "./_bpe.ts";
 * const bpe = new Bpe(new Map([[pairKey("o", "g</w>"), 0], [pairKey("d", "og</w>"), 1]]));
 * bpe.encode("dog"); // ["dog</w>"]
 * ```
 */
export class Bpe {
  readonly #ranks: ReadonlyMap<string, number>;
  readonly #cache = new Map<string, readonly string[]>();

  /** @param ranks merge rank of each pair (`pairKey(a, b)`): lower merges first */
  constructor(ranks: ReadonlyMap<string, number>) {
    this.#ranks = ranks;
  }

  /** The BPE symbols of one word given as byte symbols (non-empty). */
  encode(word: string): readonly string[] {
    const hit = this.#cache.get(word);
    if (hit) return hit;
    const chars = [...word];
    let symbols = [...chars.slice(0, -1), chars[chars.length - 1] + END_OF_WORD];
    if (symbols.length === 1) return symbols; // no pair: the reference returns without caching
    for (;;) {
      // 1. the present pair of lowest rank (each pair has one rank, so the minimum is unique)
      let best = Infinity;
      let first = "";
      let second = "";
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.#ranks.get(pairKey(symbols[i], symbols[i + 1]));
        if (rank !== undefined && rank < best) {
          [best, first, second] = [rank, symbols[i], symbols[i + 1]];
        }
      }
      if (best === Infinity) break;
      // 2. merge every occurrence, left to right, without overlaps
      const merged: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === first && i + 1 < symbols.length && symbols[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else merged.push(symbols[i]);
      }
      symbols = merged;
      if (symbols.length === 1) break;
    }
    if (this.#cache.size >= BPE_CACHE_WORDS) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(word, symbols);
    return symbols;
  }

  /** Number of words cached now (at most {@link BPE_CACHE_WORDS}). */
  get cached(): number {
    return this.#cache.size;
  }
}
