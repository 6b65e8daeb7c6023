/**
 * Text for Stable Diffusion: the CLIP BPE tokenizer read from a diffusers `tokenizer/` folder
 * (`clip_tokenizer.ts`), and prompts from class names with the ImageNet-1K class-name list
 * (`prompts.ts`).
 *
 * @module
 */
export * from "./clip_tokenizer.ts";
export * from "./prompts.ts";
