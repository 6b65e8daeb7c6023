"""Reference timing of one v-prediction training step of the cpu-scale U-Net in PyTorch.

Usage: /usr/bin/python3 tools/bench/unet_ref.py BATCH STEPS  -> prints one line "ms=<median>".
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from unet_torch import UNet  # noqa: E402

torch.set_num_threads(int(os.environ.get("MGD3_THREADS", "2")))
B = int(sys.argv[1]) if len(sys.argv) > 1 else 64
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 4
torch.manual_seed(0)
m = UNet(mid_blocks=int(os.environ.get("MGD3_MID", "0")))
opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.0)
x = torch.randn(B, 32, 8, 8)
v = torch.randn(B, 32, 8, 8)
t = torch.randint(0, 1000, (B,))
y = torch.randint(0, 11, (B,))
times = []
for _ in range(STEPS + 1):
    t0 = time.perf_counter()
    loss = ((m(x, t, y) - v) ** 2).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    times.append((time.perf_counter() - t0) * 1000)
times = sorted(times[1:])
print(f"ms={times[len(times) // 2]:.1f}")
