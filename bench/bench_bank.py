"""Images/s of the vectorised HallucinatorBank vs the reference per-sample loop.

The reference evaluation feeds one image at a time through a randomly chosen hallucinator.
Here: 5 hallucinators x 9 bases x 10 classes at 28x28x1 and 32x32x3, forward and
forward+backward, torch threads = 2, warm-up + repeats, median, in two workloads:
  pairs     90 images: every basis through one random hallucinator (an evaluation epoch);
            every bank mode vs the per-sample loop;
  all       450 images: every basis through every hallucinator (`all_views`, materialise)
            vs the loop over all 450 (basis, hallucinator) pairs.
Every implementation is timed round-robin in the same run as its loop, so the ratio is side by
side. Saves bench/results/bench_bank.json.
Usage: python bench/bench_bank.py [--repeats 101] [--threads 2]
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
    rows = {k: {"fwd": n / tf[k], "fwd_bwd": n / tb[k]} for k in impls}
    # every basis through every hallucinator: all_views vs the loop over all pairs
    pairs = [(b, j) for b in range(n) for j in range(n_hal)]
    def loop_all(inp): return torch.cat([hs[j](inp[b:b + 1]) for b, j in pairs])
    def views(inp): return bank.all_views(inp)
    impls = {"loop_all": loop_all, "all_views": views}
    tf = _interleaved({k: fwd(f) for k, f in impls.items()}, warmup, max(3, repeats // 5))
    tb = _interleaved({k: fwd_bwd(f) for k, f in impls.items()}, warmup, max(3, repeats // 5))
    rows.update({k: {"fwd": len(pairs) / tf[k], "fwd_bwd": len(pairs) / tb[k]} for k in impls})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=101)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = {"setup": {"hallucinators": 5, "bpc": 9, "classes": 10, "threads": a.threads, "repeats": a.repeats,
                     "statistic": "median images/s", "cpu_count": os.cpu_count(),
                     "note": "2-core VM; other jobs may share it (load average recorded)", "loadavg_1min": os.getloadavg()[0]},
           "versions": versions(), "results": {}}
    print(f"{'shape':10} {'impl':10} {'fwd img/s':>11} {'x loop':>7} {'fwd+bwd img/s':>14} {'x loop':>7}")
    for c, s in [(1, 28), (3, 32)]:
        rows = bench(c, s, repeats=a.repeats)
        key = f"{s}x{s}x{c}"
        for impl, r in rows.items():
            star = "*" if impl == HallucinatorBank(1, c, c, s).mode else " "
            base = rows["loop_all" if impl in ("loop_all", "all_views") else "loop"]
            r["fwd_ratio"] = r["fwd"] / base["fwd"]; r["fwd_bwd_ratio"] = r["fwd_bwd"] / base["fwd_bwd"]
            print(f"{key:10} {impl+star:10} {r['fwd']:11.0f} {r['fwd_ratio']:7.1f} {r['fwd_bwd']:14.0f} {r['fwd_bwd_ratio']:7.1f}")
        out["results"][key] = rows
    path = Path(__file__).parent / "results" / "bench_bank.json"
    atomic_write_json(path, out)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
