/**
 * CLIP's text normalisation and word splitting, as transformers' slow `CLIPTokenizer` does it
 * when ftfy is not installed: `BasicTokenizer(strip_accents=False, do_split_on_punc=False)`
 * (drop NUL, U+FFFD and every other-category character but tab/newline/return, map whitespace to
 * spaces, pad CJK ideographs with spaces, NFC, split on whitespace, lower-case each piece), then
 * the words of CLIP's regex, each mapped byte by byte to BPE symbols.
 *
 * Adapted from huggingface/transformers@01f287b src/transformers/models/clip/tokenization_clip.py
 * (`BasicTokenizer`, `CLIPTokenizer._tokenize`, the `pat` regex) and the `_is_control` /
 * `_is_whitespace` helpers of src/transformers/tokenization_utils.py (semantics only).
 *
 * Notes on the port:
 * - The reference regex is case-insensitive (simple case folding, so `'ſ` is a clitic like
 *   `'s`); JavaScript's /iu folds the same way.
 * - After cleaning, the only characters Python's `str.split()` still treats as whitespace are
 *   the space and U+2028/U+2029 (every other one is a control character, removed, or a space
 *   separator, turned into a space), so the split uses exactly those.
 * - Unicode categories come from the JavaScript engine's tables, Python's from its own
 *   `unicodedata`; code points assigned in one Unicode version and not the other may differ.
 *
 * @module
 */
import { byteSymbols } from "./_bpe.ts";

/** The words of CLIP's pre-tokenizer regex: specials, English clitics, letter runs, single digits, other runs. */
const WORD_RE =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/giu;
/** Whitespace left for Python's `str.split()` once the text is cleaned (see the module notes). */
const SPLIT_RE = /[ \u2028\u2029]+/u;
const OTHER_RE = /^\p{C}$/u; // Cc, Cf, Cs, Co, Cn: dropped, except \t \n \r
const SPACE_SEPARATOR_RE = /^\p{Zs}$/u;
const KEPT_CONTROLS = new Set(["\t", "\n", "\r"]);
const REPLACEMENT_CHARACTER = 0xfffd;
/** CJK ideograph blocks that BasicTokenizer pads with spaces (`_is_chinese_char`). */
const CJK_RANGES: readonly [number, number][] = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

/**
 * BasicTokenizer's output joined by single spaces: cleaned, CJK-padded, NFC, lower-cased.
 *
 * @example
 * ```ts
 * import { basicClean } from "./_clip_text.ts";
 * basicClean("  Tom\t&  Jerry\u200b! 東京 "); // "tom & jerry! 東 京"
 * ```
 */
export function basicClean(text: string): string {
  let cleaned = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === REPLACEMENT_CHARACTER) continue;
    if (!KEPT_CONTROLS.has(ch) && OTHER_RE.test(ch)) continue;
    if (KEPT_CONTROLS.has(ch) || ch === " " || SPACE_SEPARATOR_RE.test(ch)) cleaned += " ";
    else if (CJK_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  return cleaned.normalize("NFC").split(SPLIT_RE).filter((w) => w !== "").map((w) =>
    w.toLowerCase()
  )
    .join(" ");
}

/**
 * The regex words of cleaned text.
 *
 * @example
 * ```ts
 * import { clipWords } from "./_clip_text.ts";
 * clipWords("it's 3.14!!"); // ["it", "'s", "3", ".", "1", "4", "!!"]
 * ```
 */
export function clipWords(cleaned: string): string[] {
  return cleaned.match(WORD_RE) ?? [];
}

const SYMBOLS = byteSymbols();
const UTF8 = new TextEncoder();

/**
 * A word's UTF-8 bytes as BPE symbols (one symbol per byte).
 *
 * @example
 * ```ts
 * import { toByteSymbols } from "./_clip_text.ts";
 * toByteSymbols("é"); // "Ã©"
 * ```
 */
export function toByteSymbols(word: string): string {
  let out = "";
  for (const b of UTF8.encode(word)) out += SYMBOLS[b];
  return out;
}
