"""Choose a run's iteration on a held-out validation split, then report that set's TEST accuracy with fresh seeds.

`distill` keeps its checkpoints (`checkpoint_every`, `keep_checkpoints`); this script evaluates the synthetic set of
each one on a validation split of the TRAINING data (`RealData.split_validation`: N images per class, seeded,
class-balanced; the test split is never read while choosing), picks the iteration with the best validation mean,
and only then trains fresh evaluation networks (seeds 1000.., never those that chose) on the chosen set and scores
them on the test split. MTT sets are evaluated with the checkpoint's learned lr. Every finished evaluation is recorded in
the run folder (select_iteration.cache.json, keyed by the checkpoint's sha256, the split, the seeds and the network), so
a selection stopped part way resumes where it stopped when run again with the same settings.

MTT experts trained on the whole training split have seen the validation images, so validation accuracy may run high;
it then only ranks the iterations of one run (the script warns when a run's experts did not hold out this split). The
clean protocol: `haba-experts ... --val-per-class 500 --val-seed 0` (experts that never saw the split), then
`bench/ablate_haba.py --validation 500 ... checkpoint_every=250` (the distillation draws from the training split without
it), then this script on that run folder.

    .venv/bin/python bench/select_iteration.py --run "MTT 10 plain=/work/runs_mtt1000/fashionmnist-mtt-ipc10-plain" \\
        --val-per-class 500 --val-seeds 1 --precision bf16 --test-seeds 3 --threads 1

Appends to bench/results/select_iteration.json (--out) one record per run: name, run, validation (accuracy per
iteration; validation_std its spread over the evaluation networks), chosen, last, test_mean / test_std / test_accs of the chosen set, lr, the run's `experts` (folder,
held_out, saw_validation: the last against the distillation's own in-loop split, which `ablate_haba` never scores on),
`experts_held_out_this_split` (whether they never saw the split chosen on here), settings, seconds, commit, command
and 'meta' (machine, date: bench/harness.py); then prints the table of every record.
"""
from __future__ import annotations
import argparse, json, sys, time
from pathlib import Path
from harness import add_common_args, append_record, command, commit, load_records, md_header, md_row, write_json

HERE = Path(__file__).resolve().parent
CACHE = 'select_iteration.cache.json'   # in the run folder: every finished evaluation, so a stopped selection resumes


def cached(run: Path, key: str, compute) -> dict:
    "The evaluation recorded under `key` in the run's cache, else `compute()` recorded there (written atomically)."
    path = run / CACHE
    load = lambda: json.loads(path.read_text()) if path.exists() else {}
    if key in (cache := load()): return cache[key]
    value = compute()
    write_json(path, {**load(), key: value})
    return value


def evaluation_key(kind: str, ckpt: Path, sha: str, a, seeds: int, precision: str) -> str:
    "What an evaluation depends on: the checkpoint's content (its sha256), the split, the networks, their seeds."
    split = f"val {a.val_per_class}/{a.val_seed}" if kind == 'validation' else 'test'
    return f"{kind} | {ckpt.name} {sha[:16]} | {split} | {seeds} seeds from {a.val_seed_base if kind == 'validation' else 1000} | " \
           f"{a.epochs} epochs, width {a.width}, {precision}"


def checkpoint_set(ckpt: Path, shape_config: dict):
    "(param, syn_lr or None, iteration) restored from one checkpoint file, with the set's shape from its artifact."
    from haba_nb.basis import param_from_config
    from haba_nb.runs import read_checkpoint
    st = read_checkpoint(ckpt)
    param = param_from_config(shape_config)
    param.load_state_dict(st['run']['param'])
    lr = st['run']['objective'].get('syn_lr')
    return param.eval(), (None if lr is None else float(lr)), int(st['it'])


def select(name: str, run: Path, real, a) -> dict:
    from haba_nb.artifacts import load_artifact
    from haba_nb.evaluate import EvalConfig, evaluate_synset
    from haba_nb.experts import held_out_of
    from haba_nb.runs import list_checkpoints
    _, meta = load_artifact(run / 'final')
    ckpts = list_checkpoints(run)
    if not ckpts: sys.exit(f"{run}: no checkpoints; run distill with checkpoint_every > 0 and keep_checkpoints large enough")
    val = real.split_validation(a.val_per_class, seed=a.val_seed)[1]          # test split := held-out training images
    experts = meta.get('experts')                                              # MTT: did the trajectories see this split?
    clean = None if not experts else experts.get('held_out') == held_out_of(val)
    if clean is False:
        print(f"{name}: warning: its experts ({experts.get('expert_dir')}) held out {experts.get('held_out')}, not this validation "
              f"split {held_out_of(val)}: they trained on images the choice is scored on, so validation accuracy may run high", flush=True)
    vcfg = EvalConfig(epochs=a.epochs, width=a.width, precision=a.precision)
    summary = lambda ev: dict(mean=float(ev['mean']), std=float(ev['std']), accs=[float(v) for v in ev['accs']])
    per_it, per_it_std, sets = {}, {}, {}
    heads = {c: json.loads(c.read_text()) for c in ckpts}        # iteration and sha256, without loading the tensors
    last = max(h['iteration'] for h in heads.values())
    for c, h in heads.items():
        if h['iteration'] < a.min_iteration or (a.every and h['iteration'] % a.every and h['iteration'] != last): continue
        param, lr, it = checkpoint_set(c, meta['config'])
        ev = cached(run, evaluation_key('validation', c, h['sha256'], a, a.val_seeds, a.precision),
                    lambda: summary(evaluate_synset(param, val, vcfg, n_seeds=a.val_seeds, seed=a.val_seed_base, lr=lr)))
        per_it[it], per_it_std[it], sets[it] = ev['mean'], ev['std'], (param, lr, c)
        print(f"{name}: iteration {it}: validation {ev['mean']:.2f} ± {ev['std']:.2f} (lr {lr})", flush=True)
    if not per_it: sys.exit(f"{run}: no checkpoint at iteration >= {a.min_iteration}")
    best = max(per_it, key=lambda k: (per_it[k], k))
    param, lr, c = sets[best]
    ev = (cached(run, evaluation_key('test', c, heads[c]['sha256'], a, a.test_seeds, 'fp32'),
                 lambda: summary(evaluate_synset(param, real, EvalConfig(epochs=a.epochs, width=a.width), n_seeds=a.test_seeds, seed=1000, lr=lr)))
          if a.test_seeds else dict(mean=None, std=None, accs=[]))          # --test-seeds 0: the validation curve only
    return dict(name=name, run=str(run), validation=per_it, validation_std=per_it_std, chosen=best, last=max(per_it), test_mean=ev['mean'],
                test_std=ev['std'], test_accs=[float(v) for v in ev['accs']], lr=lr, experts=experts,
                experts_held_out_this_split=clean)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', action='append', default=[], metavar='NAME=FOLDER', help='a run folder with checkpoints and final/ (repeat)')
    ap.add_argument('--dataset', default='fashionmnist')
    ap.add_argument('--val-per-class', type=int, default=500)
    ap.add_argument('--val-seed', type=int, default=0, help='seed of the validation draw')
    ap.add_argument('--val-seeds', type=int, default=1, help='evaluation networks per checkpoint on the validation split')
    ap.add_argument('--val-seed-base', type=int, default=3000, help='their seeds (disjoint from the test seeds 1000..)')
    ap.add_argument('--precision', default='fp32', choices=('fp32', 'bf16'), help='precision of the validation evaluations')
    ap.add_argument('--min-iteration', type=int, default=0, help='consider only checkpoints from this iteration on')
    ap.add_argument('--every', type=int, default=0, help='consider only checkpoints at multiples of this iteration (and the last); 0: all')
    ap.add_argument('--test-seeds', type=int, default=3, help='test evaluations of the chosen set (0: none, the validation curve only)')
    ap.add_argument('--epochs', type=int, default=300)
    ap.add_argument('--width', type=int, default=128)
    add_common_args(ap, threads=2, out=HERE / 'results' / 'select_iteration.json', out_help='the records file (appended to)')
    a = ap.parse_args()
    if not a.run: sys.exit('no --run given: pass --run NAME=FOLDER for each run folder')
    import torch; torch.set_num_threads(a.threads)
    from haba_nb.data import load_dataset
    real = load_dataset(a.dataset)
    out = Path(a.out)
    for spec in a.run:
        if '=' not in spec: sys.exit(f"--run {spec!r}: expected NAME=FOLDER")
        name, folder = (s.strip() for s in spec.split('=', 1))
        t = time.time()
        rec = {**select(name, Path(folder), real, a), 'settings': {k: v for k, v in vars(a).items() if k not in ('run', 'out')},
               'seconds': time.time() - t, 'commit': commit(), 'command': command()}
        append_record(out, rec)
    records = load_records(out)
    print('\n' + md_header(['run', 'validation accuracy by iteration', 'chosen', 'test accuracy of the chosen set']))
    for r in records:
        v = ', '.join(f"{k}: {x:.1f}" for k, x in r['validation'].items())
        test = f"{r['test_mean']:.1f} ± {r['test_std']:.1f} (n={len(r['test_accs'])})" if r.get('test_mean') is not None else "not run"
        print(md_row([r['name'], v, r['chosen'], test]))


if __name__ == '__main__':
    main()
