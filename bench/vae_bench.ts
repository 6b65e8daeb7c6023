/**
 * Autoencoder benchmark: TAEF2 encode and decode through the product's codec
 * (models/taesd.ts `taef2Codec`, onnxruntime) against madebyollin/taesd's taesd.py in
 * PyTorch on the same machine and threads, batch 16, one line per case:
 *
 *   <case> ours_ms=<x> ref_ms=<y> ratio=<x/y>
 *
 * Cases: taef2_encode_64, taef2_decode_64, taef2_encode_224, taef2_decode_224. Our runs and
 * the reference's alternate (tools/bench/vae_ref.py --serve) so both see the same machine
 * load; the median of each is printed. The reference needs Debian's /usr/bin/python3 with
 * torch and a taesd checkout in MGD3_TAESD_REF (default /work/.refs/taesd); without them it prints "ref unavailable" and
 * ref_ms=na.
 *
 * Run: [MGD3_TAESD_REF=<taesd checkout>] deno run -A bench/vae_bench.ts [case...]
 * Env: MGD3_BENCH_ITERS (default 5), MGD3_BENCH_THREADS (default: all cores),
 * MGD3_BENCH_OPT (onnxruntime graph optimisation level, default "all").
 */
import { taef2Codec } from "../models/codecs/taesd.ts";
import { alternate, caseLine, PYTHON, ReferenceServer } from "./_reference.ts";
import { TAEF2_DIR } from "../tests/shared.ts";

const CASES = ["taef2_encode_64", "taef2_decode_64", "taef2_encode_224", "taef2_decode_224"];
const BATCH = 16;
const ITERS = Number(Deno.env.get("MGD3_BENCH_ITERS") ?? 5);
const THREADS = Number(Deno.env.get("MGD3_BENCH_THREADS") ?? navigator.hardwareConcurrency);
const OPT = (Deno.env.get("MGD3_BENCH_OPT") ?? "all") as "disabled" | "basic" | "extended" | "all";
const REF_SCRIPT = new URL("../tools/bench/vae_ref.py", import.meta.url).pathname;

/** A deterministic pseudo-random fill in [-1, 1). */
function fill(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** The PyTorch side: tools/bench/vae_ref.py --serve, one forward pass per request. */
function startReference(): ReferenceServer | null {
  try {
    return new ReferenceServer(REF_SCRIPT, {
      MGD3_BENCH_THREADS: String(THREADS),
      MGD3_TAEF2: TAEF2_DIR,
    });
  } catch (e) {
    console.log(`# ref unavailable: cannot start ${PYTHON} (${(e as Error).message})`);
    return null;
  }
}

if (import.meta.main) {
  const cases = Deno.args.length ? Deno.args : CASES;
  console.log(`# batch ${BATCH}, threads ${THREADS}, onnxruntime graph optimisation ${OPT}`);
  const ref = startReference();
  let refOk = ref !== null;
  for (const c of cases) {
    const [, which, size] = c.split("_");
    const S = Number(size);
    if (!CASES.some((k) => k.startsWith(`taef2_${which}_`)) || !(S > 0 && S % 8 === 0)) {
      throw new Error(`Unknown case '${c}': expected taef2_{encode,decode}_<size multiple of 8>`);
    }
    const codec = await taef2Codec({
      imageSize: S,
      weightsDir: TAEF2_DIR,
      threads: THREADS,
      session: { graphOptimizationLevel: OPT },
    });
    const h = S / 8;
    const x = which === "encode" ? fill(BATCH * 3 * S * S, 1) : fill(BATCH * 32 * h * h, 2);
    const run = () => which === "encode" ? codec.encode(x, BATCH) : codec.decode(x, BATCH);
    await run(); // builds the session and warms up
    if (refOk && ref) {
      // the server answers "ref unavailable: <why>" when torch or the checkout is missing
      refOk = await ref.setup(c).then(() => true, (e) => {
        console.log(`# ${(e as Error).message}`);
        return false;
      });
    }
    const t = await alternate(run, refOk ? ref : null, ITERS);
    await codec.release();
    console.log(caseLine(c, t, 1));
  }
  await ref?.close();
}
