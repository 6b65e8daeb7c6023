"""PyTorch forward of the cpu-scale U-Net (tools/fixtures/unet_torch.py, random weights), the
reference for tools/unet_timing.ts's forward timings.

Usage: OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 tools/bench/unet_forward_ref.py [16,100] [runs]
Prints one line per batch size: the median milliseconds of `model(x, t, y)` under no_grad over
`runs` runs (default 5) after 2 warm-up runs, with MGD3_BENCH_THREADS threads (default 2).
"""
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from unet_torch import UNet  # noqa: E402

torch.set_num_threads(int(os.environ.get("MGD3_BENCH_THREADS", "2")))
batches = [int(b) for b in (sys.argv[1] if len(sys.argv) > 1 else "16,100").split(",")]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
model = UNet().eval()
for B in batches:
    x, t = torch.randn(B, 32, 8, 8), torch.randint(0, 1000, (B,)).float()
    y = torch.randint(0, 11, (B,))
    with torch.no_grad():
        for _ in range(2):
            model(x, t, y)
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x, t, y)
            ms.append((time.perf_counter() - t0) * 1000)
    print(f"torch forward B={B}: {statistics.median(ms):.1f} ms", flush=True)
