"""Overhead of the live DiversityMonitor against a distillation iteration on digits.

Two measurements, side by side in one process (the machine is shared, so ratios are what count):
1. micro: the amortised cost of one `monitor(record)` call (live FigureWidget mode, `every=5`,
   records shaped like `distill`'s) at short and long histories (the `max_points` thinning
   must keep it flat);
2. macro: the same tiny HaBa+DM distillation on digits run with `callback=None` and with
   `callback=monitor`, interleaved A/B/A/B, per-iteration wall time.
The overhead is micro-cost / iteration time (the stable number) and the A/B ratio (noisy).
Prints a table and writes bench/results/monitor_overhead.json.

Usage: .venv/bin/python bench/bench_monitor.py [--iterations 40] [--repeats 2]
"""
from __future__ import annotations
import argparse, platform, statistics, tempfile, time
from pathlib import Path

import torch

from haba_nb.core import atomic_write_json, versions
from haba_nb.widgets import DiversityMonitor

HERE = Path(__file__).resolve().parent


def fake_record(it: int) -> dict:
    "A record with every key distill writes at a diversity + evaluation point (the most a call has to handle)."
    r = {"it": it, "loss": 1.0 / it, "l_cos": 0.05, "view_cos": 0.4, "adv_loss": 2.3, "adv_cls": 2.2, "adv_lik": 0.03,
         "adv_con": 0.5, "syn_lr": 0.01, "time": 0.1}
    if it % 10 == 0: r.update(div_pixel_cos=0.3, div_adv_cos=0.5, spread=0.6, n_eff=4.2)
    if it % 50 == 0: r.update(acc_mean=80.0, acc_std=1.0)
    return r


def micro(n_calls: int, start_it: int = 1, every: int = 5) -> float:
    "Seconds per monitor call, amortised over `n_calls` calls after `start_it - 1` records of history."
    mon = DiversityMonitor(every=every, headless=False, auto_display=False)
    for it in range(1, start_it): mon(fake_record(it))       # pre-fill the history
    mon.update()
    t = time.perf_counter()
    for it in range(start_it, start_it + n_calls): mon(fake_record(it))
    return (time.perf_counter() - t) / n_calls


def macro(iterations: int, repeats: int) -> dict:
    "Per-iteration wall time of a tiny HaBa+DM distill on digits, without and with the monitor (interleaved)."
    from haba_nb.data import load_dataset
    from haba_nb.distill import DistillConfig, distill
    real = load_dataset("digits")
    base = dict(dataset="digits", objective="dm", parameterisation="haba", ipc=4, n_hallucinators=4, iterations=iterations,
                width=16, adversary_width=16, diversity_every=10, n_eval=0, progress=False, seed=0)
    times = {"none": [], "monitor": []}
    for rep in range(repeats):
        for mode in ("none", "monitor"):
            with tempfile.TemporaryDirectory() as d:
                cb = DiversityMonitor(every=5, headless=False, auto_display=False) if mode == "monitor" else None
                t = time.perf_counter()
                distill(DistillConfig(out_dir=d, **base), callback=cb, real=real)
                times[mode].append((time.perf_counter() - t) / iterations)
    return {k: statistics.median(v) for k, v in times.items()} | {"raw": times}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(1)
    res = {"what": "DiversityMonitor callback cost vs one distill iteration (digits, DM+HaBa, ipc 4, H 4, ConvNet width 16)",
           "machine": f"{platform.machine()}, 2 shared CPU cores, torch threads 1; other jobs were running (ratios measured side by side)",
           "versions": versions()}
    res["micro_s_per_call"] = {"history_0": micro(500), "history_5000": micro(500, start_it=5001)}
    res["micro_s_per_update_every_5"] = {k: v * 5 for k, v in res["micro_s_per_call"].items()}
    m = macro(a.iterations, a.repeats)
    res["distill_s_per_iteration"] = {"without_monitor": m["none"], "with_monitor": m["monitor"], "raw": m["raw"]}
    it_s = m["none"]
    res["overhead_percent_micro"] = {k: 100 * v / it_s for k, v in res["micro_s_per_call"].items()}
    res["overhead_percent_ab"] = 100 * (m["monitor"] / m["none"] - 1)
    res["budget_percent"] = 5.0
    print(f"{'measure':44s} {'value':>12s}")
    for k, v in res["micro_s_per_call"].items(): print(f"{'monitor call (amortised), ' + k:44s} {v * 1e3:10.3f}ms")
    print(f"{'distill iteration, no callback':44s} {m['none'] * 1e3:10.1f}ms")
    print(f"{'distill iteration, monitor callback':44s} {m['monitor'] * 1e3:10.1f}ms")
    for k, v in res["overhead_percent_micro"].items(): print(f"{'overhead (micro / iteration), ' + k:44s} {v:11.2f}%")
    print(f"{'overhead (A/B wall ratio, noisy)':44s} {res['overhead_percent_ab']:11.2f}%")
    atomic_write_json(HERE/"results"/"monitor_overhead.json", res)
    print(f"wrote {HERE/'results'/'monitor_overhead.json'}")


if __name__ == "__main__":
    main()
