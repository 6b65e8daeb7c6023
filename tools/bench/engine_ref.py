"""PyTorch reference timings for bench/engine_bench.ts (same networks and batch shapes).

Usage: /usr/bin/python3 tools/bench/engine_ref.py <case> [<case> ...]
       /usr/bin/python3 tools/bench/engine_ref.py --serve
Cases: convnet3_32_train, convnet3_64_train, resnet18_64_train, convnet3_64_forward.
The first form prints one JSON object per case: {"case", "ms"} (median milliseconds per step; a
training step is zero_grad + forward + cross-entropy + backward + SGD(momentum 0.9, weight
decay 5e-4) step). The second reads commands from stdin so a benchmark can alternate steps
with its own on a machine whose load changes: "setup <case>" (builds, warms up, answers
"ready"), "run" (one step, answers its milliseconds), "quit".
Threads: MGD3_BENCH_THREADS (default: all cores), the same as the onnxruntime side. Iterations:
MGD3_BENCH_ITERS (default 10) after 2 warm-up steps.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from _engine_nets import ConvNet, ResNet18  # noqa: E402

CLASSES = 10
BATCH = 64


def make(case):
    net, size, mode = case.split("_")
    size = int(size)
    model = ConvNet(CLASSES, 128, 3, im_size=size) if net == "convnet3" else ResNet18(CLASSES, 64)
    return model, size, mode


def build(case):
    torch.manual_seed(0)
    model, size, mode = make(case)
    x = torch.randn(BATCH, 3, size, size)
    y = torch.randint(0, CLASSES, (BATCH,))
    if mode == "forward":
        model.eval()

        def run():
            with torch.no_grad():
                model(x)
    else:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def run():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    for _ in range(2):
        run()
    return run


def time_case(case, iters):
    run = build(case)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    # Debian's torch starts with one OpenMP thread here; use every core unless told otherwise.
    threads = int(os.environ.get("MGD3_BENCH_THREADS", "0")) or os.cpu_count()
    torch.set_num_threads(threads)
    if sys.argv[1:] == ["--serve"]:
        run = None
        for line in sys.stdin:
            cmd = line.split()
            if cmd[0] == "setup":
                run = build(cmd[1])
                print("ready", flush=True)
            elif cmd[0] == "run":
                t0 = time.perf_counter()
                run()
                print((time.perf_counter() - t0) * 1000, flush=True)
            else:
                break
        sys.exit(0)
    iters = int(os.environ.get("MGD3_BENCH_ITERS", "10"))
    for case in sys.argv[1:]:
        print(json.dumps({"case": case, "ms": time_case(case, iters), "threads": torch.get_num_threads()}), flush=True)
