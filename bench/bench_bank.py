"""Images/s of the vectorised HallucinatorBank vs the reference per-sample loop.

The reference evaluation feeds one image at a time through a randomly chosen hallucinator.
Here: 5 hallucinators x 9 bases x 10 classes at 28x28x1 and 32x32x3, forward and
forward+backward, torch threads = 2, warm-up + repeats, median, in two workloads:
  pairs     90 images: every basis through one random hallucinator (an evaluation epoch);
            every bank mode vs the per-sample loop;
  all       450 images: every basis through every hallucinator (`all_views`, materialise)
            vs the loop over all 450 (basis, hallucinator) pairs; `all_views` in the default
            mode (dense encoder + grouped decoder) and in mode 'compiled'.
Mode 'compiled' is TorchInductor code: its first call compiles (seconds, recorded as
compile_s; cached on disk by torch for later processes) and is excluded from the timing like
every warm-up call.
Every implementation is timed round-robin in the same run as its loop, so the ratio is side by
side. The CPU allocator is haba_nb's 'tuned' glibc setting by default, as in every haba_nb run
on CPU (`training_device`); `--allocator system` keeps glibc's defaults, under which each large
buffer after another implementation's comes back from the kernel with fresh page faults.
Saves bench/results/bench_bank.json (--out: a name under bench/results/, or an absolute path): setup (the settings,
allocator, statistic, cpu_count, load average), versions, results (per shape and implementation: fwd and fwd_bwd
images/s, their ratios to the loop; compiled's compile_s) and 'meta' (commit, machine, date: bench/harness.py).
`--after convnet` runs an untimed ConvNet-128 training step before every timed sample, so each
call meets the caches and threads a training loop leaves it (with --block 1: the bank's real spot).
By default one run prints two tables: steady state (--block 10) and per call (--block 1); the JSON
then keys results by "block10" / "block1" (a single --block keys them by shape, as older files do).

    .venv/bin/python bench/bench_bank.py [--repeats 101] [--threads 2] [--block 10 1] [--after nothing|convnet]
                                         [--allocator tuned] [--out bench_bank.json]
    .venv/bin/python bench/bench_bank.py --repeats 3 --block 1 --out /tmp/bench_bank.json     # a check (minutes: it compiles)
"""
import argparse, os, time
from pathlib import Path

import torch
import torch.nn.functional as F
from haba_nb.networks import get_network
from haba_nb.core import versions, training_device, cpu_allocator
from haba_nb.hallucinator import HallucinatorBank, _MODES
from harness import add_common_args, interleave, median, save_json


def _interleaved(fns, warmup, repeats, block=1, between=None):
    """Median seconds per call of each fn, timed round-robin (harness.interleave). Each sample is the mean of `block`
    consecutive calls: block 1 times a call right after a different implementation ran (caches cold for it), a larger
    block the steady state of code called again and again. `between` (untimed) runs before every sample: a ConvNet
    training step puts each call where a distillation or evaluation step puts the bank."""
    ts = interleave({k: (lambda _, f=f: f()) for k, f in fns.items()}, repeats, warmup=warmup, block=block, between=between)
    return {k: median(v) for k, v in ts.items()}


def _convnet_step(channels, size, n):
    "One untimed ConvNet-128 (the evaluation network) training step on n images, as a closure."
    net = get_network("ConvNet", channel=channels, num_classes=10, im_size=(size, size))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    xb, yb = torch.randn(n, channels, size, size), torch.randint(10, (n,))
    def step():
        opt.zero_grad(); F.cross_entropy(net(xb), yb).backward(); opt.step()
    return step


def bench(channels, size, n_hal=5, bpc=9, classes=10, warmup=3, repeats=9, block=1, after="nothing"):
    g = torch.Generator().manual_seed(0)
    n = bpc * classes
    between = _convnet_step(channels, size, n) if after == "convnet" else None
    bank = HallucinatorBank(n_hal, channels, channels, size)
    hs = [bank.hallucinator(j) for j in range(n_hal)]          # standalone copies for the loop
    x = torch.randn(n, channels, size, size, generator=g)      # (90, C, h, w) bases
    idx = torch.randint(n_hal, (n,), generator=g)
    xg = x.clone().requires_grad_(True)

    def loop(inp): return torch.cat([hs[int(j)](inp[b:b + 1]) for b, j in enumerate(idx)])
    def mode_fn(mode): return lambda inp: _MODES[mode](bank, inp, idx)
    compile_s = {}
    t0 = time.perf_counter()
    with torch.no_grad(): _MODES["compiled"](bank, x, idx)
    compile_s["fwd"] = time.perf_counter() - t0
    t0 = time.perf_counter(); _MODES["compiled"](bank, xg, idx).sum().backward(); compile_s["fwd_bwd"] = time.perf_counter() - t0
    impls = {"loop": loop, **{m: mode_fn(m) for m in _MODES}}
    def fwd(f):
        def run():
            with torch.no_grad(): f(x)
        return run
    def fwd_bwd(f): return lambda: f(xg).square().mean().backward()
    tf = _interleaved({k: fwd(f) for k, f in impls.items()}, warmup, repeats, block, between)
    tb = _interleaved({k: fwd_bwd(f) for k, f in impls.items()}, warmup, repeats, block, between)
    rows = {k: {"fwd": n / tf[k], "fwd_bwd": n / tb[k]} for k in impls}
    # every basis through every hallucinator: all_views vs the loop over all pairs
    pairs = [(b, j) for b in range(n) for j in range(n_hal)]
    def loop_all(inp): return torch.cat([hs[j](inp[b:b + 1]) for b, j in pairs])
    cbank = HallucinatorBank(n_hal, channels, channels, size, mode="compiled")
    cbank.load_state_dict(bank.state_dict())
    def views(inp): return bank.all_views(inp)
    def views_compiled(inp): return cbank.all_views(inp)
    impls = {"loop_all": loop_all, "all_views": views, "all_views_compiled": views_compiled}
    tf = _interleaved({k: fwd(f) for k, f in impls.items()}, warmup, max(3, repeats // 5), max(1, block // 5), between)
    tb = _interleaved({k: fwd_bwd(f) for k, f in impls.items()}, warmup, max(3, repeats // 5), max(1, block // 5), between)
    rows.update({k: {"fwd": len(pairs) / tf[k], "fwd_bwd": len(pairs) / tb[k]} for k in impls})
    rows["compiled"]["compile_s"] = compile_s
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=101, help="timed samples per implementation (interleaved; the median is kept)")
    add_common_args(ap, threads=2)
    ap.add_argument("--block", type=int, nargs="+", default=[10, 1],
                    help="consecutive calls per timed sample, one table each (10: steady state; 1: each call after another impl)")
    ap.add_argument("--after", default="nothing", choices=["nothing", "convnet"],
                    help="untimed before every sample: nothing, or a ConvNet-128 training step on 90 images (where a training loop calls the bank)")
    ap.add_argument("--allocator", default="tuned", choices=["tuned", "system"], help="glibc malloc as haba_nb runs set it, or glibc's defaults")
    ap.add_argument("--out", default="bench_bank.json", help="file name under bench/results/")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    training_device("cpu", allocator=a.allocator)
    blocks = list(dict.fromkeys(a.block))
    out = {"setup": {"hallucinators": 5, "bpc": 9, "classes": 10, "threads": a.threads, "repeats": a.repeats,
                     "block": blocks[0] if len(blocks) == 1 else blocks, "after": a.after, "allocator": cpu_allocator(),
                     "statistic": "median images/s", "cpu_count": os.cpu_count(),
                     "note": "other jobs may share the cores (load average recorded)", "loadavg_1min": os.getloadavg()[0]},
           "versions": versions(), "results": {}}
    target = {}
    for b in blocks:
        what = "steady: calls in a row" if b > 1 else "per call: each after another implementation"
        print(f"\n--block {b} ({what}{', after a ConvNet step' if a.after == 'convnet' else ''})")
        print(f"{'shape':10} {'impl':19} {'fwd img/s':>11} {'x loop':>7} {'fwd+bwd img/s':>14} {'x loop':>7}")
        res = out["results"] if len(blocks) == 1 else out["results"].setdefault(f"block{b}", {})
        for c, s in [(1, 28), (3, 32)]:
            rows = bench(c, s, repeats=a.repeats, block=b, after=a.after)
            key, default = f"{s}x{s}x{c}", HallucinatorBank(1, c, c, s).mode
            for impl, r in rows.items():
                star = "*" if impl == default else " "
                base = rows["loop_all" if impl.startswith(("loop_all", "all_views")) else "loop"]
                r["fwd_ratio"] = r["fwd"] / base["fwd"]; r["fwd_bwd_ratio"] = r["fwd_bwd"] / base["fwd_bwd"]
                print(f"{key:10} {impl+star:19} {r['fwd']:11.0f} {r['fwd_ratio']:7.1f} {r['fwd_bwd']:14.0f} {r['fwd_bwd_ratio']:7.1f}")
            res[key] = rows
            target.setdefault(key, []).append(f"{rows['compiled']['fwd_ratio']:.1f}x (--block {b})")
    print("\nforward target >= 10x the per-sample loop; compiled bank: " + "; ".join(f"{k} {', '.join(v)}" for k, v in target.items()))
    path = Path(__file__).parent / "results" / a.out
    save_json(path, out)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
