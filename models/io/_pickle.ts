/**
 * A safe interpreter for the subset of Python's pickle (protocols 2 to 5) that a PyTorch
 * state dict uses. It never runs code: a GLOBAL/STACK_GLOBAL opcode resolves only names
 * in the whitelist the caller passes, and any other name is an error naming the global
 * and the file. Opcode semantics follow CPython's `Lib/pickle.py` and `pickletools`.
 *
 * Python values map to JavaScript as: dict/OrderedDict -> Map (keys keep their types and
 * order), list and tuple -> Array, set/frozenset -> Set, str -> string, bytes ->
 * Uint8Array, int -> number (bigint beyond 2^53), float -> number, None -> null,
 * bool -> boolean.
 *
 * @module
 */

/**
 * Error for a pickle that is malformed or asks for something not allowed; names the file.
 *
 * @example
 * ```ts
 * import { PickleError } from "./_pickle.ts";
 * new PickleError("a.pkl", "stack underflow").message; // "Cannot unpickle a.pkl: stack underflow"
 * ```
 */
export class PickleError extends Error {
  /** Builds "Cannot unpickle <file>: <what>". */
  constructor(file: string, readonly detail: string) {
    super(`Cannot unpickle ${file}: ${detail}`);
    this.name = "PickleError";
  }
}

/**
 * What a whitelisted global does when called (REDUCE, NEWOBJ): a pure function of the
 * pickled arguments.
 *
 * @example
 * ```ts
 * import type { PickleCall } from "./_pickle.ts";
 * const tuple: PickleCall = (args) => [...args];
 * ```
 */
export type PickleCall = (args: unknown[], kwargs?: Map<unknown, unknown>) => unknown;

/**
 * A resolved, whitelisted global: a name and, if callable, what calling it returns.
 * Globals without `call` are tokens (e.g. a storage type) that only other globals consume.
 *
 * @example
 * ```ts
 * import { PyGlobal } from "./_pickle.ts";
 * const set = new PyGlobal("builtins.set", ([items]) => new Set(items as unknown[]));
 * ```
 */
export class PyGlobal {
  constructor(readonly name: string, readonly call?: PickleCall) {}
}

/**
 * An inert stand-in for an instance of a global the caller allowed by name (for example
 * `argparse.Namespace` in a training checkpoint): it records the constructor arguments
 * and the BUILD state, and runs nothing.
 *
 * @example
 * ```ts
 * import { PyObject } from "./_pickle.ts";
 * const o = new PyObject("argparse.Namespace", []);
 * ```
 */
export class PyObject {
  state: unknown = undefined;
  constructor(readonly global: string, readonly args: unknown[]) {}
}

/**
 * The plain-Python globals a state dict may name: OrderedDict, set, frozenset and
 * `_codecs.encode` (protocol 2's spelling of a bytes literal).
 *
 * @example
 * ```ts
 * import { PYTHON_GLOBALS, unpickle } from "./_pickle.ts";
 * unpickle(new Uint8Array([0x80, 2, 0x7d, 0x2e]), { globals: PYTHON_GLOBALS }); // Map {}
 * ```
 */
export const PYTHON_GLOBALS: ReadonlyMap<string, PyGlobal> = new Map(
  [
    new PyGlobal("collections.OrderedDict", (args) => new Map(toPairs(args[0]))),
    new PyGlobal("builtins.set", (args) => new Set((args[0] ?? []) as Iterable<unknown>)),
    new PyGlobal("builtins.frozenset", (args) => new Set((args[0] ?? []) as Iterable<unknown>)),
    new PyGlobal("_codecs.encode", ([s, enc]) => {
      if (typeof s !== "string" || (enc !== "latin1" && enc !== "latin-1")) {
        throw new TypeError(`_codecs.encode supports only latin1 strings, got ${enc}`);
      }
      return Uint8Array.from(s, (c) => c.charCodeAt(0));
    }),
  ].map((g) => [g.name, g]),
);

/**
 * Options of {@link unpickle}.
 *
 * @example
 * ```ts
 * import { PYTHON_GLOBALS, type UnpickleOptions } from "./_pickle.ts";
 * const options: UnpickleOptions = { globals: PYTHON_GLOBALS, file: "data.pkl" };
 * ```
 */
export interface UnpickleOptions {
  /** Names the pickle is allowed to resolve, as "module.name". Anything else throws. */
  globals: ReadonlyMap<string, PyGlobal>;
  /** Resolves BINPERSID ids (torch: storages). Without it, persistent ids are an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** File name used in error messages. */
  file?: string;
}

const OLD_MODULES: Record<string, string> = { __builtin__: "builtins", copy_reg: "copyreg" };

/**
 * Unpickles bytes with a whitelist of globals; a pickle can never run code.
 *
 * @example
 * ```ts
 * import { PYTHON_GLOBALS, unpickle } from "./_pickle.ts";
 * // pickle.dumps([1, "a"], protocol=2)
 * const bytes = new Uint8Array([0x80, 2, 0x5d, 0x71, 0, 0x28, 0x4b, 1, 0x58, 1, 0, 0, 0, 0x61, 0x71, 1, 0x65, 0x2e]);
 * unpickle(bytes, { globals: PYTHON_GLOBALS }); // [1, "a"]
 * ```
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const file = options.file ?? "<memory>";
  const fail = (what: string): never => {
    throw new PickleError(file, what);
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;

  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`truncated pickle: needs ${n} bytes at offset ${pos}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => bytes[need(1)];
  const u16 = () => dv.getUint16(need(2), true);
  const u32 = () => dv.getUint32(need(4), true);
  const u64 = () => {
    const n = dv.getBigUint64(need(8), true);
    if (n > BigInt(bytes.length)) fail(`length ${n} at offset ${pos - 8} exceeds the pickle`);
    return Number(n);
  };
  const take = (n: number) => bytes.subarray(need(n), pos);
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated pickle: unterminated line at offset ${pos}`);
    const s = new TextDecoder().decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const str = (n: number) => {
    try {
      return utf8.decode(take(n));
    } catch {
      return fail(`invalid UTF-8 string at offset ${pos - n}`);
    }
  };
  const pop = () => {
    if (stack.length === 0 || stack.length <= (marks.at(-1) ?? -1)) fail("stack underflow");
    return stack.pop();
  };
  const top = () => (stack.length ? stack[stack.length - 1] : fail("stack underflow"));
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) fail("MARK expected but none is open");
    return stack.splice(m!);
  };
  const resolve = (module: string, name: string) => {
    const full = `${OLD_MODULES[module] ?? module}.${name}`;
    const g = options.globals.get(full);
    if (!g) {
      fail(`forbidden global '${full}' (not whitelisted: a checkpoint may never run code)`);
    }
    return g!;
  };
  const call = (fn: unknown, args: unknown, kwargs?: Map<unknown, unknown>) => {
    if (!(fn instanceof PyGlobal) || !fn.call) {
      fail(`cannot call ${fn instanceof PyGlobal ? `'${fn.name}'` : typeof fn}`);
    }
    if (!Array.isArray(args)) fail(`arguments of '${(fn as PyGlobal).name}' are not a tuple`);
    try {
      return (fn as PyGlobal).call!(args as unknown[], kwargs);
    } catch (e) {
      if (e instanceof PickleError) throw e;
      return fail(`'${(fn as PyGlobal).name}' failed: ${(e as Error).message}`);
    }
  };
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  const int = (v: bigint) => (v >= -safe && v <= safe ? Number(v) : v);
  const long = (n: number) => {
    const b = take(n);
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).reverse().join("");
    let v = n > 0 ? BigInt(`0x${hex}`) : 0n; // little-endian bytes, linear time
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n); // two's complement
    return int(v);
  };

  const push = (v: unknown) => void stack.push(v);
  const latin1 = (b: Uint8Array) => Array.from(b, (c) => String.fromCharCode(c)).join("");
  const get = (i: number) => memo.has(i) ? push(memo.get(i)) : fail(`memo ${i} read before set`);
  const setItems = (pairs: [unknown, unknown][]) => {
    const d = top();
    if (!(d instanceof Map)) fail("SETITEM(S) on a value that is not a dict");
    for (const [k, v] of pairs) (d as Map<unknown, unknown>).set(k, v);
  };
  const addTo = (items: unknown[], kind: "list" | "set") => {
    const t = top();
    if (kind === "list" && Array.isArray(t)) { for (const v of items) t.push(v); }
    else if (kind === "set" && t instanceof Set) { for (const v of items) t.add(v); }
    else fail(`${kind === "list" ? "APPEND(S)" : "ADDITEMS"} on a value that is not a ${kind}`);
  };
  const stackGlobal = (module: unknown, name: unknown) =>
    typeof module === "string" && typeof name === "string"
      ? push(resolve(module, name))
      : fail("STACK_GLOBAL needs two strings");
  const tupleN = (n: number) => {
    if (stack.length - n < (marks.at(-1) ?? 0)) fail("stack underflow");
    push(stack.splice(stack.length - n));
  };
  const reduce = (kwargs?: unknown) => {
    const args = pop();
    push(call(pop(), args, kwargs instanceof Map ? kwargs : undefined));
  };
  // One handler per opcode byte; names as in CPython's pickletools.
  const ops: Record<number, () => void> = {
    0x80: () => u8() > 5 && fail("pickle protocol above 5 is not supported"), // PROTO
    0x95: () => void u64(), // FRAME: a length hint only
    0x28: () => void marks.push(stack.length), // MARK
    0x30: () => void pop(), // POP
    0x31: () => void popMark(), // POP_MARK
    0x32: () => push(top()), // DUP
    0x7d: () => push(new Map()), // EMPTY_DICT
    0x5d: () => push([]), // EMPTY_LIST
    0x29: () => push([]), // EMPTY_TUPLE
    0x8f: () => push(new Set()), // EMPTY_SET
    0x74: () => push(popMark()), // TUPLE
    0x6c: () => push(popMark()), // LIST
    0x91: () => push(new Set(popMark())), // FROZENSET
    0x64: () => push(new Map(pairsFlat(popMark()))), // DICT
    0x85: () => tupleN(1), // TUPLE1
    0x86: () => tupleN(2), // TUPLE2
    0x87: () => tupleN(3), // TUPLE3
    0x4a: () => push(dv.getInt32(need(4), true)), // BININT
    0x4b: () => push(u8()), // BININT1
    0x4d: () => push(u16()), // BININT2
    0x8a: () => push(long(u8())), // LONG1
    0x8b: () => push(long(u32())), // LONG4
    0x47: () => push(dv.getFloat64(need(8), false)), // BINFLOAT (big-endian)
    0x58: () => push(str(u32())), // BINUNICODE
    0x8c: () => push(str(u8())), // SHORT_BINUNICODE
    0x8d: () => push(str(u64())), // BINUNICODE8
    0x55: () => push(latin1(take(u8()))), // SHORT_BINSTRING (Python 2 str)
    0x54: () => push(latin1(take(u32()))), // BINSTRING
    0x43: () => push(take(u8()).slice()), // SHORT_BINBYTES
    0x42: () => push(take(u32()).slice()), // BINBYTES
    0x8e: () => push(take(u64()).slice()), // BINBYTES8
    0x96: () => push(take(u64()).slice()), // BYTEARRAY8
    0x4e: () => push(null), // NONE
    0x88: () => push(true), // NEWTRUE
    0x89: () => push(false), // NEWFALSE
    0x71: () => void memo.set(u8(), top()), // BINPUT
    0x72: () => void memo.set(u32(), top()), // LONG_BINPUT
    0x94: () => void memo.set(memo.size, top()), // MEMOIZE
    0x68: () => get(u8()), // BINGET
    0x6a: () => get(u32()), // LONG_BINGET
    0x73: () => { // SETITEM
      const v = pop();
      setItems([[pop(), v]]);
    },
    0x75: () => setItems(pairsFlat(popMark())), // SETITEMS
    0x61: () => addTo([pop()], "list"), // APPEND
    0x65: () => addTo(popMark(), "list"), // APPENDS
    0x90: () => addTo(popMark(), "set"), // ADDITEMS
    0x63: () => push(resolve(line(), line())), // GLOBAL
    0x93: () => { // STACK_GLOBAL
      const name = pop();
      stackGlobal(pop(), name);
    },
    0x52: () => reduce(), // REDUCE
    0x81: () => reduce(), // NEWOBJ
    0x92: () => reduce(pop()), // NEWOBJ_EX
    0x62: () => { // BUILD: only inert placeholders keep state; dict attributes are dropped
      const state = pop();
      const obj = top();
      if (obj instanceof PyObject) obj.state = state;
    },
    0x51: () =>
      // BINPERSID
      options.persistentLoad
        ? push(options.persistentLoad(pop()))
        : fail("persistent id found but no loader was given"),
  };

  try {
    for (;;) {
      const at = pos;
      const op = u8();
      if (op === 0x2e) { // STOP
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return stack[0];
      }
      const handler = ops[op];
      if (!handler) {
        fail(
          `unsupported opcode 0x${op.toString(16).padStart(2, "0")} ` +
            `(${JSON.stringify(String.fromCharCode(op))}) at offset ${at}`,
        );
      }
      handler();
    }
  } catch (e) {
    if (e instanceof PickleError) throw e;
    return fail((e as Error).message);
  }
}

function pairsFlat(items: unknown[]): [unknown, unknown][] {
  if (items.length % 2) throw new TypeError("odd number of items for a dict");
  const out: [unknown, unknown][] = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i], items[i + 1]]);
  return out;
}

function toPairs(items: unknown): [unknown, unknown][] {
  if (items === undefined || items === null) return [];
  if (items instanceof Map) return [...items];
  if (!Array.isArray(items)) throw new TypeError("expected a list of key/value pairs");
  return items.map((p) => {
    if (!Array.isArray(p) || p.length !== 2) throw new TypeError("expected key/value pairs");
    return [p[0], p[1]];
  });
}
