"""PyTorch reference timings for bench/vae_bench.ts: madebyollin/taesd's taesd.py with the TAEF2
weights, encoder and decoder, float32, batch 16.

Usage: [MGD3_TAESD_REF=<taesd checkout>] /usr/bin/python3 tools/bench/vae_ref.py --serve
Reads commands from stdin and answers one line each, so the benchmark can alternate its runs
with ours on a machine whose load changes:
  "setup <case>"  builds the model and input, warms up; answers "ready"
  "run"           one forward pass; answers its milliseconds
  "quit"
Cases: taef2_encode_<S>, taef2_decode_<S> (S = image side; the decoder gets [16, 32, S/8, S/8]).
If torch or the checkout cannot be imported, the first answer is "ref unavailable: <why>".
Env: MGD3_TAESD_REF (checkout holding taesd.py, default /work/.refs/taesd), MGD3_TAEF2 (folder of taef2_*.pth, default
/work/shared/models/taef2), MGD3_BENCH_THREADS (default: all cores).
"""
import os
import sys
import time

BATCH = 16


def load():
    ref = os.environ.get("MGD3_TAESD_REF", "/work/.refs/taesd")
    if not ref or not os.path.isfile(os.path.join(ref, "taesd.py")):
        return None, f"MGD3_TAESD_REF={ref!r} does not hold taesd.py"
    try:
        import torch
    except ImportError as e:
        return None, f"cannot import torch ({e})"
    sys.path.insert(0, ref)
    from taesd import TAESD

    weights = os.environ.get("MGD3_TAEF2", "/work/shared/models/taef2")
    threads = int(os.environ.get("MGD3_BENCH_THREADS", os.cpu_count()))
    torch.set_num_threads(threads)
    model = TAESD(os.path.join(weights, "taef2_encoder.pth"),
                  os.path.join(weights, "taef2_decoder.pth")).float().eval()
    return (torch, model), None


def main():
    env, why = load()
    state = {}
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            break
        if env is None:
            print(f"ref unavailable: {why}", flush=True)
            continue
        torch, model = env
        if cmd[0] == "setup":
            _, which, size = cmd[1].split("_")
            s = int(size)
            if which == "encode":
                state["f"], state["x"] = model.encoder, torch.rand(BATCH, 3, s, s)
            else:
                state["f"], state["x"] = model.decoder, torch.randn(BATCH, 32, s // 8, s // 8)
            with torch.no_grad():
                state["f"](state["x"])
            print("ready", flush=True)
        elif cmd[0] == "run":
            with torch.no_grad():
                t0 = time.perf_counter()
                state["f"](state["x"])
                ms = (time.perf_counter() - t0) * 1000
            print(f"{ms:.3f}", flush=True)


if __name__ == "__main__":
    main()
