// Hostile checkpoints built in memory for the reader tests: a DEFLATE bomb, zips whose
// entries lie about their sizes, and pickles that nest deep or share one value many times.
// Pickle opcodes as named in CPython's Lib/pickletools.py; DEFLATE as in RFC 1951.
import { crc32 } from "../models/io/_zip.ts";

/** One zip entry: stored (method 0) or DEFLATE (8), with its declared size and CRC-32. */
export interface ZipSpec {
  name: string;
  /** The bytes written to the archive (already compressed for method 8). */
  data: Uint8Array;
  method?: 0 | 8;
  /** Declared inflated size (default: data.length). */
  size?: number;
  /** Declared CRC-32 (default: crc32(data)). */
  crc?: number;
}

/** A zip archive of the given entries, laid out the way torch.save lays them out. */
export function zipOf(entries: ZipSpec[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const [method, size, crc] = [e.method ?? 0, e.size ?? e.data.length, e.crc ?? crc32(e.data)];
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    parts.push(local, e.data);
    central.push(c);
    offset += local.length + e.data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  return concat([...parts, ...central, end]);
}

/**
 * A raw DEFLATE stream that inflates to `1 + 258 * matches` zero bytes from about
 * `matches / 4` bytes: one dynamic-Huffman block (RFC 1951, 3.2.7) whose only codes are
 * literal 0, end-of-block and length 258 (code 285, 1 bit) at distance 1 (1 bit), so each
 * 258-byte match costs 2 bits: the format's maximal ratio of about 1032:1.
 */
export function deflateBomb(matches: number): Uint8Array {
  const headerBits = 3 + 5 + 5 + 4 + 18 * 3 + 2 + 3 * (1 + 7) + 2 + 2 + 2;
  const totalBits = headerBits + 2 + 2 * matches + 2; // literal 0, the matches, end of block
  const out = new Uint8Array(Math.ceil(totalBits / 8));
  let bit = 0;
  const bits = (value: number, n: number) => { // fields: least significant bit first
    for (let i = 0; i < n; i++, bit++) if ((value >> i) & 1) out[bit >> 3] |= 1 << (bit & 7);
  };
  const code = (value: number, n: number) => { // Huffman codes: most significant bit first
    for (let i = n - 1; i >= 0; i--, bit++) if ((value >> i) & 1) out[bit >> 3] |= 1 << (bit & 7);
  };
  bits(1, 1); // BFINAL
  bits(2, 2); // BTYPE = dynamic Huffman
  bits(286 - 257, 5); // HLIT: literal/length codes up to 285
  bits(0, 5); // HDIST: one distance code
  bits(18 - 4, 4); // HCLEN: 18 code-length code lengths
  // Code-length alphabet in its transmission order 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4,
  // 12, 3, 13, 2, 14, 1: symbol 18 (runs of zeros) gets 1 bit, symbols 1 and 2 get 2 bits.
  for (const len of [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2]) bits(len, 3);
  // Canonical codes: 18 -> 0, 1 -> 10, 2 -> 11.
  const length2 = () => code(0b11, 2);
  const zeros = (n: number) => (code(0, 1), bits(n - 11, 7));
  length2(); // literal 0: 2 bits
  zeros(138); // literals 1..138
  zeros(117); // literals 139..255
  length2(); // 256 (end of block): 2 bits
  zeros(28); // 257..284
  code(0b10, 2); // 285 (length 258): 1 bit
  code(0b10, 2); // distance code 0 (distance 1): 1 bit
  if (bit !== headerBits) throw new Error(`deflateBomb header is ${bit} bits`);
  // Canonical literal/length codes: 285 -> 0, literal 0 -> 10, 256 -> 11; distance 0 -> 0.
  code(0b10, 2);
  bit += 2 * matches; // each match: code 285 then distance 0, both 0 bits
  code(0b11, 2);
  return out;
}

/** Pickle opcodes used below (CPython pickletools names). */
const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  POP: 0x30,
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  EMPTY_TUPLE: 0x29,
  APPEND: 0x61,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  BININT: 0x4a,
  BININT1: 0x4b,
  NEWFALSE: 0x89,
  LONG_BINPUT: 0x72,
  LONG_BINGET: 0x6a,
  REDUCE: 0x52,
  BINPERSID: 0x51,
  SHORT_BINUNICODE: 0x8c,
  GLOBAL: 0x63,
};

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const str = (s: string) => [OP.SHORT_BINUNICODE, s.length, ...ascii(s)];
const global = (module: string, name: string) => [OP.GLOBAL, ...ascii(`${module}\n${name}\n`)];
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
const put = (i: number) => [OP.LONG_BINPUT, ...u32(i)];
const get = (i: number) => [OP.LONG_BINGET, ...u32(i)];

/**
 * Opcodes that push a float32 tensor of `shape` and `stride` viewing storage "0"
 * (`torch._utils._rebuild_tensor_v2`, as torch.save writes it).
 */
function tensorOps(shape: number[], stride: number[]): number[] {
  const ints = (xs: number[]) => [OP.MARK, ...xs.flatMap((x) => int(x)), OP.TUPLE];
  return [
    ...global("torch._utils", "_rebuild_tensor_v2"),
    OP.MARK,
    ...[OP.MARK, ...str("storage"), ...global("torch", "FloatStorage"), ...str("0")],
    ...[...str("cpu"), OP.BININT1, 1, OP.TUPLE, OP.BINPERSID],
    ...[OP.BININT1, 0, ...ints(shape), ...ints(stride), OP.NEWFALSE],
    ...[...global("collections", "OrderedDict"), OP.EMPTY_TUPLE, OP.REDUCE],
    OP.TUPLE,
    OP.REDUCE,
  ];
}

function int(x: number): number[] {
  if (x < 256) return [OP.BININT1, x];
  return [OP.BININT, ...u32(x)];
}

/**
 * `t = tensor([1.0]); d = t; for _ in range(levels): d = {"a": d, "b": d}`: 2^levels paths
 * to one tensor in a pickle of a few hundred bytes.
 */
export function sharedPickle(levels: number): Uint8Array {
  const ops = [OP.PROTO, 2, ...tensorOps([1], [1]), ...put(0)];
  for (let i = 1; i <= levels; i++) {
    ops.push(OP.POP, OP.EMPTY_DICT, ...put(i), OP.MARK);
    ops.push(...str("a"), ...get(i - 1), ...str("b"), ...get(i - 1), OP.SETITEMS);
  }
  return new Uint8Array([...ops, OP.STOP]);
}

/** `{"w": [[[...[tensor]...]]]}` with the tensor `depth` lists deep. */
export function deepPickle(depth: number): Uint8Array {
  const head = [OP.PROTO, 2, OP.EMPTY_DICT, ...str("w")];
  const tensor = tensorOps([1], [1]);
  const out = new Uint8Array(head.length + depth + tensor.length + depth + 2);
  out.set(head);
  out.fill(OP.EMPTY_LIST, head.length, head.length + depth);
  out.set(tensor, head.length + depth);
  out.fill(OP.APPEND, head.length + depth + tensor.length, out.length - 2);
  out.set([OP.SETITEM, OP.STOP], out.length - 2);
  return out;
}

/** `d = {}; d["ema"] = d; d["w"] = tensor([1.0])`: a dict that holds itself. */
export function cyclePickle(): Uint8Array {
  return new Uint8Array([
    ...[OP.PROTO, 2, OP.EMPTY_DICT, ...put(0), OP.MARK, ...str("ema"), ...get(0)],
    ...[...str("w"), ...tensorOps([1], [1]), OP.SETITEMS, OP.STOP],
  ]);
}

/** `{"w": t}` with `t` a float32 view of `shape` and `stride` over a 1-element storage. */
export function viewPickle(shape: number[], stride: number[]): Uint8Array {
  return new Uint8Array([
    ...[OP.PROTO, 2, OP.EMPTY_DICT, ...str("w"), ...tensorOps(shape, stride), OP.SETITEM, OP.STOP],
  ]);
}

/** A torch.save-like zip of a pickle and a 1-element float32 storage "0". */
export function checkpointOf(pickle: Uint8Array): Uint8Array {
  return zipOf([
    { name: "archive/data.pkl", data: pickle },
    { name: "archive/data/0", data: new Uint8Array(new Float32Array([1]).buffer) },
  ]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
