"""Kept synthetic sets evaluated on a held-out validation split of the TRAINING data, each at the student lr(s) asked
for: which of two sets is better, and whether an MTT set's learned lr helps it, without reading the test split.

Each `--set NAME=FOLDER[@LR,LR...]` is an artifact folder (bench/results/sets/..., a run's final/); without `@` it is
evaluated at its own lr (an MTT set's learned `syn_lr`, else the protocol's). The validation split is
`RealData.split_validation(--val-per-class, --val-seed)`: for MTT sets use the split their experts held out (the
expert folder's `val50s0` means 50 a class, seed 0), so that no image scored on was seen while distilling. Fresh
ConvNet-128 networks, seeds --seed, --seed+1, ... (3000.. by default, apart from the test protocol's 1000..).

    .venv/bin/python bench/eval_sets.py --threads 1 --val-per-class 50 \\
        --set "MTT 10 half-res, 1000 its=bench/results/sets/fashionmnist-mtt-ipc10-haba_i38_ds2@0.0482,0.0333"

Appends one record per (set, lr) to bench/results/eval_sets.json (--out): name, folder, the set's iteration and own
lr, lr, validation mean / std / accs, settings, seconds, commit, command and 'meta' (bench/harness.py); then prints
the table of every record.
"""
from __future__ import annotations
import argparse, sys, time
from pathlib import Path
from harness import add_common_args, append_record, command, commit, load_records, md_header, md_row

HERE = Path(__file__).resolve().parent


def parse_set(spec: str) -> tuple[str, Path, list]:
    "'NAME=FOLDER[@LR,LR]' -> (name, folder, [lr or None])."
    if '=' not in spec: sys.exit(f"--set {spec!r}: expected NAME=FOLDER or NAME=FOLDER@LR,LR")
    name, rest = (s.strip() for s in spec.split('=', 1))
    folder, _, lrs = rest.partition('@')
    try: lrs = [float(v) for v in lrs.split(',')] if lrs else [None]
    except ValueError: sys.exit(f"--set {spec!r}: the lrs after @ must be numbers, e.g. {name}={folder}@0.03,0.05")
    return name, Path(folder), lrs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--set', action='append', default=[], metavar='NAME=FOLDER[@LR,...]', help='an artifact folder (repeat)')
    ap.add_argument('--dataset', default='fashionmnist')
    ap.add_argument('--val-per-class', type=int, default=50)
    ap.add_argument('--val-seed', type=int, default=0, help='seed of the validation draw')
    ap.add_argument('--seeds', type=int, default=3, help='evaluation networks per (set, lr)')
    ap.add_argument('--seed', type=int, default=3000, help='the first evaluation seed (the test protocol uses 1000..)')
    ap.add_argument('--epochs', type=int, default=300)
    ap.add_argument('--width', type=int, default=128)
    add_common_args(ap, threads=1, out=HERE / 'results' / 'eval_sets.json', out_help='the records file (appended to)')
    a = ap.parse_args()
    if not a.set: sys.exit('no --set given: pass --set NAME=FOLDER for each artifact folder')
    sets = [parse_set(s) for s in a.set]
    for name, folder, _ in sets:
        if not (folder / 'meta.json').exists(): sys.exit(f"--set {name}={folder}: no meta.json there; pass an artifact folder")
    import torch; torch.set_num_threads(a.threads)
    from haba_nb.artifacts import load_artifact
    from haba_nb.data import load_dataset
    from haba_nb.evaluate import EvalConfig, evaluate_synset
    val = load_dataset(a.dataset).split_validation(a.val_per_class, seed=a.val_seed)[1]   # its test split := held-out training images
    out = Path(a.out)
    for name, folder, lrs in sets:
        param, meta = load_artifact(folder)
        for lr in lrs:
            t = time.time()
            ev = evaluate_synset(param.eval(), val, EvalConfig(epochs=a.epochs, width=a.width), n_seeds=a.seeds, seed=a.seed,
                                 lr=lr if lr is not None else meta.get('syn_lr'))
            rec = dict(name=name, folder=str(folder), iteration=meta.get('iteration'), own_lr=meta.get('syn_lr'),
                       lr=float(ev['lr']), val_mean=float(ev['mean']),
                       val_std=float(ev['std']), val_accs=[float(v) for v in ev['accs']],
                       settings={k: v for k, v in vars(a).items() if k not in ('set', 'out')},
                       seconds=time.time() - t, commit=commit(), command=command())
            append_record(out, rec)
            print(f"{name} @ lr {rec['lr']}: validation {rec['val_mean']:.2f} ± {rec['val_std']:.2f}", flush=True)
    print('\n' + md_header(['set', 'iteration', 'lr', 'validation accuracy (mean ± std, n)']))
    for r in load_records(out):
        print(md_row([r['name'], r['iteration'], f"{r['lr']:.4g}", f"{r['val_mean']:.1f} ± {r['val_std']:.1f} (n={len(r['val_accs'])})"]))


if __name__ == '__main__':
    main()
