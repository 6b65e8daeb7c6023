/**
 * The scales: one place that knows which codec, denoiser, class ids and sampling settings
 * belong together (cpu: the shipped U-Net with TAEF2; paper: DiT with SD-VAE), and a raw
 * codec choice for work that needs only a codec.
 *
 * @example
 * ```ts
 * import { loadScale, SHIPPED_CPU_MODEL } from "./mod.ts";
 * const s = await loadScale({ scale: "cpu", model: SHIPPED_CPU_MODEL });
 * await s.release();
 * ```
 *
 * @module
 */
export * from "./scale.ts";
export * from "./codec.ts";
export * from "./load_scale.ts";
