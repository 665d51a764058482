"""Cross-architecture evaluation of saved synthetic sets: train fresh ResNet18 / VGG11 / AlexNet (and ConvNet) on each.

The HaBa paper claims its sets, distilled with a ConvNet, generalise ~10 points better to other
architectures than the plain sets of the same objective. This script takes FINAL artifact folders
(`<run>/final`, written by `distill`; nothing is selected, so nothing peeks at the test split) and
trains --seeds fresh networks of each --models entry for --epochs with DSA, evaluation seeds 1000..,
on the test split. Sets that carry MTT's learned lr are trained with it (as MTT/HaBa evaluate);
the others with the protocol's 0.01. `--lr protocol` trains every set at 0.01 (DC/DSA/DM's cross-architecture
protocol): MTT's lr is learned for the distillation ConvNet, and a norm-free network (AlexNet) can diverge at it
(results/NOTES.md, bench); `--lr 0.005` fixes any other value.

    .venv/bin/python bench/cross_arch.py \\
        --set "DM 10 plain=/work/runs_ablate/fashionmnist-dm-ipc10-plain/final" \\
        --set "DM 10 HaBa=/work/runs_ablate/fashionmnist-dm-ipc10-haba_new_rho0.2/final" \\
        --models ConvNet,ResNet18,VGG11,AlexNet --seeds 3 --epochs 300 --threads 1
    .venv/bin/python bench/cross_arch.py --table-only

`--standardize` evaluates under HaBa's code's protocol (every batch standardised, `EvalConfig.standardize`) and
`--precision bf16` with bf16 forward passes; both are part of a cell's key and shown in the table's protocol column.

Records are appended to --out (default bench/results/cross_arch.json), one per (set, model) cell: its key (set, folder,
dataset, model, seeds, epochs and the protocol switches), mean, std, accs, lr, the set's parameterisation / objective /
ipc / stored_floats, seconds, compiled, commit, command and 'meta' (machine, date: bench/harness.py). A cell already
there is skipped, so an interrupted run continues where it stopped. Each finished seed is kept at once in
`<out>.seeds.json` (one record per seed, same key), so a cell stopped at its last seed re-trains only the seeds it had
not finished; the cell's record is written when all its seeds are in.
"""
import argparse, json, sys
from pathlib import Path
from harness import add_common_args, append_record, command, commit, load_records, md_header, md_row

HERE = Path(__file__).resolve().parent


def parse_set(s: str) -> tuple[str, Path]:
    "'NAME=FOLDER' -> (name, folder), exiting with the fix when it is malformed or the folder is no artifact."
    if '=' not in s: sys.exit(f"--set {s!r}: expected NAME=FOLDER, e.g. --set \"DM 10 plain=runs/x/final\"")
    name, folder = s.split('=', 1)
    folder = Path(folder).expanduser()
    if not (folder / 'meta.json').exists():
        sys.exit(f"--set {name!r}: {folder} holds no meta.json; pass a run's final/ (or best/) artifact folder")
    return name.strip(), folder


def lr_policy(s: str):
    "The fixed lr of an --lr value (None: each set's learned lr), exiting with the fix when it is neither word nor number."
    if s == 'learned': return None
    if s == 'protocol': return 0.01
    try: v = float(s)
    except ValueError: v = -1.0
    if not v > 0: sys.exit(f"--lr {s!r}: expected 'learned', 'protocol' or a positive number, e.g. --lr 0.01")
    return v


def _protocol(r) -> str:
    "The evaluation protocol of a record, in words (records before the switches existed: float32, raw batches)."
    return ', '.join([r.get('precision', 'fp32')] + (['batches standardised'] if r.get('standardize') else [])
                     + ([f"lr {r['lr_policy']}"] if r.get('lr_policy', 'learned') != 'learned' else []))


def _seed_run(path: Path, key: dict, seed: int, train) -> dict:
    "One evaluation seed of a cell: its kept record in `path` if an earlier run finished it, else `train(seed)`, kept at once."
    for r in load_records(path):
        if r['key'] == key and r['seed'] == seed:
            print(f"{key['set']} / {key['model']} / seed {seed}: done before ({r['acc_test']:.1f}), reused", flush=True)
            return r
    run = train(seed)
    r = {'key': key, 'seed': seed, 'acc_test': float(run['acc_test']), 'lr': float(run['lr']), 'seconds': float(run['seconds']),
         'compiled': bool(run.get('compiled'))}
    append_record(path, r, with_meta=False)      # the cell's record carries the meta
    print(f"{key['set']} / {key['model']} / seed {seed}: {r['acc_test']:.1f} in {r['seconds']:.0f} s", flush=True)
    return r


def print_table(records):
    models = list(dict.fromkeys(r['model'] for r in records))
    sets = list(dict.fromkeys((r['set'], r['epochs'], r['seeds'], _protocol(r)) for r in records))
    print("\ntest accuracy (%) of fresh networks trained on each final set, mean ± std over evaluation seeds\n")
    print(md_header(['set', 'protocol', 'epochs × seeds', 'lr', *models]))
    for name, ep, n, proto in sets:
        cells, lr = [], None
        for m in models:
            r = [r for r in records if (r['set'], r['epochs'], r['seeds'], _protocol(r), r['model']) == (name, ep, n, proto, m)]
            cells.append(f"{r[-1]['mean']:.1f} ± {r[-1]['std']:.1f}" if r else '–')
            lr = lr or (r[-1]['lr'] if r else None)
        print(md_row([name, proto, f"{ep} × {n}", f"{lr:.3g}", *cells]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--set', action='append', default=[], metavar='NAME=FOLDER', help='a named final artifact folder (repeat)')
    ap.add_argument('--models', default='ConvNet,ResNet18,VGG11,AlexNet', help='comma-separated network names')
    ap.add_argument('--seeds', type=int, default=3, help='evaluation seeds (1000, 1001, ...)')
    ap.add_argument('--epochs', type=int, default=300)
    add_common_args(ap, threads=2)
    ap.add_argument('--standardize', action='store_true', help="standardise every batch (HaBa's code's evaluation)")
    ap.add_argument('--precision', default='fp32', choices=('fp32', 'bf16'), help='forward-pass precision of the evaluation')
    ap.add_argument('--lr', default='learned', help="'learned' (a set's MTT lr where it has one, else 0.01), "
                    "'protocol' (0.01 for every set), or a number")
    ap.add_argument('--table-only', action='store_true')
    add_common_args(ap, out=HERE / 'results' / 'cross_arch.json', out_help='the records file (appended to)')
    a = ap.parse_args()
    out = Path(a.out)
    records = load_records(out)
    if not a.table_only:
        if not a.set: sys.exit("no --set given: pass --set NAME=FOLDER for each final artifact folder to evaluate")
        fixed_lr = lr_policy(a.lr)
        sets = [parse_set(s) for s in a.set]
        import torch; torch.set_num_threads(a.threads)
        from haba_nb.artifacts import load_artifact
        from haba_nb.data import load_dataset
        from haba_nb.evaluate import EvalConfig, mean_std, train_and_evaluate
        seeds_out = out.with_suffix('.seeds.json')
        from haba_nb.networks import MODELS
        models = [m.strip() for m in a.models.split(',') if m.strip()]
        bad = [m for m in models if m not in MODELS]
        if bad: sys.exit(f"--models: unknown {bad}; choose from {', '.join(MODELS)}")
        reals = {}   # each dataset is loaded once, however many sets use it
        for name, folder in sets:
            param, meta = load_artifact(folder)
            dataset = meta['distill_config']['dataset']
            if dataset not in reals: reals[dataset] = load_dataset(dataset)
            real = reals[dataset]
            lr = meta.get('syn_lr') if fixed_lr is None else fixed_lr
            for m in models:
                key = dict(set=name, folder=str(folder), dataset=dataset, model=m, seeds=a.seeds, epochs=a.epochs)
                if a.standardize: key['standardize'] = True
                if a.precision != 'fp32': key['precision'] = a.precision
                if a.lr != 'learned': key['lr_policy'] = a.lr
                if any({k: r.get(k) for k in key} == key and _protocol(r) == _protocol(key) for r in records):
                    print(f"{name} / {m}: done before, skipped"); continue
                cfg = EvalConfig(model=m, epochs=a.epochs, standardize=a.standardize, precision=a.precision)
                runs = [_seed_run(seeds_out, key, s, lambda s: train_and_evaluate(param.eval(), real, cfg, seed=s, lr=lr))
                        for s in range(1000, 1000 + a.seeds)]
                mean, std = mean_std([r['acc_test'] for r in runs])
                rec = {**key, 'mean': float(mean), 'std': float(std), 'accs': [float(r['acc_test']) for r in runs],
                       'lr': float(runs[0]['lr']), 'parameterisation': meta['distill_config'].get('parameterisation'),
                       'objective': meta['distill_config'].get('objective'), 'ipc': meta['distill_config'].get('ipc'),
                       'stored_floats': int(param.stored_floats()), 'seconds': sum(r['seconds'] for r in runs),
                       'compiled': [r.get('compiled', False) for r in runs], 'commit': commit(), 'command': command()}
                records = append_record(out, rec)
                print(json.dumps({k: rec[k] for k in ('set', 'model', 'mean', 'std', 'seconds')}), flush=True)
    print_table(records)


if __name__ == '__main__':
    try: main()
    except KeyboardInterrupt as e:   # every finished seed is already in the seeds JSON
        import shlex
        sys.exit(f"\n{e or 'interrupted'}. Finished seeds are kept; the same command re-trains only the missing ones:\n  "
                 f"{shlex.join([sys.executable] + sys.argv)}")
