/**
 * Size-capped reading of the small text files of a tokenizer folder: the size is checked before
 * any byte is read, a file that grows meanwhile is caught, and the bytes must be UTF-8. Errors
 * name the file.
 *
 * @module
 */
import { join } from "node:path";

/**
 * The UTF-8 text of `folder/name`, or null when the file does not exist; a file over `cap`
 * bytes is refused before it is read.
 *
 * @example
 * ```ts
 * import { readCapped } from "./_capped_file.ts";
 * await readCapped("tests/fixtures/sd/tokenizer_sd1", "special_tokens_map.json", 4096); // '{\n  "bos_token": ...'
 * ```
 */
export async function readCapped(
  folder: string,
  name: string,
  cap: number,
): Promise<string | null> {
  const path = join(folder, name);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`Cannot read tokenizer file ${path}: ${(e as Error).message}`);
  }
  let bytes: Uint8Array;
  try {
    const info = await file.stat();
    if (!info.isFile) throw new Error(`Tokenizer file ${path} is not a regular file`);
    if (info.size > cap) {
      throw new Error(`Tokenizer file ${path} is ${info.size} bytes; expected at most ${cap}`);
    }
    const buf = new Uint8Array(info.size + 1); // one spare byte: a file that grew is caught below
    let n = 0;
    for (let got; n < buf.length && (got = await file.read(buf.subarray(n))) !== null;) n += got;
    if (n > info.size) {
      throw new Error(`Tokenizer file ${path} grew while being read; expected ${info.size} bytes`);
    }
    bytes = buf.subarray(0, n);
  } catch (e) {
    const msg = (e as Error).message;
    throw msg.startsWith("Tokenizer file")
      ? e
      : new Error(`Cannot read tokenizer file ${path}: ${msg}`);
  } finally {
    file.close();
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`Tokenizer file ${path} is not UTF-8 text`);
  }
}

/**
 * Like {@link readCapped}, but a missing file is an error naming the folder and the file.
 *
 * @example
 * ```ts
 * import { readRequired } from "./_capped_file.ts";
 * await readRequired("tests/fixtures/sd/tokenizer_sd1", "merges.txt", 1 << 20); // "#version: 0.2\n..."
 * ```
 */
export async function readRequired(folder: string, name: string, cap: number): Promise<string> {
  const text = await readCapped(folder, name, cap);
  if (text === null) {
    throw new Error(`Tokenizer folder ${folder} has no ${name}; expected a CLIP tokenizer folder`);
  }
  return text;
}

/**
 * `text` parsed as a JSON object; anything else is an error naming `path`.
 *
 * @example
 * ```ts
 * import { parseObject } from "./_capped_file.ts";
 * parseObject('{"a": 1}', "x.json"); // { a: 1 }
 * ```
 */
export function parseObject(text: string, path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`Tokenizer file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    throw new Error(
      `Tokenizer file ${path}: expected a JSON object, got ${
        Array.isArray(doc) ? "an array" : doc
      }`,
    );
  }
  return doc as Record<string, unknown>;
}
