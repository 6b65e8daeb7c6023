/**
 * What makes a shard file trustworthy, checked on the bytes of the file: it parses as
 * safetensors, its tensors fill the data section exactly (a truncated or padded file fails),
 * its SHA-256 equals the one recorded beside it when it was written (`<shard>.safetensors.sha256`,
 * in `sha256sum` format, so `sha256sum -c` checks it too), and it is stamped with the
 * artifact's key and its own shard name.
 *
 * @module
 */
import { parseSafetensorsHeader } from "../../models/io/safetensors.ts";
import { sha256Bytes } from "../../models/core/hash.ts";

/** Suffix of the file beside each shard that records its SHA-256. */
export const CHECKSUM_SUFFIX = ".sha256";

/** The checksum file's text for a shard file's bytes: `<sha256>  <file name>\n`. */
export function checksumText(bytes: Uint8Array, fileName: string): Uint8Array {
  return new TextEncoder().encode(`${sha256Bytes(bytes)}  ${fileName}\n`);
}

/** The SHA-256 recorded in a checksum file's text, or null when the text is not one. */
export function parseChecksum(text: string): string | null {
  const m = /^([0-9a-f]{64}) {2}\S+\n?$/.exec(text);
  return m ? m[1] : null;
}

/** What a shard file is expected to be. */
export interface ShardExpectation {
  /** The shard's name, as stamped in its metadata (`mgd3.shard`). */
  shard: string;
  /** The artifact key, as stamped in its metadata (`mgd3.key`). */
  key: string;
  /**
   * The recorded SHA-256; null when the shard has no checksum file (shards written before
   * checksums were recorded), "unreadable" when the checksum file is not one.
   */
  checksum: string | null;
}

/**
 * What is wrong with a shard file's bytes, in words, or null when nothing is.
 *
 * @example
 * ```ts
 * import { shardProblem } from "./_verify.ts";
 * const bytes = await Deno.readFile("a/class-000.safetensors");
 * shardProblem(bytes, "a/class-000.safetensors", { shard: "class-000", key, checksum: null });
 * ```
 */
export function shardProblem(
  bytes: Uint8Array,
  path: string,
  want: ShardExpectation,
): string | null {
  let header;
  try {
    header = parseSafetensorsHeader(bytes, path, bytes.length);
  } catch (e) {
    return `${(e as Error).message} (truncated or corrupt)`;
  }
  const dataSize = bytes.length - header.dataStart;
  const used = Object.values(header.tensors).reduce((a, t) => Math.max(a, t.data_offsets[1]), 0);
  if (used !== dataSize) {
    return `its tensors end at byte ${used} of a ${dataSize}-byte data section`;
  }
  if (want.checksum !== null) {
    if (want.checksum === "unreadable") {
      return `its checksum file ${path}${CHECKSUM_SUFFIX} is not '<sha256>  <file>'`;
    }
    const actual = sha256Bytes(bytes);
    if (actual !== want.checksum) {
      return `its SHA-256 ${actual.slice(0, 12)}... differs from ${
        want.checksum.slice(0, 12)
      }... recorded in ${path}${CHECKSUM_SUFFIX} when it was written`;
    }
  }
  const m = header.metadata;
  if (m["mgd3.key"] !== want.key) {
    return `it was written with key ${
      m["mgd3.key"] ?? "(none)"
    }, but the manifest has key ${want.key}: the store is mismatched`;
  }
  if (m["mgd3.shard"] !== undefined && m["mgd3.shard"] !== want.shard) {
    return `it holds shard '${m["mgd3.shard"]}', not '${want.shard}'`;
  }
  return null;
}
