/**
 * A minimal random-access ZIP reader, enough for PyTorch's zip checkpoints (torch.save
 * writes stored, 64-byte aligned entries, with ZIP64 records once the file passes 4 GB).
 * Only the central directory is read on open; each entry is read on request with
 * seek + read, so a multi-gigabyte checkpoint is never held in memory at once.
 * DEFLATE entries (a checkpoint re-zipped by a user) are inflated with the web-standard
 * DecompressionStream("deflate-raw"), fed in small pieces from the file so that inflating
 * stops as soon as an entry passes its declared size: a zip bomb costs about twice what it
 * declares (at least 1 MiB, at most 66 MiB more). What all DEFLATE entries of one archive
 * may declare together is capped (see {@link ZipOptions.maxInflatedBytes}).
 *
 * Follows the PKWARE APPNOTE (sections 4.3.7 local header, 4.3.12 central directory
 * header, 4.3.14-16 ZIP64 end records, 4.5.3 ZIP64 extra field).
 *
 * @module
 */

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22; // fixed part of the end-of-central-directory record
const MAX_COMMENT = 0xffff; // the EOCD comment length is a u16
const ZIP64_EXTRA_ID = 0x0001;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
/**
 * Most bytes DEFLATE can produce per compressed byte: a 258-byte match coded in 2 bits
 * (RFC 1951, 3.2.5-3.2.7), so no honest entry declares more than 1032 times its
 * compressed size (plus a few bytes of block header).
 */
const DEFLATE_MAX_RATIO = 1032;
const DEFLATE_SLACK = 1024; // bytes: headers and a final partial block
/**
 * Compressed bytes fed to the inflater at a time: declared size / 1032, within these bounds,
 * so one piece inflates to about the declared size (at least 1 MiB, at most 66 MiB).
 */
const INFLATE_PIECE_MIN = 1024;
const INFLATE_PIECE_MAX = 64 * 1024;
/**
 * Default cap on the bytes all DEFLATE entries of one archive may inflate to, together:
 * 64 times the archive's size on disk, and at least 256 MiB. Tensor data hardly compresses
 * (float weights deflate by about 1.1x), so only a bomb comes near it.
 */
const INFLATE_RATIO_CAP = 64;
/** The floor of the default cap, so small archives of zero-filled tensors still read. */
const INFLATE_FLOOR_BYTES = 256 * 2 ** 20;

/**
 * One entry of the central directory.
 *
 * @example
 * ```ts
 * import { ZipReader } from "./_zip.ts";
 * using zip = await ZipReader.open("model.pt");
 * for (const e of zip.entries.values()) console.log(e.name, e.size);
 * ```
 */
export interface ZipEntry {
  /** Path inside the archive, e.g. "archive/data/0". */
  name: string;
  /** 0 stored, 8 deflate. */
  method: number;
  /** Bytes in the file. */
  compressedSize: number;
  /** Bytes once inflated. */
  size: number;
  /** CRC-32 of the inflated bytes. */
  crc32: number;
  /** Offset of the entry's local header in the file. */
  localHeaderOffset: number;
}

/**
 * Error for a file that is not a readable ZIP archive; names the file.
 *
 * @example
 * ```ts
 * import { ZipError } from "./_zip.ts";
 * new ZipError("x.pt", "truncated").message; // "Cannot read zip archive x.pt: truncated"
 * ```
 */
export class ZipError extends Error {
  /** Builds "Cannot read zip archive <path>: <what>". */
  constructor(path: string, readonly detail: string) {
    super(`Cannot read zip archive ${path}: ${detail}`);
    this.name = "ZipError";
  }
}

/**
 * Options of {@link ZipReader.open}.
 *
 * @example
 * ```ts
 * import type { ZipOptions } from "./_zip.ts";
 * const options: ZipOptions = { maxInflatedBytes: 8 * 2 ** 30 };
 * ```
 */
export interface ZipOptions {
  /**
   * Most bytes the archive's DEFLATE entries may inflate to, all reads together (default
   * 64x the file size, at least 256 MiB). Stored entries are not counted.
   */
  maxInflatedBytes?: number;
}

/**
 * An open ZIP archive. Call {@link ZipReader.close} (or use `using`) when done.
 *
 * @example
 * ```ts
 * import { ZipReader } from "./_zip.ts";
 * const zip = await ZipReader.open("model.pt");
 * try {
 *   const pkl = await zip.read("archive/data.pkl");
 * } finally {
 *   zip.close();
 * }
 * ```
 */
export class ZipReader {
  /** Entries by name, in central-directory order. */
  readonly entries: Map<string, ZipEntry>;
  readonly path: string;
  readonly size: number;
  /** Cap on the bytes DEFLATE entries may inflate to, all reads together. */
  readonly maxInflatedBytes: number;
  #file: Deno.FsFile;
  #queue: Promise<unknown> = Promise.resolve();
  #inflated = 0;

  private constructor(
    path: string,
    file: Deno.FsFile,
    size: number,
    entries: ZipEntry[],
    maxInflatedBytes: number,
  ) {
    this.path = path;
    this.size = size;
    this.#file = file;
    this.entries = new Map(entries.map((e) => [e.name, e]));
    this.maxInflatedBytes = maxInflatedBytes;
  }

  /** Opens `path` and reads its central directory. */
  static async open(path: string, options: ZipOptions = {}): Promise<ZipReader> {
    const file = await Deno.open(path, { read: true });
    try {
      const size = (await file.stat()).size;
      const entries = await readCentralDirectory(file, path, size);
      const cap = options.maxInflatedBytes ??
        Math.max(INFLATE_FLOOR_BYTES, INFLATE_RATIO_CAP * size);
      return new ZipReader(path, file, size, entries, cap);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /**
   * Reads and (if deflated) inflates one entry; checks its CRC-32 when `checkCrc`.
   * Concurrent calls are queued, since each one seeks the shared file handle.
   */
  read(name: string, options: { checkCrc?: boolean } = {}): Promise<Uint8Array> {
    const result = this.#queue.then(() => this.#read(name, options));
    this.#queue = result.catch(() => {});
    return result;
  }

  async #read(name: string, options: { checkCrc?: boolean }): Promise<Uint8Array> {
    const e = this.entries.get(name);
    if (!e) throw new ZipError(this.path, `entry '${name}' not found`);
    const local = await readAt(this.#file, e.localHeaderOffset, 30, this.path, this.size);
    const lv = view(local);
    if (lv.getUint32(0, true) !== SIG_LOCAL) {
      throw new ZipError(
        this.path,
        `entry '${name}' has no local header at ${e.localHeaderOffset}`,
      );
    }
    const start = e.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (start + e.compressedSize > this.size) {
      throw new ZipError(
        this.path,
        `entry '${name}' needs bytes ${start}..${start + e.compressedSize} ` +
          `but the file has ${this.size} (truncated?)`,
      );
    }
    let data: Uint8Array;
    if (e.method === METHOD_STORED) {
      data = await readAt(this.#file, start, e.compressedSize, this.path, this.size);
    } else if (e.method === METHOD_DEFLATE) {
      this.#claimInflated(e);
      data = await inflateRaw(this.#file, start, e, this.path, this.size);
    } else throw new ZipError(this.path, `entry '${name}' uses unsupported method ${e.method}`);
    if (data.length !== e.size) {
      throw new ZipError(this.path, `entry '${name}' has ${data.length} bytes, expected ${e.size}`);
    }
    if (options.checkCrc && crc32(data) !== e.crc32) {
      throw new ZipError(this.path, `entry '${name}' fails its CRC-32 check (corrupt file)`);
    }
    return data;
  }

  /** Counts a DEFLATE entry's declared size against the cap, before anything is allocated. */
  #claimInflated(e: ZipEntry): void {
    if (e.size > e.compressedSize * DEFLATE_MAX_RATIO + DEFLATE_SLACK) {
      throw new ZipError(
        this.path,
        `entry '${e.name}' declares ${e.size} bytes from ${e.compressedSize} compressed; ` +
          `DEFLATE cannot expand more than ${DEFLATE_MAX_RATIO}:1 (corrupt, or a zip bomb)`,
      );
    }
    if (this.#inflated + e.size > this.maxInflatedBytes) {
      throw new ZipError(
        this.path,
        `entry '${e.name}' would inflate to ${e.size} bytes, bringing the archive's ` +
          `DEFLATE entries to ${this.#inflated + e.size} bytes, past the cap of ` +
          `${this.maxInflatedBytes} (${INFLATE_RATIO_CAP}x the file size, at least ` +
          `${INFLATE_FLOOR_BYTES}; a zip bomb? maxInflatedBytes raises the cap)`,
      );
    }
    this.#inflated += e.size;
  }

  /** Closes the file. */
  close(): void {
    this.#file.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

async function readCentralDirectory(
  file: Deno.FsFile,
  path: string,
  size: number,
): Promise<ZipEntry[]> {
  if (size < EOCD_SIZE) throw new ZipError(path, `file has only ${size} bytes`);
  // 1. Find the end-of-central-directory record, scanning back over a possible comment.
  const tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const tail = await readAt(file, size - tailLen, tailLen, path, size);
  const tv = view(tail);
  let eocd = -1;
  for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new ZipError(path, "no end-of-central-directory record (truncated, or not a zip file)");
  }
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  // 2. ZIP64: the locator sits just before the EOCD and points at the ZIP64 EOCD record.
  const eocdPos = size - tailLen + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdPos < 20) throw new ZipError(path, "ZIP64 locator missing");
    const loc = view(await readAt(file, eocdPos - 20, 20, path, size));
    if (loc.getUint32(0, true) !== SIG_ZIP64_LOCATOR) {
      throw new ZipError(path, "ZIP64 end-of-central-directory locator missing");
    }
    const recPos = u64(loc, 8, path);
    const rec = view(await readAt(file, recPos, 56, path, size));
    if (rec.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      throw new ZipError(path, `no ZIP64 end-of-central-directory record at ${recPos}`);
    }
    count = u64(rec, 32, path);
    cdSize = u64(rec, 40, path);
    cdOffset = u64(rec, 48, path);
  }
  if (cdOffset + cdSize > size) {
    throw new ZipError(
      path,
      `central directory (${cdSize} bytes at ${cdOffset}) lies past the end of the ` +
        `${size}-byte file (truncated?)`,
    );
  }
  // 3. Walk the central directory headers.
  const cd = await readAt(file, cdOffset, cdSize, path, size);
  const cv = view(cd);
  const names = new TextDecoder();
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.length || cv.getUint32(at, true) !== SIG_CENTRAL) {
      throw new ZipError(path, `central directory entry ${i} of ${count} is malformed`);
    }
    const nameLen = cv.getUint16(at + 28, true);
    const extraLen = cv.getUint16(at + 30, true);
    const commentLen = cv.getUint16(at + 32, true);
    const e: ZipEntry = {
      name: names.decode(cd.subarray(at + 46, at + 46 + nameLen)),
      method: cv.getUint16(at + 10, true),
      crc32: cv.getUint32(at + 16, true),
      compressedSize: cv.getUint32(at + 20, true),
      size: cv.getUint32(at + 24, true),
      localHeaderOffset: cv.getUint32(at + 42, true),
    };
    applyZip64Extra(e, cd.subarray(at + 46 + nameLen, at + 46 + nameLen + extraLen), path);
    entries.push(e);
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Replaces 0xffffffff placeholders by the 8-byte values of the ZIP64 extra field. */
function applyZip64Extra(e: ZipEntry, extra: Uint8Array, path: string): void {
  const ev = view(extra);
  for (let at = 0; at + 4 <= extra.length;) {
    const id = ev.getUint16(at, true);
    const len = ev.getUint16(at + 2, true);
    if (id === ZIP64_EXTRA_ID) {
      const field = view(extra.subarray(at + 4, at + 4 + len));
      let p = 0;
      const next = () => {
        if (p + 8 > field.byteLength) throw new ZipError(path, `bad ZIP64 field in '${e.name}'`);
        const v = u64(field, p, path);
        p += 8;
        return v;
      };
      if (e.size === 0xffffffff) e.size = next();
      if (e.compressedSize === 0xffffffff) e.compressedSize = next();
      if (e.localHeaderOffset === 0xffffffff) e.localHeaderOffset = next();
    }
    at += 4 + len;
  }
}

/**
 * Inflates an entry into a buffer of its declared size, feeding the inflater small pieces
 * of the file and stopping at the first output past the declared size, so a bomb is never
 * inflated further than one piece (at most 1032x its size) beyond what it declares.
 */
async function inflateRaw(
  file: Deno.FsFile,
  start: number,
  e: ZipEntry,
  path: string,
  fileSize: number,
): Promise<Uint8Array> {
  const piece = Math.min(
    INFLATE_PIECE_MAX,
    Math.max(INFLATE_PIECE_MIN, Math.ceil(e.size / DEFLATE_MAX_RATIO)),
  );
  let fed = 0;
  let reading: Promise<unknown> = Promise.resolve(); // the file read in flight, if any
  const source = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull: async (controller) => {
      if (fed >= e.compressedSize) return controller.close();
      const n = Math.min(piece, e.compressedSize - fed);
      const read = readAt(file, start + fed, n, path, fileSize);
      reading = read;
      controller.enqueue((await read) as Uint8Array<ArrayBuffer>);
      fed += n;
    },
  }, { highWaterMark: 0 });
  const out = new Uint8Array(e.size);
  let n = 0;
  try {
    for await (const chunk of source.pipeThrough(new DecompressionStream("deflate-raw"))) {
      if (n + chunk.length > e.size) {
        throw new ZipError(path, `entry '${e.name}' inflates past its declared ${e.size} bytes`);
      }
      out.set(chunk, n);
      n += chunk.length;
    }
  } catch (err) {
    if (err instanceof ZipError) throw err;
    throw new ZipError(path, `entry '${e.name}' does not inflate (${(err as Error).message})`);
  } finally {
    await reading.catch(() => {}); // the next read seeks the same handle
  }
  return out.subarray(0, n);
}

async function readAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
  path: string,
  size: number,
): Promise<Uint8Array> {
  if (offset < 0 || offset + length > size) {
    throw new ZipError(
      path,
      `needs bytes ${offset}..${offset + length} but the file has ${size} (truncated or corrupt)`,
    );
  }
  const buf = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < length) {
    const n = await file.read(buf.subarray(done));
    if (n === null) {
      throw new ZipError(path, `unexpected end of file reading ${length} bytes at ${offset}`);
    }
    done += n;
  }
  return buf;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number, path: string): number {
  const x = v.getBigUint64(at, true);
  if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError(path, `64-bit field ${x} too large`);
  return Number(x);
}

let crcTable: Uint32Array | undefined;

/**
 * CRC-32 (IEEE 802.3, as ZIP uses it) of some bytes.
 *
 * @example
 * ```ts
 * import { crc32 } from "./_zip.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
