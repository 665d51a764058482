"""Overhead of the live DiversityMonitor against a distillation iteration on digits.

Two measurements, side by side in one process (the machine is shared, so ratios are what count):
1. micro: the cost of a `monitor(record)` call that only records, and of one figure refresh
   (live FigureWidget mode, records shaped like `distill`'s) at short and long histories
   (the `max_points` thinning must keep it flat). Unthrottled per-call cost = record + refresh / every
   (the monitor's own time budget, `max_overhead`, can only lower it);
2. macro: the same tiny HaBa+DM distillation on digits run with `callback=None` and with
   `callback=monitor`, interleaved A/B/A/B, per-iteration wall time.
The overhead is unthrottled per-call cost / iteration time (the stable number) and the A/B ratio (noisy).
Prints a table and writes bench/results/monitor_overhead.json (--out): what, machine, versions, append_s_per_call,
push_s_per_refresh, unthrottled_s_per_call_every_5, distill_s_per_iteration (without / with the monitor, raw),
overhead_percent_unthrottled, overhead_percent_ab, time_budget_percent, budget_percent and 'meta' (commit, machine,
date: bench/harness.py).

    .venv/bin/python bench/bench_monitor.py [--iterations 40] [--repeats 2]
    .venv/bin/python bench/bench_monitor.py --iterations 2 --repeats 1 --out /tmp/monitor_overhead.json   # a check
"""
from __future__ import annotations
import argparse, os, platform, tempfile, time
from pathlib import Path

import torch

from haba_nb.core import versions
from haba_nb.monitor import DiversityMonitor
from harness import add_common_args, interleave, median, save_json

HERE = Path(__file__).resolve().parent


def fake_record(it: int) -> dict:
    "A record with every key distill writes at a diversity + evaluation point (the most a call has to handle)."
    r = {"it": it, "loss": 1.0 / it, "l_cos": 0.05, "view_cos": 0.4, "adv_loss": 2.3, "adv_cls": 2.2, "adv_lik": 0.03,
         "adv_con": 0.5, "syn_lr": 0.01, "time": 0.1}
    if it % 10 == 0: r.update(div_pixel_cos=0.3, div_adv_cos=0.5, spread=0.6, n_eff=4.2)
    if it % 50 == 0: r.update(acc_mean=80.0, acc_std=1.0)
    return r


def append_cost(n_calls: int = 2000) -> float:
    "Seconds per `monitor(record)` call that does not push (every call pays this)."
    mon = DiversityMonitor(every=10**9, headless=False, auto_display=False)
    t = time.perf_counter()
    for it in range(1, n_calls + 1): mon(fake_record(it))
    return (time.perf_counter() - t) / n_calls


def push_cost(history: int, every: int = 5, n_pushes: int = 30) -> float:
    "Seconds per figure refresh (`update()` after `every` new records) once `history` records exist."
    mon = DiversityMonitor(every=10**9, headless=False, auto_display=False)
    for it in range(1, history + 1): mon(fake_record(it))
    mon.update()
    it = [history]
    def push():
        for _ in range(every): it[0] += 1; mon(fake_record(it[0]))
        t = time.perf_counter(); mon.update(); return time.perf_counter() - t
    return median(push() for _ in range(n_pushes))


def macro(iterations: int, repeats: int) -> dict:
    "Per-iteration wall time of a tiny HaBa+DM distill on digits, without and with the monitor (interleaved)."
    from haba_nb.data import load_dataset
    from haba_nb.config import DistillConfig
    from haba_nb.distill import distill
    real = load_dataset("digits")
    base = dict(dataset="digits", objective="dm", parameterisation="haba", ipc=4, n_hallucinators=4, iterations=iterations,
                width=16, adversary_width=16, diversity_every=10, n_eval=0, progress=False, seed=0,
                objective_kwargs={"batch_real": 32})
    def run(monitor):
        def one(_):
            with tempfile.TemporaryDirectory() as d:
                cb = DiversityMonitor(every=5, headless=False, auto_display=False) if monitor else None
                t = time.perf_counter()
                distill(DistillConfig(out_dir=d, **base), callback=cb, real=real)
                return (time.perf_counter() - t) / iterations
        return one
    times = interleave({"none": run(False), "monitor": run(True)}, repeats, own_clock=True)
    return {k: median(v) for k, v in times.items()} | {"raw": times}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2, help="A/B rounds of the distillation (interleaved; medians kept)")
    add_common_args(ap, out=HERE/"results"/"monitor_overhead.json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    res = {"what": "DiversityMonitor callback cost vs one distill iteration (digits, DM+HaBa, ipc 4, H 4, ConvNet width 16, DM batch_real 32)",
           "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads 1; load average {os.getloadavg()[0]:.1f} "
                      "(ratios measured side by side)",
           "versions": versions()}
    every = 5
    app = append_cost()
    push = {f"history_{h}": push_cost(h, every) for h in (10, 1000, 5000)}
    # unthrottled: what a call costs if every `every`-th call pushes (the monitor's time budget only lowers this)
    per_call = {k: app + v / every for k, v in push.items()}
    res["append_s_per_call"] = app
    res["push_s_per_refresh"] = push
    res["unthrottled_s_per_call_every_5"] = per_call
    m = macro(a.iterations, a.repeats)
    res["distill_s_per_iteration"] = {"without_monitor": m["none"], "with_monitor": m["monitor"], "raw": m["raw"]}
    it_s = m["none"]
    res["overhead_percent_unthrottled"] = {k: 100 * v / it_s for k, v in per_call.items()}
    res["overhead_percent_ab"] = 100 * (m["monitor"] / m["none"] - 1)
    res["time_budget_percent"] = 100 * DiversityMonitor().max_overhead
    res["budget_percent"] = 5.0
    print(f"{'measure':48s} {'value':>12s}")
    print(f"{'monitor call without a push':48s} {app * 1e3:10.3f}ms")
    for k, v in push.items(): print(f"{'one figure refresh, ' + k:48s} {v * 1e3:10.3f}ms")
    print(f"{'distill iteration, no callback':48s} {m['none'] * 1e3:10.1f}ms")
    print(f"{'distill iteration, monitor callback':48s} {m['monitor'] * 1e3:10.1f}ms")
    for k, v in res["overhead_percent_unthrottled"].items(): print(f"{'overhead unthrottled (every 5), ' + k:48s} {v:11.2f}%")
    print(f"{'overhead (A/B wall ratio, noisy)':48s} {res['overhead_percent_ab']:11.2f}%")
    print(f"wrote {save_json(a.out, res)}")


if __name__ == "__main__":
    main()
