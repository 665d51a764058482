"""Images/s of the vectorised HallucinatorBank vs the reference per-sample loop.

The reference evaluation feeds one image at a time through a randomly chosen hallucinator.
Here: 5 hallucinators x 9 bases x 10 classes (90 bases, one random hallucinator each), at
28x28x1 and 32x32x3, forward and forward+backward, torch threads = 2, warm-up + repeats,
median. Every bank mode (bmm, grouped, vmap) is measured in the same run as the loop, so the
ratio is side by side. Saves bench/results/bench_bank.json.
Usage: python bench/bench_bank.py [--repeats 9] [--threads 2]
"""
import argparse, json, os, statistics, time
from pathlib import Path

import torch
from haba_nb.core import atomic_write_json, versions
from haba_nb.hallucinator import HallucinatorBank, _MODES


def _interleaved(fns, warmup, repeats):
    "Median seconds of each fn, timed round-robin so a busy shared CPU slows all of them alike."
    for _ in range(warmup):
        for f in fns.values(): f()
    ts = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t0 = time.perf_counter(); f(); ts[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in ts.items()}


def bench(channels, size, n_hal=5, bpc=9, classes=10, warmup=3, repeats=9):
    g = torch.Generator().manual_seed(0)
    n = bpc * classes
    bank = HallucinatorBank(n_hal, channels, channels, size)
    hs = [bank.hallucinator(j) for j in range(n_hal)]          # standalone copies for the loop
    x = torch.randn(n, channels, size, size, generator=g)      # (90, C, h, w) bases
    idx = torch.randint(n_hal, (n,), generator=g)
    xg = x.clone().requires_grad_(True)

    def loop(inp): return torch.cat([hs[int(j)](inp[b:b + 1]) for b, j in enumerate(idx)])
    def mode_fn(mode): return lambda inp: _MODES[mode](bank, inp, idx)
    impls = {"loop": loop, **{m: mode_fn(m) for m in _MODES}}
    def fwd(f):
        def run():
            with torch.no_grad(): f(x)
        return run
    def fwd_bwd(f): return lambda: f(xg).square().mean().backward()
    tf = _interleaved({k: fwd(f) for k, f in impls.items()}, warmup, repeats)
    tb = _interleaved({k: fwd_bwd(f) for k, f in impls.items()}, warmup, repeats)
    return {k: {"fwd": n / tf[k], "fwd_bwd": n / tb[k]} for k in impls}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = {"setup": {"hallucinators": 5, "bpc": 9, "classes": 10, "threads": a.threads, "repeats": a.repeats,
                     "statistic": "median images/s", "cpu_count": os.cpu_count(),
                     "note": "measured on a 2-core machine shared with other jobs"},
           "versions": versions(), "results": {}}
    print(f"{'shape':10} {'impl':10} {'fwd img/s':>11} {'x loop':>7} {'fwd+bwd img/s':>14} {'x loop':>7}")
    for c, s in [(1, 28), (3, 32)]:
        rows = bench(c, s, repeats=a.repeats)
        key = f"{s}x{s}x{c}"
        for impl, r in rows.items():
            star = "*" if impl == HallucinatorBank(1, c, c, s).mode else " "
            r["fwd_ratio"] = r["fwd"] / rows["loop"]["fwd"]; r["fwd_bwd_ratio"] = r["fwd_bwd"] / rows["loop"]["fwd_bwd"]
            print(f"{key:10} {impl+star:10} {r['fwd']:11.0f} {r['fwd_ratio']:7.1f} {r['fwd_bwd']:14.0f} {r['fwd_bwd_ratio']:7.1f}")
        out["results"][key] = rows
    path = Path(__file__).parent / "results" / "bench_bank.json"
    atomic_write_json(path, out)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
