"""PyTorch reference timings for bench/dit_bench.ts: facebookresearch/DiT's models.py forward.

Usage: /usr/bin/python3 tools/bench/dit_ref.py <case> [<case> ...]
       /usr/bin/python3 tools/bench/dit_ref.py --serve
Cases: "<config>_b<batch>", e.g. DiT-S/2_b2 (latent 32x32, 4 channels, 1000 classes, as
DiT-XL-2-256x256). Prints one JSON object per case: {"case", "ms", "threads"}, the median
milliseconds of `model(x, t, y)` under torch.no_grad() with random weights (DiT's own
initialisation, then the zero-initialised adaLN and final layers re-drawn; the cost does not
depend on the values). The second form reads commands from stdin so a benchmark can alternate
runs with its own on a machine whose load changes: "setup <case>" (builds, warms up, answers
"ready"), "run" (one forward, answers its milliseconds), "quit". The DiT checkout comes from MGD3_DIT_REF (default /work/.refs/DiT);
timm's layers come from timm when installed, else from tools/fixtures/_timm_stub.py. When
torch or the checkout is missing, prints "ref unavailable: <why>" and exits with status 2.
Threads: MGD3_BENCH_THREADS (default: all cores). Iterations: MGD3_BENCH_ITERS (default 10)
after 2 warm-up runs.
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def unavailable(why):
    print(f"ref unavailable: {why}", flush=True)
    sys.exit(2)


def load_models():
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
    return models


def build(models, case):
    """The model of a case, warmed up, as a function running one forward."""
    import torch
    name, batch = case.rsplit("_b", 1)
    batch = int(batch)
    if name not in models.DiT_models:
        raise SystemExit(f"unknown config {name}; expected one of {', '.join(models.DiT_models)}")
    torch.manual_seed(0)
    model = models.DiT_models[name](input_size=32, num_classes=1000).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().max() == 0:
                p.normal_(0, 0.02)
    x = torch.randn(batch, 4, 32, 32)
    t = torch.randint(0, 1000, (batch,)).float()
    y = torch.randint(0, 1001, (batch,))

    def run():
        with torch.no_grad():
            model(x, t, y)

    for _ in range(2):
        run()
    return run


def time_case(models, case, iters):
    run = build(models, case)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    models = load_models()
    import torch
    # Debian's torch starts with one OpenMP thread here; use every core unless told otherwise.
    threads = int(os.environ.get("MGD3_BENCH_THREADS", "0")) or os.cpu_count()
    torch.set_num_threads(threads)
    if sys.argv[1:] == ["--serve"]:
        run = None
        for line in sys.stdin:
            cmd = line.split()
            if cmd and cmd[0] == "setup":
                run = build(models, cmd[1])
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
        ms = time_case(models, case, iters)
        print(json.dumps({"case": case, "ms": ms, "threads": torch.get_num_threads()}), flush=True)
