/**
 * Paths of the shared read-only data and weights beside the checkout (`../shared`), which
 * tests and CI may read. `MGD3_SHARED` overrides the location.
 */
const ROOT = Deno.env.get("MGD3_SHARED") ?? new URL("../../shared", import.meta.url).pathname;

/** The full ImageNette2 set at 224 px (train/ and val/, one folder per wnid). */
export const IMAGENETTE_224 = Deno.env.get("MGD3_IMAGENETTE") ?? `${ROOT}/data/imagenette2-224`;

/** The TAEF2 tiny autoencoder weights (PyTorch .pth). */
export const TAEF2_DIR = `${ROOT}/models/taef2`;
