/**
 * Seeded random numbers. Every random choice in the toolkit draws from an {@link Rng}
 * passed in by the caller, so a run is reproducible from the seed it records.
 *
 * The generator is xoshiro128** (Blackman and Vigna), seeded through splitmix32 from a
 * list of integers, so independent streams can be derived by key: `Rng.from(seed, classIndex,
 * sampleIndex)` gives the same numbers whatever the batch size or sharding. Not bit-identical
 * to numpy or PyTorch generators (no reproduction depends on that).
 *
 * @module
 */

const TWO_POW_32 = 4294967296;

/**
 * A seeded generator.
 *
 * @example
 * ```ts
 * import { Rng } from "./random.ts";
 * const rng = Rng.from(0, 3, 17);     // seed 0, class 3, sample 17
 * const z = rng.randn(4 * 32 * 32);   // Float32Array of N(0, 1) draws
 * ```
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  private constructor(state: Uint32Array) {
    [this.s0, this.s1, this.s2, this.s3] = state;
  }

  /** A generator for a seed and optional sub-stream keys (all non-negative integers). */
  static from(seed: number, ...keys: number[]): Rng {
    let h = 0x9e3779b9;
    for (const k of [seed, ...keys]) {
      if (!Number.isInteger(k) || k < 0 || k >= TWO_POW_32) {
        throw new RangeError(`Random seed and keys must be integers in [0, 2^32), got ${k}`);
      }
      h = splitmix32(h ^ k);
    }
    const state = new Uint32Array(4);
    for (let i = 0; i < 4; i++) state[i] = h = splitmix32(h + i);
    if (state.every((v) => v === 0)) state[0] = 1;
    return new Rng(state);
  }

  /** A derived, independent stream (same parent state and keys give the same stream). */
  fork(...keys: number[]): Rng {
    return Rng.from(this.nextUint32(), ...keys);
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  randint(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > TWO_POW_32) {
      throw new RangeError(`randint(n) needs 0 < n <= 2^32, got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** One standard normal draw (Box-Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** `n` standard normal draws. */
  randn(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** `n` uniform draws in [0, 1). */
  rand(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.random();
    return out;
  }

  /** A random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.randint(i + 1);
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** A draw from Beta(a, a) for a > 0 (CutMix's lambda), via two Gamma draws. */
  beta(a: number, b = a): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** A draw from Gamma(shape, 1) (Marsaglia and Tsang; boosted for shape < 1). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`gamma(shape) needs shape > 0, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * this.random() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.random();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return d * v;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
