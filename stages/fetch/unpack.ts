/**
 * Safe unpacking of a `.tar.gz` (`.tgz`, ustar, GNU long names and pax headers) or a `.zip`
 * (stored or deflated entries; a link entry is written as a plain file, never as a link): every entry must
 * land inside the target folder. An absolute name, a `..` component, or a symbolic or hard link
 * whose target resolves outside the folder is refused (the whole archive fails, naming the
 * entry); links are made only after every regular file is written, so no file is ever written
 * through a link. Devices, FIFOs and other special entries are skipped.
 *
 * @module
 */
import { dirname, join, normalize } from "node:path";
import { ZipReader } from "../../models/io/zip.ts";

const BLOCK = 512;

/** An archive entry that would write outside the target. */
export class UnsafeArchiveError extends Error {
  constructor(archive: string, entry: string, why: string) {
    super(`Refusing to unpack ${archive}: entry '${entry}' ${why}`);
    this.name = "UnsafeArchiveError";
  }
}

/**
 * A path inside the archive, normalised and checked to stay inside the target; throws otherwise.
 */
function inside(
  archive: string,
  name: string,
  what = "escapes the target folder",
  entry = name,
): string {
  const n = normalize(name.replace(/^(\.\/)+/, ""));
  if (name.startsWith("/") || n === ".." || n.startsWith("../") || n.includes("/../")) {
    throw new UnsafeArchiveError(archive, entry, what);
  }
  return n.replace(/\/+$/, "");
}

/** Reads exactly n bytes from a chunk stream (fewer only at its end). */
class Bytes {
  #it: AsyncIterator<Uint8Array>;
  #buf = new Uint8Array(0);
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#it = stream[Symbol.asyncIterator]();
  }
  async read(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) {
      const { value, done } = await this.#it.next();
      if (done) break;
      const b = new Uint8Array(this.#buf.length + value.length);
      b.set(this.#buf);
      b.set(value, this.#buf.length);
      this.#buf = b;
    }
    const out = this.#buf.subarray(0, Math.min(n, this.#buf.length));
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }
}

const text = (b: Uint8Array) =>
  new TextDecoder().decode(b.subarray(0, (b.indexOf(0) + 1 || b.length + 1) - 1));
const octal = (b: Uint8Array) => parseInt(text(b).trim() || "0", 8);

function paxRecords(b: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const s = new TextDecoder().decode(b);
  let i = 0;
  while (i < s.length) {
    const sp = s.indexOf(" ", i);
    if (sp < 0) break;
    const len = Number(s.slice(i, sp));
    if (!(len > 0)) break;
    const rec = s.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * Unpacks a gzip-compressed tar archive into `target` (created if missing); returns the number of
 * regular files written.
 *
 * @example
 * ```ts
 * import { unpackTarGz } from "./unpack.ts";
 * await unpackTarGz("imagenette2.tgz", "/tmp/unpacked");
 * ```
 */
export async function unpackTarGz(archive: string, target: string): Promise<number> {
  await Deno.mkdir(target, { recursive: true });
  const f = await Deno.open(archive, { read: true });
  const r = new Bytes(f.readable.pipeThrough(new DecompressionStream("gzip")));
  const links: { name: string; to: string; hard: boolean }[] = [];
  let files = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax: Record<string, string> = {};
  for (;;) {
    const h = await r.read(BLOCK);
    if (h.length < BLOCK || h.every((x) => x === 0)) break;
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156] || 48);
    const prefix = text(h.subarray(257, 263)).startsWith("ustar") ? text(h.subarray(345, 500)) : "";
    const raw = longName ?? pax.path ?? (prefix ? `${prefix}/` : "") + text(h.subarray(0, 100));
    const linkRaw = longLink ?? pax.linkpath ?? text(h.subarray(157, 257));
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L" || type === "K" || type === "x" || type === "g") {
      const body = (await r.read(padded)).subarray(0, size);
      if (type === "L") longName = text(body);
      else if (type === "K") longLink = text(body);
      else if (type === "x") pax = paxRecords(body);
      continue;
    }
    longName = longLink = null;
    pax = {};
    const name = inside(archive, raw);
    const dest = join(target, name);
    if (type === "5") {
      if (name) await Deno.mkdir(dest, { recursive: true });
    } else if (type === "0" || type === "7") {
      await Deno.mkdir(dirname(dest), { recursive: true });
      const out = await Deno.open(dest, {
        write: true,
        createNew: true,
        mode: octal(h.subarray(100, 108)) & 0o100 ? 0o755 : 0o644,
      });
      try {
        let left = padded;
        let data = size;
        while (left > 0) {
          const chunk = await r.read(Math.min(left, 1 << 20));
          if (chunk.length === 0) throw new Error(`${archive} ends inside '${raw}'`);
          const keep = chunk.subarray(0, Math.min(chunk.length, data));
          let off = 0;
          while (off < keep.length) off += await out.write(keep.subarray(off));
          data -= keep.length;
          left -= chunk.length;
        }
      } finally {
        out.close();
      }
      files++;
      continue;
    } else if (type === "2" || type === "1") {
      const hard = type === "1";
      const resolved = hard ? linkRaw : join(dirname(name), linkRaw);
      if (linkRaw.startsWith("/")) {
        throw new UnsafeArchiveError(archive, raw, `links to absolute path '${linkRaw}'`);
      }
      inside(archive, resolved, `links outside the target folder ('${linkRaw}')`, raw);
      links.push({ name, to: hard ? inside(archive, linkRaw) : linkRaw, hard });
    }
    await r.read(padded); // skip a body we do not write
  }
  try {
    f.close();
  } catch {
    // already closed by its stream
  }
  for (const l of links) {
    const dest = join(target, l.name);
    await Deno.mkdir(dirname(dest), { recursive: true });
    if (l.hard) await Deno.copyFile(join(target, l.to), dest);
    else await Deno.symlink(l.to, dest);
  }
  return files;
}

/**
 * Unpacks a zip archive into `target` (created if missing), refusing any entry whose name would
 * land outside it; returns the number of files written. Symbolic links are not made: their
 * entries become plain files holding the link text.
 *
 * @example
 * ```ts
 * import { unpackZip } from "./unpack.ts";
 * await unpackZip("vq-f4.zip", "/tmp/unpacked");
 * ```
 */
export async function unpackZip(archive: string, target: string): Promise<number> {
  await Deno.mkdir(target, { recursive: true });
  const zip = await ZipReader.open(archive);
  let files = 0;
  try {
    const names = [...zip.entries.keys()].map((n) => [n, inside(archive, n)] as const);
    for (const [raw, name] of names) {
      const dest = join(target, name);
      if (raw.endsWith("/")) {
        if (name) await Deno.mkdir(dest, { recursive: true });
        continue;
      }
      await Deno.mkdir(dirname(dest), { recursive: true });
      await Deno.writeFile(dest, await zip.read(raw, { checkCrc: true }), { createNew: true });
      files++;
    }
  } finally {
    zip.close();
  }
  return files;
}

/**
 * Unpacks a `.tar.gz`/`.tgz` or `.zip` (by its name) into `target`.
 *
 * @example
 * ```ts
 * import { unpackArchive } from "./unpack.ts";
 * await unpackArchive("imagenette2.tgz", "/tmp/unpacked");
 * ```
 */
export function unpackArchive(archive: string, target: string): Promise<number> {
  if (/\.zip$/i.test(archive)) return unpackZip(archive, target);
  if (/\.(tar\.gz|tgz)$/i.test(archive)) return unpackTarGz(archive, target);
  throw new Error(`Cannot unpack ${archive}: expected a .tar.gz, .tgz or .zip name`);
}
