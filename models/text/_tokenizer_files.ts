/**
 * Reading a diffusers/transformers `tokenizer/` folder for the CLIP tokenizer: `vocab.json`,
 * `merges.txt`, `tokenizer_config.json` and (when present) `special_tokens_map.json`, whose
 * entries override the config's as transformers' `from_pretrained` lets them. Every file is
 * size-capped before it is read, and every error names the file and the key or line.
 *
 * @module
 */
import { join } from "node:path";
import { CLIP_MERGES, pairKey } from "./_bpe.ts";
import { parseObject, readCapped, readRequired } from "./_capped_file.ts";

/**
 * Largest vocab.json read: 8 MiB (the real 49408-entry file is about 1.1 MB).
 *
 * @example
 * ```ts
 * import { MAX_VOCAB_BYTES } from "./_tokenizer_files.ts";
 * MAX_VOCAB_BYTES; // 8388608
 * ```
 */
export const MAX_VOCAB_BYTES = 8 * 1024 * 1024;
/**
 * Largest merges.txt read: 4 MiB (the real 48894-merge file is about 525 KB).
 *
 * @example
 * ```ts
 * import { MAX_MERGES_BYTES } from "./_tokenizer_files.ts";
 * MAX_MERGES_BYTES; // 4194304
 * ```
 */
export const MAX_MERGES_BYTES = 4 * 1024 * 1024;
/**
 * Largest tokenizer_config.json / special_tokens_map.json read: 256 KiB (real ones are under
 * 2 KB).
 *
 * @example
 * ```ts
 * import { MAX_CONFIG_BYTES } from "./_tokenizer_files.ts";
 * MAX_CONFIG_BYTES; // 262144
 * ```
 */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Largest token id accepted (ids travel as int32). */
const MAX_ID = 2 ** 31 - 1;
/** Characters of an offending line quoted in an error. */
const QUOTED_CHARS = 80;

/** One special token: its text, id, and whether it eats whitespace on its left/right. */
export interface SpecialToken {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}

/** Everything the tokenizer needs from the folder. */
export interface TokenizerFiles {
  vocab: Map<string, number>;
  ranks: Map<string, number>;
  maxLength: number;
  bos: SpecialToken;
  eos: SpecialToken;
  unk: SpecialToken;
  pad: SpecialToken;
  /** Every token that splits the text before BPE (bos, eos, unk, pad, added_tokens_decoder). */
  specials: SpecialToken[];
  padLeft: boolean;
  truncateLeft: boolean;
}

/** The references' defaults when a token key is absent (CLIPTokenizer.__init__). */
const DEFAULT_TOKENS = {
  bos_token: "<|startoftext|>",
  eos_token: "<|endoftext|>",
  unk_token: "<|endoftext|>",
  pad_token: "<|endoftext|>",
} as const;
type TokenKey = keyof typeof DEFAULT_TOKENS;

function isId(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_ID;
}

function parseVocab(text: string, path: string): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(parseObject(text, path))) {
    if (!isId(id)) {
      throw new Error(
        `Tokenizer file ${path}: key ${
          JSON.stringify(token)
        } has id ${id}; expected an integer 0..${MAX_ID}`,
      );
    }
    vocab.set(token, id);
  }
  return vocab;
}

function parseMerges(text: string, path: string, vocab: Map<string, number>): Map<string, number> {
  const lines = text.trim().split("\n");
  if (!lines[0].startsWith("#version")) {
    throw new Error(
      `Tokenizer file ${path} line 1: expected the '#version: ...' header, got ${
        JSON.stringify(lines[0].slice(0, QUOTED_CHARS))
      }`,
    );
  }
  const ranks = new Map<string, number>();
  const count = Math.min(lines.length - 1, CLIP_MERGES); // the references ignore later lines
  for (let i = 1; i <= count; i++) {
    const parts = lines[i].trim().split(/\s+/);
    if (parts.length === 1 && parts[0] === "") continue; // a blank line keeps its rank slot
    if (parts.length !== 2) {
      throw new Error(
        `Tokenizer file ${path} line ${i + 1}: expected two symbols separated by a space, got ${
          JSON.stringify(lines[i].slice(0, QUOTED_CHARS))
        }`,
      );
    }
    for (const sym of [parts[0], parts[1], parts[0] + parts[1]]) {
      if (!vocab.has(sym)) {
        throw new Error(
          `Tokenizer file ${path} line ${i + 1}: symbol ${
            JSON.stringify(sym)
          } is not in vocab.json; expected merges over vocab tokens`,
        );
      }
    }
    ranks.set(pairKey(parts[0], parts[1]), i - 1); // a repeated pair takes its later rank, as in Python's dict()
  }
  return ranks;
}

interface TokenSpec {
  content: string;
  lstrip: boolean;
  rstrip: boolean;
}

function tokenSpec(v: unknown, where: string): TokenSpec {
  if (typeof v === "string") return { content: v, lstrip: false, rstrip: false };
  if (!v || typeof v !== "object" || typeof (v as { content?: unknown }).content !== "string") {
    throw new Error(
      `${where}: expected a string or an AddedToken object {"content": "..."}, got ${
        JSON.stringify(v)
      }`,
    );
  }
  const o = v as Record<string, unknown>;
  for (const flag of ["lstrip", "rstrip", "single_word"]) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") {
      throw new Error(`${where}.${flag}: expected true or false, got ${JSON.stringify(o[flag])}`);
    }
  }
  if (o.single_word === true) {
    throw new Error(
      `${where}.single_word: true is not supported; expected false (as in every CLIP tokenizer)`,
    );
  }
  return { content: o.content as string, lstrip: o.lstrip === true, rstrip: o.rstrip === true };
}

function side(v: unknown, where: string): boolean {
  if (v === undefined || v === "right") return false;
  if (v === "left") return true;
  throw new Error(`${where}: expected "left" or "right", got ${JSON.stringify(v)}`);
}

/**
 * Reads and checks the tokenizer files of `folder`.
 *
 * @example
 * ```ts
 * import { readTokenizerFiles } from "./_tokenizer_files.ts";
 * const files = await readTokenizerFiles("tests/fixtures/sd/tokenizer_sd2");
 * files.pad.id; // 0 (the "!" of SD 2.x)
 * ```
 */
export async function readTokenizerFiles(folder: string): Promise<TokenizerFiles> {
  const configPath = join(folder, "tokenizer_config.json");
  const config = parseObject(
    await readRequired(folder, "tokenizer_config.json", MAX_CONFIG_BYTES),
    configPath,
  );
  const mapText = await readCapped(folder, "special_tokens_map.json", MAX_CONFIG_BYTES);
  const mapPath = join(folder, "special_tokens_map.json");
  const map = mapText === null ? {} : parseObject(mapText, mapPath);
  const vocabPath = join(folder, "vocab.json");
  const vocab = parseVocab(await readRequired(folder, "vocab.json", MAX_VOCAB_BYTES), vocabPath);
  const ranks = parseMerges(
    await readRequired(folder, "merges.txt", MAX_MERGES_BYTES),
    join(folder, "merges.txt"),
    vocab,
  );

  const maxLength = config.model_max_length;
  if (!Number.isInteger(maxLength) || (maxLength as number) < 2 || (maxLength as number) > MAX_ID) {
    throw new Error(
      `${configPath}: key model_max_length is ${
        JSON.stringify(maxLength)
      }; expected an integer >= 2 (77 for CLIP)`,
    );
  }
  const added = new Map<string, number>(); // added_tokens_decoder: content -> id
  const specials = new Map<string, SpecialToken>();
  const decoder = config.added_tokens_decoder;
  if (decoder !== undefined) {
    if (!decoder || typeof decoder !== "object" || Array.isArray(decoder)) {
      throw new Error(
        `${configPath}: key added_tokens_decoder: expected an object {id: AddedToken}`,
      );
    }
    for (const [key, entry] of Object.entries(decoder)) {
      const id = Number(key);
      if (!isId(id) || String(id) !== key) {
        throw new Error(
          `${configPath}: added_tokens_decoder key ${JSON.stringify(key)}: expected a token id`,
        );
      }
      const spec = tokenSpec(entry, `${configPath}: added_tokens_decoder.${key}`);
      added.set(spec.content, id);
      specials.set(spec.content, { ...spec, id });
    }
  }
  const special = (key: TokenKey): SpecialToken => {
    const fromMap = map[key] !== undefined && map[key] !== null;
    const where = fromMap ? `${mapPath}: key ${key}` : `${configPath}: key ${key}`;
    const raw = fromMap ? map[key] : config[key] ?? DEFAULT_TOKENS[key];
    const spec = tokenSpec(raw, where);
    const id = added.get(spec.content) ?? vocab.get(spec.content);
    if (id === undefined) {
      throw new Error(
        `${where}: token ${
          JSON.stringify(spec.content)
        } is not in vocab.json; expected a vocab token`,
      );
    }
    const token = { ...spec, id };
    if (!specials.has(token.content)) specials.set(token.content, token);
    return token;
  };
  const [bos, eos, unk, pad] = (["bos_token", "eos_token", "unk_token", "pad_token"] as const).map(
    special,
  );
  return {
    vocab,
    ranks,
    maxLength: maxLength as number,
    bos,
    eos,
    unk,
    pad,
    specials: [...specials.values()],
    padLeft: side(config.padding_side, `${configPath}: key padding_side`),
    truncateLeft: side(config.truncation_side, `${configPath}: key truncation_side`),
  };
}
