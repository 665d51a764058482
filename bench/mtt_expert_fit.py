"""Does an MTT set over-fit the expert trajectories it was distilled on? Its trajectory-matching loss on those experts
against its loss on experts it never saw (same data, network and settings, other seeds).

Each `--set NAME=FOLDER` is an MTT artifact (its objective settings, expert folder and learned syn_lr come from its
meta.json). For every expert of the set's own folder and of `--held-out` (a folder of experts trained as the set's were,
e.g. `haba-experts ... --seed 1`), and every start epoch 0 .. max_start_epoch - 1, the student is unrolled from the
expert's start for the set's syn_steps on the set's images at its learned lr, and MTT's normalised distance to the
expert expert_epochs later is recorded. The student's minibatches, hallucinator and DSA draws come from a generator
seeded by (--seed, repeat, start epoch), the same for every set, so sets are compared on the same draws.
A set that fits its own experts better but held-out ones worse than another set has over-fitted them.

    .venv/bin/haba-experts --dataset fashionmnist --out /tmp/heldout --n-experts 2 --epochs 12 --width 32 --seed 1 \\
        --val-per-class 50 --val-seed 0
    .venv/bin/python bench/mtt_expert_fit.py --held-out /tmp/heldout \\
        --set "300 its=FOLDER_A" --set "1000 its=bench/results/sets/fashionmnist-mtt-ipc10-haba_i38_ds2"

Writes --out (default bench/results/mtt_expert_fit.json): per set, the loss per (expert folder, expert, start epoch)
and the means over the set's own and the held-out experts, settings and 'meta' (bench/harness.py); prints a table.
"""
from __future__ import annotations
import argparse, statistics, sys, time
from pathlib import Path
from harness import add_common_args, md_header, md_row, save_json

HERE = Path(__file__).resolve().parent


def set_losses(folder: Path, expert_dirs: dict, real, a) -> dict:
    "{'own'|'held_out': [loss, ...]} and per-row records for one set."
    import torch
    from haba_nb.artifacts import load_artifact
    from haba_nb.mtt import student_plan, trajectory_loss, unroll_student
    from haba_nb.objectives import get_objective
    param, meta = load_artifact(folder)
    dc = meta['distill_config']
    kw = {'width': dc['width'], 'depth': dc['depth'], **dc['objective_kwargs']}
    rows, out = [], {}
    for group, d in expert_dirs.items():
        d = d or kw['expert_dir']
        obj = get_objective('mtt', real, model=dc['model'], ipc=dc['ipc'], **{**kw, 'expert_dir': str(d)})
        cfg, lr = obj.cfg, torch.tensor(float(meta['syn_lr']))
        for e in range(min(len(obj.experts), a.max_experts or len(obj.experts))):
            for t in range(min(cfg.max_start_epoch, a.starts or cfg.max_start_epoch)):
                start, target = obj.expert_params(e, t), obj.expert_params(e, t + cfg.expert_epochs)
                for r in range(a.repeats):
                    g = torch.Generator().manual_seed(a.seed * 1_000_003 + r * 1009 + t)
                    plan = student_plan(len(param), cfg.syn_steps, cfg.batch_syn, g, cfg.dsa)
                    theta = unroll_student(obj.net, param, start, lr, plan, cfg.dsa_strategy, 'adjoint', obj.precision, cfg.hal_draw)
                    loss = float(trajectory_loss(theta.detach(), start, target))
                    rows.append(dict(group=group, expert_dir=str(d), expert=obj.experts[e], start=t, repeat=r, loss=loss))
                    out.setdefault(group, []).append(loss)
    return out, rows, dict(syn_lr=float(meta['syn_lr']), iteration=meta.get('iteration'), expert_dir=kw['expert_dir'])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--set', action='append', default=[], metavar='NAME=FOLDER', help='an MTT artifact folder (repeat)')
    ap.add_argument('--held-out', required=True, help='a folder of experts the sets were not distilled on')
    ap.add_argument('--dataset', default='fashionmnist')
    ap.add_argument('--repeats', type=int, default=1, help='student draws per (expert, start epoch)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--max-experts', type=int, default=0, help='at most this many experts a folder (0: all)')
    ap.add_argument('--starts', type=int, default=0, help='start epochs 0 .. N-1 only (0: all the set trained with)')
    add_common_args(ap, threads=1, out=HERE / 'results' / 'mtt_expert_fit.json')
    a = ap.parse_args()
    if not a.set: sys.exit('no --set given: pass --set NAME=FOLDER for each MTT artifact folder')
    if not (Path(a.held_out) / 'trajectories.json').exists():
        sys.exit(f"--held-out {a.held_out}: no trajectories.json there; make experts with haba-experts --out {a.held_out} (see --help)")
    import torch; torch.set_num_threads(a.threads)
    from haba_nb.data import load_dataset
    real = load_dataset(a.dataset)
    results = {}
    for spec in a.set:
        if '=' not in spec: sys.exit(f"--set {spec!r}: expected NAME=FOLDER")
        name, folder = (s.strip() for s in spec.split('=', 1))
        t = time.time()
        losses, rows, info = set_losses(Path(folder), {'own': None, 'held_out': a.held_out}, real, a)
        results[name] = dict(folder=folder, **info, rows=rows, seconds=time.time() - t,
                             **{f'{g}_mean': statistics.mean(v) for g, v in losses.items()},
                             **{f'{g}_n': len(v) for g, v in losses.items()})
        print(f"{name}: own experts {results[name]['own_mean']:.4f}, held-out {results[name]['held_out_mean']:.4f}", flush=True)
    save_json(a.out, dict(sets=results, held_out=a.held_out, repeats=a.repeats, seed=a.seed, dataset=a.dataset))
    print('\n' + md_header(['set', 'iteration', 'syn_lr', "loss on its own experts (mean)", 'loss on held-out experts (mean)']))
    for n, r in results.items():
        print(md_row([n, r['iteration'], f"{r['syn_lr']:.4f}", f"{r['own_mean']:.4f} (n={r['own_n']})",
                      f"{r['held_out_mean']:.4f} (n={r['held_out_n']})"]))


if __name__ == '__main__':
    main()
