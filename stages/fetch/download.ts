/**
 * One verified download: HTTP(S) with resume (a `Range` request continues `<dest>.part`), retries
 * with exponential backoff, an idle timeout, a progress bar, and a size and SHA-256 check before
 * the file is renamed to its final name. A file at `dest` is therefore always complete and
 * verified; an unverified one never keeps a name that looks finished. A `file://` URL or a plain
 * path (a mirror folder) is copied through the same checks.
 *
 * @module
 */
import { sha256File } from "../../models/core/hash.ts";
import { createProgress } from "../progress.ts";

/** What a download must match. */
export interface Expected {
  /** Size in bytes. */
  size?: number;
  /** Full SHA-256 (hex). */
  sha256?: string;
  /** Leading hex digits of the SHA-256. */
  sha256Prefix?: string;
}

/** Options of {@link download}. */
export interface DownloadOptions {
  /** Name of what is downloaded, in progress and errors (e.g. the asset id). */
  label: string;
  /** Attempts after the first one for a connection error, a cut body, a 5xx, 408 or 429 (default 4). */
  retries?: number;
  /** First wait between attempts, doubled each time (default 1000 ms). */
  backoffMs?: number;
  /** Abort an attempt when no byte arrives for this long (default 60 000 ms). */
  timeoutMs?: number;
}

/** A failed download: names the asset and the URL. */
export class DownloadError extends Error {
  constructor(label: string, url: string, why: string) {
    super(`Cannot fetch ${label} from ${url}: ${why}`);
    this.name = "DownloadError";
  }
}

/** What {@link download} wrote. */
export interface Downloaded {
  size: number;
  sha256: string;
}

class Permanent extends Error {}

/**
 * Downloads `url` to `dest` (via `<dest>.part`), checks it against `expected`, and returns its
 * size and SHA-256.
 *
 * @example
 * ```ts
 * import { download } from "./download.ts";
 * await download("https://download.pytorch.org/models/resnet18-f37072fd.pth", "/tmp/r18.pth",
 *   { sha256Prefix: "f37072fd" }, { label: "resnet18-teacher" });
 * ```
 */
export async function download(
  url: string,
  dest: string,
  expected: Expected,
  o: DownloadOptions,
): Promise<Downloaded> {
  const part = `${dest}.part`;
  const retries = o.retries ?? 4;
  let wait = o.backoffMs ?? 1000;
  const fail = (why: string) => new DownloadError(o.label, url, why);
  for (let attempt = 0;; attempt++) {
    try {
      if (/^https?:\/\//.test(url)) await fetchPart(url, part, expected, o);
      else await Deno.copyFile(url.startsWith("file://") ? new URL(url).pathname : url, part);
      break;
    } catch (e) {
      const why = (e as Error).message;
      if (e instanceof Permanent || e instanceof Deno.errors.NotFound) {
        await Deno.remove(part).catch(() => {});
        throw fail(why);
      }
      if (attempt >= retries) {
        throw fail(`${why} (after ${attempt + 1} attempts; ${part} kept to resume)`);
      }
      await new Promise((r) => setTimeout(r, wait));
      wait *= 2;
    }
  }
  const size = (await Deno.stat(part)).size;
  const sha256 = await sha256File(part);
  const why = expected.size !== undefined && size !== expected.size
    ? `size ${size} bytes, expected ${expected.size}`
    : expected.sha256 && sha256 !== expected.sha256.toLowerCase()
    ? `SHA-256 ${sha256}, expected ${expected.sha256}`
    : expected.sha256Prefix && !sha256.startsWith(expected.sha256Prefix.toLowerCase())
    ? `SHA-256 ${sha256} does not start with ${expected.sha256Prefix}`
    : null;
  if (why) {
    await Deno.remove(part).catch(() => {});
    throw fail(`${why}; the download was deleted`);
  }
  await Deno.rename(part, dest);
  return { size, sha256 };
}

/** One attempt: appends to `part` from where it stops; throws Permanent for what retrying cannot fix. */
async function fetchPart(url: string, part: string, expected: Expected, o: DownloadOptions) {
  let have = await Deno.stat(part).then((s) => s.size, () => 0);
  if (expected.size !== undefined && have >= expected.size) {
    await Deno.remove(part); // longer than the file, or whole but never verified: start over
    have = 0;
  }
  const ctl = new AbortController();
  const idle = o.timeoutMs ?? 60_000;
  let timer = setTimeout(() => ctl.abort(), idle);
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctl.abort(), idle);
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: have > 0 ? { Range: `bytes=${have}-` } : {},
        signal: ctl.signal,
      });
    } catch (e) {
      throw new Error(ctl.signal.aborted ? `no answer within ${idle} ms` : (e as Error).message);
    }
    if (res.status === 416 && have > 0) {
      await res.body?.cancel();
      await Deno.remove(part);
      throw new Error("the server refused to resume (HTTP 416); starting over");
    }
    if (!res.ok) {
      await res.body?.cancel();
      const msg = `HTTP ${res.status} ${res.statusText}`.trim();
      if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Error(msg);
      throw new Permanent(msg);
    }
    const resumed = res.status === 206 && have > 0 &&
      (res.headers.get("content-range") ?? "").startsWith(`bytes ${have}-`);
    const start = resumed ? have : 0;
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? start + length : undefined;
    if (total !== undefined && expected.size !== undefined && total !== expected.size) {
      await res.body?.cancel();
      throw new Permanent(`the server sends ${total} bytes, expected ${expected.size}`);
    }
    const f = await Deno.open(part, {
      write: true,
      create: true,
      append: resumed,
      truncate: !resumed,
    });
    const progress = createProgress(`fetch ${o.label}`, total ?? expected.size ?? 0);
    let got = start;
    if (start) progress.tick(start, "resumed");
    try {
      const reader = res.body!.getReader();
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw new Error(
            ctl.signal.aborted
              ? `no data for ${idle} ms at byte ${got}`
              : `connection cut at byte ${got}: ${(e as Error).message}`,
          );
        }
        if (chunk.done) break;
        kick();
        got += chunk.value.length;
        if (expected.size !== undefined && got > expected.size) {
          throw new Permanent(`more than the expected ${expected.size} bytes`);
        }
        let off = 0;
        while (off < chunk.value.length) off += await f.write(chunk.value.subarray(off));
        progress.tick(chunk.value.length);
      }
    } finally {
      f.close();
      progress.done();
    }
    if (total !== undefined && got < total) {
      throw new Error(`connection cut at byte ${got} of ${total}`);
    }
  } finally {
    clearTimeout(timer);
  }
}
