"""PyTorch reference timing for bench/eval_bench.ts: one hard-label training epoch.

Usage: /usr/bin/python3 tools/bench/eval_ref.py [--images 500] [--size 64] [--batch 64]
Prints one JSON object: {"case", "ms", "threads", "images", "steps"}.

The epoch is the same work as eval/hard_label.ts does per epoch (SPEC section 4):
ResNetAP-10 (IDC layout: 3x3 stem at <= 64 px, average-pool downsampling inside the blocks,
GroupNorm(C, C), conv init N(0, sqrt(2/n))), 10 classes, batch 64 with a last partial batch,
and per batch: RandomResizedCrop(scale 0.5..1, bilinear with antialias), horizontal flip,
IDC ColorJitter(0.4, 0.4, 0.4), Lighting(0.1), ImageNet normalisation, CutMix (beta 1) with
area-weighted cross-entropy, SGD(lr 0.01, momentum 0.9, weight decay 5e-4). The images are
random tensors already resized to the training size (as the TypeScript side holds them).
Written for this project (no torchvision, which Debian's python3-torch lacks).
Threads: MGD3_BENCH_THREADS (default: all cores), as the onnxruntime side.
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
EIGVAL = torch.tensor([0.2175, 0.0188, 0.0045])
EIGVEC = torch.tensor([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140],
                       [-0.5836, -0.6948, 0.4203]])


def norm(c):
    return nn.GroupNorm(c, c)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = norm(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False),
                                      nn.AvgPool2d(stride, stride), norm(cout))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        if self.stride != 1:
            h = F.avg_pool2d(h, self.stride)
        h = self.bn2(self.conv2(h))
        return F.relu(h + (self.down(x) if self.down is not None else x))


class ResNetAP10(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3, padding=1, bias=False)  # "small" stem (<= 64 px)
        self.bn = norm(64)
        chans = [64, 128, 256, 512]
        self.blocks = nn.Sequential(*[
            Block(chans[max(i - 1, 0)], c, 1 if i == 0 else 2) for i, c in enumerate(chans)])
        self.fc = nn.Linear(512, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2.0 / n))

    def forward(self, x):
        h = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


class ConvNet(nn.Module):
    """IDC's ConvNet-D (width 128, instance norm = GroupNorm(C, C), ReLU, 2x2 average pool per
    block, linear classifier), as eval/classifiers/convnet.ts; ConvNet-4 at 64 px."""

    def __init__(self, classes, depth=4, width=128, size=64):
        super().__init__()
        layers, cin = [], 3
        for _ in range(depth):
            layers += [nn.Conv2d(cin, width, 3, padding=1), norm(width), nn.ReLU(),
                       nn.AvgPool2d(2, 2)]
            cin = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * (size >> depth) ** 2, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def top1(model, images, labels, batch=100):
    """Top-1 (%) on [0, 1] images, ImageNet-normalised, in batches (evaluateTop1's evalBatch)."""
    model.eval()
    right = 0
    with torch.no_grad():
        for s in range(0, images.shape[0], batch):
            out = model((images[s:s + batch] - MEAN) / STD)
            right += int((out.argmax(1) == labels[s:s + batch]).sum())
    return 100.0 * right / images.shape[0]


def hard_label_run(model, images, labels, val_x, val_y, epochs, size, batch=64):
    """One hard-label evaluation (eval/protocols/hard_label.ts): SGD(0.01, 0.9, 5e-4),
    MultiStepLR(floor(2E/3), floor(5E/6), 0.2), validated every max(1, floor(E/5)) epochs and
    at the last; returns the best top-1."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2 * epochs // 3, 5 * epochs // 6], 0.2)
    every = max(1, epochs // 5)
    best = 0.0
    for e in range(1, epochs + 1):
        epoch(model, opt, images, labels, batch, size)
        sched.step()
        if e % every == 0 or e == epochs:
            best = max(best, top1(model, val_x, val_y))
    return best


def rrc_box(h, w, scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3)):
    area = h * w
    for _ in range(10):
        a = area * random.uniform(*scale)
        r = math.exp(random.uniform(math.log(ratio[0]), math.log(ratio[1])))
        cw, ch = int(round(math.sqrt(a * r))), int(round(math.sqrt(a / r)))
        if 0 < cw <= w and 0 < ch <= h:
            return random.randint(0, h - ch), random.randint(0, w - cw), ch, cw
    return 0, 0, h, w


def augment(x, size):
    out = torch.empty(x.shape[0], 3, size, size)
    for i in range(x.shape[0]):
        top, left, ch, cw = rrc_box(x.shape[2], x.shape[3])
        crop = x[i:i + 1, :, top:top + ch, left:left + cw]
        img = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False,
                            antialias=True)[0]
        if random.random() < 0.5:
            img = img.flip(-1)
        for op in random.sample(["b", "c", "s"], 3):
            f = 1 + random.uniform(-0.4, 0.4)
            gray = 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]
            if op == "b":
                img = img * f
            elif op == "c":
                img = img * f + (1 - f) * gray.mean()
            else:
                img = img * f + (1 - f) * gray
        alpha = torch.randn(3) * 0.1
        img = img + (EIGVEC @ (alpha * EIGVAL)).view(3, 1, 1)
        out[i] = img
    return (out - MEAN) / STD


def cutmix(x, y):
    lam = np.random.beta(1.0, 1.0)
    perm = torch.randperm(x.shape[0])
    h, w = x.shape[2], x.shape[3]
    cut = math.sqrt(1 - lam)
    ch, cw = int(h * cut), int(w * cut)
    cy, cx = random.randrange(h), random.randrange(w)
    y1, y2 = max(cy - ch // 2, 0), min(cy + ch // 2, h)
    x1, x2 = max(cx - cw // 2, 0), min(cx + cw // 2, w)
    x[:, :, y1:y2, x1:x2] = x[perm, :, y1:y2, x1:x2]
    lam = 1 - (y2 - y1) * (x2 - x1) / (h * w)
    return x, y, y[perm], lam


def epoch(model, opt, images, labels, batch, size):
    model.train()
    order = torch.randperm(images.shape[0])
    for s in range(0, images.shape[0], batch):
        idx = order[s:s + batch]
        x, ya, yb, lam = cutmix(augment(images[idx], size), labels[idx])
        out = model(x)
        loss = lam * F.cross_entropy(out, ya) + (1 - lam) * F.cross_entropy(out, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", type=int, default=500)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warmup-steps", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(int(os.environ.get("MGD3_BENCH_THREADS", "0")) or os.cpu_count())
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    images = torch.rand(a.images, 3, a.size, a.size)
    labels = torch.arange(a.images) % 10
    model = ResNetAP10(10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    # warm-up: one full batch and one partial batch (allocator, thread pool)
    epoch(model, opt, images[:a.batch + a.images % a.batch], labels[:a.batch + a.images % a.batch],
          a.batch, a.size)
    t0 = time.perf_counter()
    epoch(model, opt, images, labels, a.batch, a.size)
    ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({
        "case": f"resnetap10_{a.size}_epoch{a.images}",
        "ms": ms,
        "threads": torch.get_num_threads(),
        "images": a.images,
        "steps": math.ceil(a.images / a.batch),
    }), flush=True)


if __name__ == "__main__":
    main()
