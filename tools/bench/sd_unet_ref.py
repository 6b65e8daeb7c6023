"""PyTorch reference timings for bench/sd_bench.ts: the Stable Diffusion 1.x U-Net (CompVis
latent-diffusion's `openaimodel.UNetModel` with SpatialTransformer cross-attention, the network
SD 1.x checkpoints hold) forward with a 77-token text context.

Usage: /usr/bin/python3 tools/bench/sd_unet_ref.py <case> [<case> ...]
       /usr/bin/python3 tools/bench/sd_unet_ref.py --serve
Cases: "sd-w<model_channels>_s<latent side>_b<batch>", e.g. sd-w128_s32_b2: SD 1.5's layout
(channel_mult 1,2,4,4, 2 res blocks, attention at 4,2,1, 8 heads, context 768) at that width and
latent side, random weights (the cost does not depend on them). Prints one JSON object per case
{"case", "ms", "threads"} (median of MGD3_BENCH_ITERS runs after 2 warm-ups); --serve answers
"setup <case>" / "run" / "quit" on stdin like the other reference scripts. The latent-diffusion
source comes from MGD3_LDM_REF: a checkout or a bare git mirror (default
/work/.mirror/CompVis+latent-diffusion/repo); einops and omegaconf stand-ins come from
tools/fixtures/_ldm_stubs.py. Without torch or the source: "ref unavailable: <why>", status 2.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def unavailable(why):
    print(f"ref unavailable: {why}", flush=True)
    sys.exit(2)


def load_unet_class():
    try:
        import torch  # noqa: F401
    except ImportError as e:
        unavailable(f"torch does not import ({e}); apt install python3-torch")
    ref = os.environ.get("MGD3_LDM_REF", "/work/.mirror/CompVis+latent-diffusion/repo")
    if not os.path.exists(ref):
        unavailable(f"no latent-diffusion source at {ref} (set MGD3_LDM_REF)")
    if not os.path.isdir(os.path.join(ref, "ldm")):
        out = tempfile.mkdtemp(prefix="ldm_")
        tar = subprocess.run(["git", "--git-dir", ref, "archive", "HEAD", "ldm"],
                             capture_output=True)
        if tar.returncode != 0:
            unavailable(f"{ref} is neither a checkout nor a git mirror")
        subprocess.run(["tar", "-x", "-C", out], input=tar.stdout, check=True)
        ref = out
    sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
    from _ldm_stubs import ensure_ldm_imports
    ensure_ldm_imports()
    sys.path.insert(0, ref)
    from ldm.modules.diffusionmodules.openaimodel import UNetModel
    return UNetModel


def parse(case):
    w, s, b = case.split("_")
    assert w.startswith("sd-w") and s.startswith("s") and b.startswith("b"), case
    return int(w[4:]), int(s[1:]), int(b[1:])


def build(UNetModel, case):
    import torch
    width, side, batch = parse(case)
    torch.manual_seed(0)
    model = UNetModel(image_size=side, in_channels=4, out_channels=4, model_channels=width,
                      attention_resolutions=[4, 2, 1], num_res_blocks=2,
                      channel_mult=[1, 2, 4, 4], num_heads=8, use_spatial_transformer=True,
                      transformer_depth=1, context_dim=768, legacy=False).eval()
    x = torch.randn(batch, 4, side, side)
    t = torch.randint(0, 1000, (batch,))
    ctx = torch.randn(batch, 77, 768)

    def run():
        with torch.no_grad():
            model(x, t, context=ctx)

    for _ in range(2):
        run()
    return run


if __name__ == "__main__":
    UNetModel = load_unet_class()
    import torch
    threads = int(os.environ.get("MGD3_BENCH_THREADS", "0")) or os.cpu_count()
    torch.set_num_threads(threads)
    if sys.argv[1:] == ["--serve"]:
        run = None
        for line in sys.stdin:
            cmd = line.split()
            if cmd and cmd[0] == "setup":
                run = build(UNetModel, cmd[1])
                print("ready", flush=True)
            elif cmd and cmd[0] == "run":
                t0 = time.perf_counter()
                run()
                print((time.perf_counter() - t0) * 1000, flush=True)
            else:
                break
        sys.exit(0)
    iters = int(os.environ.get("MGD3_BENCH_ITERS", "10"))
    for case in sys.argv[1:]:
        run = build(UNetModel, case)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            run()
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"case": case, "ms": statistics.median(times),
                          "threads": torch.get_num_threads()}), flush=True)
