/**
 * Convolution geometry: the user's options (PyTorch `stride`/`padding`/`dilation`/`groups`),
 * their resolution to ONNX Conv attributes, and the reverse (reading a node's attributes back,
 * for the gradient rules and the Gemm lowering).
 *
 * @module
 */
import type { Value } from "../graph.ts";
import { attr } from "./operands.ts";

/** Convolution geometry; each field is per spatial dim or one number for all. */
export interface ConvOptions {
  stride?: number | number[];
  /** Symmetric padding per spatial dim (PyTorch `padding`). */
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
}

/** Expands a number to one entry per spatial dim. */
export function perDim(v: number | number[] | undefined, n: number, dflt: number): number[] {
  if (v === undefined) return Array(n).fill(dflt);
  if (typeof v === "number") return Array(n).fill(v);
  if (v.length !== n) throw new RangeError(`Expected ${n} values, got [${v}]`);
  return v;
}

/** Resolved geometry of a conv node, read back from its attributes by the gradient rules. */
export interface ConvGeometry {
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
  kernel: number[];
}

export function geometry(x: Value, w: Value, o: ConvOptions): ConvGeometry {
  const n = x.rank - 2;
  const pad = perDim(o.padding, n, 0);
  return {
    strides: perDim(o.stride, n, 1),
    pads: [...pad, ...pad],
    dilations: perDim(o.dilation, n, 1),
    group: o.groups ?? 1,
    kernel: w.shape.slice(2),
  };
}

export function convAttrs(g: ConvGeometry) {
  return {
    strides: attr.ints(g.strides),
    pads: attr.ints(g.pads),
    dilations: attr.ints(g.dilations),
    group: attr.int(g.group),
    kernel_shape: attr.ints(g.kernel),
  };
}

/** Reads a Conv/ConvTranspose node's geometry back from its attributes. */
export function readGeometry(
  attrs: Record<string, { kind: string; value: unknown }>,
): ConvGeometry {
  const ints = (k: string) => attrs[k].value as number[];
  return {
    strides: ints("strides"),
    pads: ints("pads"),
    dilations: ints("dilations"),
    group: attrs.group.value as number,
    kernel: ints("kernel_shape"),
  };
}
