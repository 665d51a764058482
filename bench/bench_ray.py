"""Wall time of one small sweep: the sequential executor vs Ray (a local instance), and a scaling model for N workers.

What runs: `haba-sweep`'s `run_sweep` on the same 4 cells twice, in fresh folders — digits, quick tier, methods
`dm` (plain and haba; a short distillation) at IPC 1 by default, tiny evaluation budgets — once sequentially (one
cell after another in this process's kernel) and once with `executor='ray'` (a local Ray instance with
--ray-cpus CPUs, each cell a task asking for --cpus-per-cell CPUs). Printed: the wall times, the per-cell times
of each executor, and the model's prediction; saved: bench/results/bench_ray.json (--out): spec, load_before,
cpu_count, sequential and ray (wall_s, ray_start_s, cell_s, status, tables), speedup, model_lpt_s, tables_equal,
versions, time and 'meta' (commit, machine, date: bench/harness.py).

Scaling model (on paper). Let t_1..t_n be the per-cell times measured sequentially and o the per-cell overhead of
a Ray task (scheduling + a worker process importing torch + a Jupyter kernel starting; a few seconds, already
inside t_i for the kernel part). With N identical workers (N GPUs, one cell each) and cells scheduled longest
first (Ray hands a queued task to the first free worker: list scheduling),
    T_ray(N) ≈ S + LPT_N(t_1 + o', ..., t_n + o'),   bounded by  max(max_i t_i, Σ t_i / N)  ≤ LPT_N ≤ Σ t_i / N + max_i t_i,
where S is Ray's start (~4-10 s locally, ~0 when joining a running cluster) and o' the extra per-task cost (worker
start, object transfer; ~1-3 s). The speed-up T_seq / T_ray(N) → min(N, n, Σ t_i / max_i t_i): a sweep is as
slow as its longest cell, so it scales while there are more cells than workers. On ONE machine with C CPU cores
and no GPU, N workers share the cores: each cell's torch then runs on C/N threads, so the sum of work does not
shrink — on this 2-core machine expect a speed-up ≤ 1 (Ray's start and per-task overhead, no idle cores to use).
Cells that each own a GPU (`--cpus-per-cell`, CUDA device: one GPU per cell) do not share compute, so the model
above applies with N = the number of GPUs.

Run (a few minutes on 2 CPU cores; only on an idle machine: it measures wall time):
    python bench/bench_ray.py                       # dm plain+haba ipc 1, 4 cells
    python bench/bench_ray.py --methods random herding --ipcs 1 2    # coresets only: kernel start dominates
"""
from __future__ import annotations
import argparse, json, os, re, sys, tempfile, time
from pathlib import Path
from harness import add_common_args, md_header, md_row, save_json


def lpt(times, n):
    "Makespan of list scheduling longest-first of `times` on `n` identical workers."
    loads = [0.0] * n
    for t in sorted(times, reverse=True): loads[loads.index(min(loads))] += t
    return max(loads)


def run(executor, spec, out, ray_cpus, cpus_per_cell):
    from haba_nb.sweep import run_sweep
    lines = []
    t = time.time()
    if executor == 'ray':
        from haba_nb.parallel import ray_session
        with ray_session(num_cpus=ray_cpus):
            t0 = time.time()
            r = run_sweep(spec, out, log=lines.append, executor='ray', cpus_per_cell=cpus_per_cell)
            start = t0 - t
    else:
        r, start = run_sweep(spec, out, log=lines.append), 0.0
    wall = time.time() - t
    cells = {m.group(1): float(m.group(3)) for m in (re.search(r'\] (\S+): (\w+) \((\d+)s\)', l) for l in lines) if m}
    return dict(wall_s=wall, ray_start_s=start, cell_s=cells, status=r['status'], tables=r['markdown'])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--methods', nargs='+', default=['dm'])
    p.add_argument('--parameterisations', nargs='+', default=['plain', 'haba'])
    p.add_argument('--ipcs', nargs='+', type=int, default=[1])
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1])
    p.add_argument('--param', action='append', default=['iterations=20', 'eval_epochs=20', 'n_eval=1', 'width=16'],
                   help='NAME=VALUE run parameter, added to (and overriding) the defaults')
    p.add_argument('--ray-cpus', type=int, default=os.cpu_count())
    p.add_argument('--cpus-per-cell', type=float, default=1)
    add_common_args(p, out=Path(__file__).parent/'results'/'bench_ray.json')
    a = p.parse_args(argv)
    from haba_nb.core import versions
    from haba_nb.sweep import SweepSpec
    params = {k: json.loads(v) for k, _, v in (kv.partition('=') for kv in a.param)}
    spec = SweepSpec(('digits',), tuple(a.ipcs), tuple(a.methods), tuple(a.parameterisations), tuple(a.seeds), 'quick', params)
    load = os.getloadavg()[0]
    if load > 3: print(f"warning: load average {load:.1f} on {os.cpu_count()} cores: wall times are not trustworthy", file=sys.stderr)
    with tempfile.TemporaryDirectory() as d:
        seq = run('sequential', spec, Path(d)/'seq', a.ray_cpus, a.cpus_per_cell)
        ray = run('ray', spec, Path(d)/'ray', a.ray_cpus, a.cpus_per_cell)
    t = list(seq['cell_s'].values())
    model = {n: lpt(t, n) for n in (1, 2, 4, 8)}
    rows = [('sequential', seq['wall_s'], 1.0), (f"ray ({a.ray_cpus} CPUs, {a.cpus_per_cell:g}/cell)", ray['wall_s'], seq['wall_s'] / ray['wall_s'])]
    print(md_header(['executor', 'wall (s)', 'speed-up']))
    for name, w, s in rows: print(md_row([name, f"{w:.1f}", f"{s:.2f}x"]))
    print(f"\nray start {ray['ray_start_s']:.1f} s; per-cell s (sequential): {seq['cell_s']}\nper-cell s (ray, cores shared): {ray['cell_s']}")
    print("model, N dedicated workers (LPT of the sequential per-cell times, without Ray's start): "
          + ", ".join(f"N={n}: {v:.0f}s ({sum(t) / v:.2f}x)" for n, v in model.items()))
    print("tables equal:", seq['tables'] == ray['tables'], "(the sequential kernel uses torch's default threads, a Ray cell --cpus-per-cell;"
          " with equal threads they are equal: tests/test_parallel.py)")
    save_json(a.out, dict(spec=spec.__dict__, load_before=load, cpu_count=os.cpu_count(), sequential=seq, ray=ray,
                          speedup=seq['wall_s'] / ray['wall_s'], model_lpt_s=model, tables_equal=seq['tables'] == ray['tables'],
                          versions=versions(), time=time.time()))
    print(f"saved {a.out}")


if __name__ == '__main__':
    main()
