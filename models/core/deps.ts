/**
 * The npm packages the toolkit uses, each pinned here and only here. Source files import them
 * from this module, never by bare name, so the toolkit needs no import map: a script or notebook
 * in any folder imports `mod.ts` by path (or URL) with no `deno.json` of its own, and Deno keeps
 * the packages in its global cache (no `node_modules` beside the caller).
 *
 * @module
 */
export * as ort from "npm:onnxruntime-node@1.30.0";
export { default as sharp } from "npm:sharp@0.34.5";
export { UMAP } from "npm:umap-js@1.4.0";
export { default as cliProgress } from "npm:cli-progress@3.12.0";
export { EigenvalueDecomposition, Matrix } from "npm:ml-matrix@6.15.1";
export * as vega from "npm:vega@6.4.0";
export * as vl from "npm:vega-lite@6.5.0";
