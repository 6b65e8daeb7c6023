"""PyTorch side of `deno task bench:tables` (bench/tables_bench.ts): the Table 1 slice
(ImageNette IPC 10, seed 0, the four methods, cpu protocol) from an encoded store.

Usage: /usr/bin/python3 tools/bench/table_slice_ref.py --base STORE --inputs FILE
           [--model weights/cpu_unet.safetensors] [--taef2 weights/taef2] [--epochs E]
Prints one JSON line: {"total_s", "stages": {name: s}, "top1": {method: %}, "peak_gb"}
(peak_gb: this process's VmHWM). Without torch it prints "ref unavailable: <why>", status 2.

The work is that of eval/tables/run_table.ts on the slice, written for this project in
PyTorch + numpy (semantics from the TypeScript files named):
1. discover: per class, k-means (k = 10) on the store's latents (stages/modes/kmeans.ts:
   scikit-learn semantics, greedy k-means++ with 2 + floor(ln k) trials, Lloyd up to 300
   iterations, tol 1e-4 x mean per-feature variance, data centered), and 10 random rows
   (the Random row's selection);
2. sample: 3 sets (DiT; D4M init, strength 0.7; MGD3, lambda 0.1, t_stop 25), one latent
   per mode, batches of 8 per class, 50 respaced DDPM steps of the linear 1000-step schedule,
   CFG 4.0 on every channel, fixed-small variance, v-prediction (stages/diffusion/sampler.ts)
   with the cpu U-Net (tools/fixtures/unet_torch.py, the shipped weights);
3. decode: TAEF2's decoder (madebyollin/taesd's taesd.py, MGD3_TAESD_REF) on the
   denormalised latents, to 8-bit images;
4. select: the Random set's real images (read from --inputs: U8 images the Deno side wrote);
5. evaluate: 4 hard-label runs of ConvNet-4 at 64 px (tools/bench/eval_ref.py).
Threads: MGD3_BENCH_THREADS (default: all cores).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
IPC, SEED, BATCH, STEPS, CFG = 10, 0, 8, 50, 4.0  # SPEC sections 1-2; stages/sample.ts batch 8
LAMBDA, T_STOP, STRENGTH = 0.1, 25, 0.7  # App. F, App. A, D4M (SPEC section 3)


def kmeans(x, k, rng, max_iter=300, tol=1e-4):
    """scikit-learn KMeans(k, n_init="auto") semantics on float64 rows; returns the centers."""
    mean = x.mean(0)
    x = x - mean
    tol = tol * x.var(0).mean()
    sq = (x * x).sum(1)
    trials = 2 + int(math.log(k))
    centers = [x[rng.randint(len(x))]]
    closest = ((x - centers[0]) ** 2).sum(1)
    for _ in range(1, k):
        cand = np.searchsorted(np.cumsum(closest), rng.random_sample(trials) * closest.sum())
        cand = np.minimum(cand, len(x) - 1)
        d = np.minimum(closest, sq[None] - 2 * x[cand] @ x.T + sq[cand, None])
        best = int(np.argmin(d.sum(1)))
        centers.append(x[cand[best]])
        closest = d[best]
    c = np.stack(centers)
    for _ in range(max_iter):
        d = sq[:, None] - 2 * x @ c.T + (c * c).sum(1)[None]
        label = d.argmin(1)
        new = np.stack([x[label == j].mean(0) if (label == j).any() else
                        x[int(d.min(1).argmax())] for j in range(k)])
        shift = ((new - c) ** 2).sum()
        c = new
        if shift <= tol:
            break
    return c + mean


def schedule():
    """DiT's linear betas respaced to 50 steps (space_timesteps(1000, "50"))."""
    abar = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000, dtype=np.float64))
    stride, cur, use = (1000 - 1) / (STEPS - 1), 0.0, []
    for _ in range(STEPS):
        use.append(round(cur))
        cur += stride
    ab = abar[use]
    prev = np.append(1.0, ab[:-1])
    betas = 1 - ab / prev
    post_var = betas * (1 - prev) / (1 - ab)
    return {
        "tmap": use, "ab": ab, "c1": betas * np.sqrt(prev) / (1 - ab),
        "c2": (1 - prev) * np.sqrt(1 - betas) / (1 - ab),
        "sigma": np.exp(0.5 * np.log(np.append(post_var[1], post_var[1:]))),
    }


def sample(torch, unet, sch, cls, modes, gen, strength=None, guide=False):
    """One batch of a class: [b, 32, 8, 8] latents (stages/diffusion/sampler.ts)."""
    b = modes.shape[0]
    start = STEPS - 1 if strength is None else min(STEPS, math.floor(STEPS * strength)) - 1
    z = torch.randn(modes.shape, generator=gen)
    ab = sch["ab"]
    x = z if strength is None else math.sqrt(ab[start]) * modes + math.sqrt(1 - ab[start]) * z
    y = torch.tensor([cls] * b + [unet.label_emb.num_embeddings - 1] * b)
    for i in range(start, -1, -1):
        t = torch.full((2 * b,), sch["tmap"][i], dtype=torch.long)
        out = unet(torch.cat([x, x]), t, y)
        v = out[b:] + CFG * (out[:b] - out[b:])
        x0 = math.sqrt(ab[i]) * x - math.sqrt(1 - ab[i]) * v
        mean = sch["c1"][i] * x0 + sch["c2"][i] * x
        sigma = float(sch["sigma"][i])
        if guide and i > T_STOP:
            mean = mean + LAMBDA * sigma * (modes - x0)
        x = mean + sigma * torch.randn(modes.shape, generator=gen) if i > 0 else mean
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--model", default=os.path.join(ROOT, "weights", "cpu_unet.safetensors"))
    p.add_argument("--taef2", default=os.path.join(ROOT, "weights", "taef2"))
    p.add_argument("--epochs", type=int, default=40)  # cpuEpochs(10, 10) = 2000 / 50
    a = p.parse_args()
    try:
        import torch
    except ImportError as e:
        print(f"ref unavailable: cannot import torch ({e})", flush=True)
        sys.exit(2)
    ref = os.environ.get("MGD3_TAESD_REF", "/work/.refs/taesd")
    if not os.path.isfile(os.path.join(ref, "taesd.py")):
        print(f"ref unavailable: MGD3_TAESD_REF={ref!r} does not hold taesd.py", flush=True)
        sys.exit(2)
    sys.path[:0] = [ref, HERE, os.path.join(HERE, "..", "fixtures")]
    from taesd import TAESD
    from unet_torch import UNet
    from _st_read import load
    import eval_ref

    torch.set_num_threads(int(os.environ.get("MGD3_BENCH_THREADS", "0")) or os.cpu_count())
    stages, top1 = {}, {}
    t_all = time.perf_counter()

    def timed(name, f):
        t0 = time.perf_counter()
        r = f()
        stages[name] = stages.get(name, 0) + time.perf_counter() - t0
        return r

    # models (loaded by runTable too, inside its total)
    weights, meta = load(a.model)
    cfg, norm = json.loads(meta["config"]), json.loads(meta["latent_norm"])
    unet = UNet(cfg["inChannels"], cfg["channels"], tuple(cfg["mult"]), cfg["blocksPerLevel"],
                cfg["numClasses"], cfg["groups"], cfg["midBlocks"]).eval()
    unet.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    taef2 = TAESD(os.path.join(a.taef2, "taef2_encoder.pth"),
                  os.path.join(a.taef2, "taef2_decoder.pth")).float().eval()
    images, imeta = load(a.inputs)
    classes = json.loads(imeta["classes"])
    lat_dir = next(os.path.join(d, f) for d, fs, _ in os.walk(a.base) for f in fs
                   if os.path.basename(d) == "latents")
    latents = [load(os.path.join(lat_dir, f"class-{c:03d}.safetensors"))[0]["latents"]
               for c in range(len(classes))]

    # 1. discover
    rng = np.random.RandomState(SEED)
    modes = timed("discover", lambda: [kmeans(l.reshape(len(l), -1).astype(np.float64), IPC, rng)
                                       for l in latents])
    picks = timed("discover", lambda: [rng.choice(len(l), IPC, replace=False) for l in latents])
    # 2. sample, 3. decode
    sch = schedule()
    std = torch.tensor(norm["std"], dtype=torch.float32).view(1, -1, 1, 1)
    mu = torch.tensor(norm["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    sets = {}
    recipes = {"dit": {}, "d4m": {"strength": STRENGTH}, "mgd3": {"guide": True}}
    with torch.no_grad():
        for name, r in recipes.items():
            gen = torch.Generator().manual_seed(SEED)

            def draw():
                out = []
                for c, m in enumerate(modes):
                    mt = torch.from_numpy(m.astype(np.float32)).view(IPC, *latents[c].shape[1:])
                    out.append(torch.cat([sample(torch, unet, sch, c, mt[s:s + BATCH], gen, **r)
                                          for s in range(0, IPC, BATCH)]))
                return out
            lat = timed(f"sample {name}", draw)

            def decode():
                return [(taef2.decoder(z * std + mu).clamp(0, 1) * 255).round().to(torch.uint8)
                        for z in lat]
            sets[name] = timed("decode", decode)
    # 4. select Random
    sets["random"] = timed("select", lambda: [torch.from_numpy(images[f"train.{n}"][p])
                                              for n, p in zip(classes, picks)])
    # 5. evaluate
    val_x = torch.from_numpy(np.concatenate([images[f"val.{n}"] for n in classes])).float() / 255
    val_y = torch.cat([torch.full((len(images[f"val.{n}"]),), c, dtype=torch.long)
                       for c, n in enumerate(classes)])
    for name in ["random", "dit", "d4m", "mgd3"]:
        torch.manual_seed(SEED)
        random.seed(SEED)
        np.random.seed(SEED)
        x = torch.cat(sets[name]).float() / 255
        y = torch.arange(len(classes)).repeat_interleave(IPC)
        size = x.shape[-1]
        top1[name] = timed("eval", lambda: eval_ref.hard_label_run(
            eval_ref.ConvNet(len(classes), size=size), x, y, val_x, val_y, a.epochs, size))
    total = time.perf_counter() - t_all
    with open("/proc/self/status") as f:
        hwm = int(next(l for l in f if l.startswith("VmHWM")).split()[1])
    print(json.dumps({"total_s": total, "stages": stages, "top1": top1,
                      "peak_gb": hwm * 1024 / 1e9}), flush=True)


if __name__ == "__main__":
    main()
