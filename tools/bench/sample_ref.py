"""PyTorch reference timings for bench/sample_bench.ts: one full MGD3 sample with DiT's code.

Usage: /usr/bin/python3 tools/bench/sample_ref.py [<case> ...]
       /usr/bin/python3 tools/bench/sample_ref.py --serve
       /usr/bin/python3 tools/bench/sample_ref.py --check
Cases: "<config>_<method>_cfg<scale>_mgd3", e.g. DiT-S/2_ddpm_cfg4_mgd3: one sample (batch 1,
doubled to 2 for classifier-free guidance) drawn in 50 respaced steps by facebookresearch/DiT's
own code: models.py's forward_with_cfg (3 guided channels), diffusion/'s create_diffusion("50")
and p_mean_variance (learned-range variances), plus the MGD3 mode-guidance term of SPEC
section 2 (lambda 0.1, t_stop 25: x += lambda * sigma * (m - x0_hat) while index > 25), as
tools/fixtures/make_dit_sampler_fixtures.py's run(). Latent 4x32x32 (256 px), 1000 classes,
random weights (DiT's initialisation, then the zero-initialised adaLN and final layers
re-drawn; the cost does not depend on the values). Prints one JSON object per case:
{"case", "ms", "threads"}, the median milliseconds over MGD3_BENCH_ITERS samples (default 3)
after one warm-up forward. The second form reads commands from stdin so a benchmark can
alternate its runs with these on a loaded machine: "setup <case>" (builds, warms up, answers
"ready"), "run" (one sample, answers its milliseconds), "quit". The third only imports the
reference and prints "ref available".
The DiT checkout comes from MGD3_DIT_REF (default /work/.refs/DiT); timm's layers from timm
when installed, else tools/fixtures/_timm_stub.py. When torch or the checkout is missing,
prints "ref unavailable: <why>" and exits with status 2. Threads: MGD3_BENCH_THREADS (default:
all cores).
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 50  # SPEC section 2: space_timesteps(1000, "50")
LAMBDA, T_STOP = 0.1, 25  # App. F, App. A
LATENT, NUM_CLASSES = 32, 1000  # 256 px through SD-VAE (8x); ImageNet-1K


def unavailable(why):
    print(f"ref unavailable: {why}", flush=True)
    sys.exit(2)


def load_reference():
    try:
        import torch  # noqa: F401
    except ImportError as e:
        unavailable(f"torch does not import ({e}); apt install python3-torch")
    ref = os.environ.get("MGD3_DIT_REF", "/work/.refs/DiT")
    if not os.path.isfile(os.path.join(ref, "models.py")):
        unavailable(f"no DiT checkout at {ref} (set MGD3_DIT_REF)")
    sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
    from _timm_stub import ensure_timm
    ensure_timm()
    sys.path.insert(0, ref)
    import models
    from diffusion import create_diffusion
    return models, create_diffusion


def build(models, create_diffusion, case):
    """A function drawing one sample of the case, after one warm-up forward."""
    import torch
    name, method, cfg, guide = case.rsplit("_", 3)
    if name not in models.DiT_models or method != "ddpm" or not cfg.startswith("cfg") \
            or guide != "mgd3":
        raise SystemExit(f"unknown case {case}; expected e.g. DiT-S/2_ddpm_cfg4_mgd3")
    scale = float(cfg[3:])
    torch.manual_seed(0)
    model = models.DiT_models[name](input_size=LATENT, num_classes=NUM_CLASSES).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().max() == 0:
                p.normal_(0, 0.02)
    diffusion = create_diffusion(str(STEPS))
    shape = (1, model.in_channels, LATENT, LATENT)
    mode = torch.randn(shape)
    y = torch.tensor([207, NUM_CLASSES])  # conditional half, null-class half

    def sample():
        with torch.no_grad():
            z = torch.randn(shape)
            x = torch.cat([z, z])
            m = torch.cat([mode, mode])
            for i in reversed(range(diffusion.num_timesteps)):
                t = torch.full((2,), i, dtype=torch.long)
                out = diffusion.p_mean_variance(model.forward_with_cfg, x, t, clip_denoised=False,
                                                model_kwargs={"y": y, "cfg_scale": scale})
                sigma = torch.exp(0.5 * out["log_variance"])
                x = out["mean"]
                if i > T_STOP:
                    x = x + LAMBDA * sigma * (m - out["pred_xstart"])
                if i > 0:
                    n = torch.randn(shape)
                    x = x + sigma * torch.cat([n, n])
            return x[:1]

    with torch.no_grad():
        model.forward_with_cfg(torch.randn(2, *shape[1:]), torch.tensor([999, 999]), y, scale)
    return sample


def time_once(sample):
    t0 = time.perf_counter()
    sample()
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    models, create_diffusion = load_reference()
    import torch
    # Debian's torch starts with one OpenMP thread here; use every core unless told otherwise.
    threads = int(os.environ.get("MGD3_BENCH_THREADS", "0")) or os.cpu_count()
    torch.set_num_threads(threads)
    if sys.argv[1:] == ["--check"]:
        print("ref available", flush=True)
        sys.exit(0)
    if sys.argv[1:] == ["--serve"]:
        sample = None
        for line in sys.stdin:
            cmd = line.split()
            if cmd and cmd[0] == "setup":
                sample = build(models, create_diffusion, cmd[1])
                print("ready", flush=True)
            elif cmd and cmd[0] == "run":
                print(time_once(sample), flush=True)
            else:
                break
        sys.exit(0)
    iters = int(os.environ.get("MGD3_BENCH_ITERS", "3"))
    for case in sys.argv[1:] or ["DiT-S/2_ddpm_cfg4_mgd3"]:
        sample = build(models, create_diffusion, case)
        ms = statistics.median(time_once(sample) for _ in range(iters))
        print(json.dumps({"case": case, "ms": ms, "threads": torch.get_num_threads()}), flush=True)
