"""DC, DSA and DM with and without the hand-written ReLU, 2×2 average pooling and convolutions (`analytic_relu_pool`,
`analytic_conv`), side by side.

One iteration here is the objective's `loss` + `backward` on a fresh objective (a fresh network from the round's seed;
DC/DSA's inner loop is not included), Fashion-MNIST (digits when its files are missing), IPC 10, ConvNet-128-3, CPU.
Plain = 10 images a class; haba = 9 bases a class × 5 hallucinators. Each round runs both settings on the same draw
(alternating, one process), so the ratio of medians is measured side by side; the gradient of the synthetic set is
compared too (float rounding only: the layers are exact in float64, see nbs/06_analytic).

    .venv/bin/python bench/bench_analytic.py                                   # dsa, dc, dm x plain, haba; 3 rounds
    .venv/bin/python bench/bench_analytic.py --objectives dsa --params plain --rounds 5
    .venv/bin/python bench/bench_analytic.py --no-conv        # ReLU and pooling by hand, PyTorch's convolutions

The JSON (--out, default bench/results/bench_analytic.json): bench, analytic_conv, dataset, threads, rounds, rows
('objective/set': s_pytorch and s_analytic per round, their medians, speedup_medians, grad_rel_diff per round),
loadavg_1min, time, command and 'meta' (commit, machine, date: bench/harness.py).
"""
from __future__ import annotations
import argparse, os, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from harness import add_common_args, command, median, save_json


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--objectives', default='dsa,dc,dm')
    ap.add_argument('--params', default='plain,haba')
    add_common_args(ap, rounds=3, rounds_help='rounds, PyTorch\'s and the analytic layers alternating (a fresh network from the round\'s seed)')
    ap.add_argument('--dataset', default='fashionmnist')
    add_common_args(ap, threads=2)
    ap.add_argument('--conv', action=argparse.BooleanOptionalAction, default=True, help='the analytic side also gets AnalyticConv2d (analytic_conv)')
    add_common_args(ap, out=HERE / 'results' / 'bench_analytic.json')
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    from haba_nb.core import training_device
    training_device('cpu', 'tuned')
    from haba_nb.basis import PlainImages, FactorizedSet
    from haba_nb.objectives import get_objective
    from bench_objectives import _load
    real, notice = _load(a.dataset)
    if notice: print(notice)
    rows = {}
    for name in a.objectives.split(','):
        for kind in a.params.split(','):
            torch.manual_seed(0)
            param = (FactorizedSet.from_real(real, 9, n_hallucinators=5, generator=torch.Generator().manual_seed(0)) if kind == 'haba'
                     else PlainImages.from_real(real, 10, generator=torch.Generator().manual_seed(0)))
            times, rels = {True: [], False: []}, []
            for r in range(a.rounds):   # both sides on the round's draw, alternating (not harness.interleave: the gradients are compared per round)
                grads = {}
                for on in (False, True):
                    obj = get_objective(name, real, ipc=10, analytic_relu_pool=on, analytic_conv=on and a.conv, generator=torch.Generator().manual_seed(r))
                    for p in param.parameters(): p.grad = None
                    t0 = time.perf_counter(); loss = obj.loss(param, real, 0); loss.backward(); times[on].append(time.perf_counter() - t0)
                    grads[on] = torch.cat([p.grad.reshape(-1) for p in param.parameters() if p.grad is not None])
                rels.append(float((grads[True] - grads[False]).norm() / grads[False].norm()))
                print(f"{name} {kind} round {r + 1}/{a.rounds}: PyTorch's {times[False][-1]:.2f} s, analytic {times[True][-1]:.2f} s, "
                      f"gradient relative difference {rels[-1]:.1e}", flush=True)
            med = {k: median(v) for k, v in times.items()}
            rows[f'{name}/{kind}'] = {'s_pytorch': times[False], 's_analytic': times[True], 'median_pytorch': med[False],
                                      'median_analytic': med[True], 'speedup_medians': med[False] / med[True], 'grad_rel_diff': rels}
    print(f"\n{real.name}, IPC 10, ConvNet-128-3, {a.threads} threads, {a.rounds} alternated rounds (load average now {os.getloadavg()[0]:.1f})")
    print(f"{'objective/set':<14}{'PyTorch s':>11}{'analytic s':>12}{'speed-up':>10}{'grad rel diff (max)':>21}")
    for k, r in rows.items():
        print(f"{k:<14}{r['median_pytorch']:>11.2f}{r['median_analytic']:>12.2f}{r['speedup_medians']:>9.2f}x{max(r['grad_rel_diff']):>21.1e}")
    save_json(a.out, {'bench': 'analytic_layers', 'analytic_conv': a.conv, 'dataset': real.name, 'threads': a.threads, 'rounds': a.rounds,
                      'rows': rows, 'loadavg_1min': os.getloadavg()[0], 'time': time.strftime('%Y-%m-%d %H:%M:%S'), 'command': command()})
    print(f"saved {a.out}")


if __name__ == '__main__':
    main()
