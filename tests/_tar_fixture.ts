/** Builds small .tar.gz archives in memory for the fetch tests (hostile ones included). */

/** One tar entry: a file with text, a directory, or a symbolic or hard link. */
export interface TarEntry {
  name: string;
  text?: string;
  dir?: boolean;
  symlink?: string;
  hardlink?: string;
}

function header(e: TarEntry, size: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number, len: number) =>
    h.set(new TextEncoder().encode(s).subarray(0, len), off);
  const oct = (n: number, len: number) => n.toString(8).padStart(len - 1, "0");
  put(e.name, 0, 100);
  put(oct(e.dir ? 0o755 : 0o644, 8), 100, 8);
  put(oct(0, 8), 108, 8);
  put(oct(0, 8), 116, 8);
  put(oct(size, 12), 124, 12);
  put(oct(0, 12), 136, 12);
  put(e.dir ? "5" : e.symlink !== undefined ? "2" : e.hardlink !== undefined ? "1" : "0", 156, 1);
  put(e.symlink ?? e.hardlink ?? "", 157, 100);
  put("ustar\x0000", 257, 8);
  put("        ", 148, 8);
  const sum = h.reduce((a, b) => a + b, 0);
  put(oct(sum, 7) + "\0", 148, 8);
  return h;
}

/** A gzip-compressed tar of `entries`. */
export async function tarGz(entries: TarEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const body = new TextEncoder().encode(e.text ?? "");
    parts.push(header(e, body.length));
    if (body.length) {
      const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
      padded.set(body);
      parts.push(padded);
    }
  }
  parts.push(new Uint8Array(1024));
  const tar = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    tar.set(p, off);
    off += p.length;
  }
  const gz = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(gz).arrayBuffer());
}
