"""Does HaBa learn? Plain vs HaBa at equal storage on digits (quick tier), HaBa with the current defaults and with the
optimisation it had before (hallucinators on the image SGD, the frame hallucinated), scored on the VALIDATION split.
Each cell: --seeds distilled sets (seeds 0..), each evaluated by --eval-seeds networks (seeds 1000..); a random coreset row
per IPC. Prints a table and saves bench/results/haba_optimisation.json (rewritten after every row): the settings
(dataset, tier, split, distill_seeds, eval_seeds, threads, params), commit, meta (bench/harness.py) and rows (objective,
ipc, set, mean, std, accs, diverged, seconds, std_ratio / hal_norm / hal_step where measured, floats, budget_floats).

    PYTHONPATH=. .venv/bin/python bench/haba_optimisation.py [--ipcs 2 10] [--objectives dc dsa dm mtt] [--seeds 2] [--eval-seeds 3]
       [--variant NAME FIELD=VALUE ... (HaBa variants instead of the default pair; e.g. --variant adam_1e-2 lr_hallucinator=0.01)]
       [--tier quick|cpu] [--param FIELD=VALUE ... (every distilled set)] [--out bench/results/haba_optimisation_variants.json]"""
import argparse, statistics as st, tempfile, time
from pathlib import Path
from harness import add_common_args, commit, md_header, md_row, save_json
import torch
from haba_nb.core import DivergenceError
from haba_nb.data import load_dataset
from haba_nb.distill import distill
from haba_nb.evaluate import evaluate_synset
from haba_nb.coreset import select_coreset
from haba_nb.experiment import experiment_config, distill_config, evaluation_config, resolve_experts, storage_summary

VARIANTS = {'plain': ('plain', {}), 'haba': ('haba', {}),
            'haba, before (SGD hallucinators, hallucinated frame)': ('haba', {'hallucinator_optimizer': 'sgd', 'frame': 'hallucinated'})}

def cell(real, pool, val, obj, par, ipc, seed, kw, eval_seeds, tier='quick'):
    "One distilled (or random) set, evaluated on the validation split; returns the accuracies and what the set stores."
    c = experiment_config(objective=obj, parameterisation=par, ipc=ipc, seed=seed, tier=tier, out_dir=tempfile.mkdtemp(),
                          train_experts=obj == 'mtt', **kw)
    lr, extra = None, {}
    if obj == 'random': p = select_coreset(obj, pool, ipc, seed=seed)
    else:
        dc = distill_config(c, Path(c.out_dir)/'distill', resolve_experts(c, pool, progress=False)); dc.progress = False
        try: d = distill(dc, real=real)
        except DivergenceError as e: return [], None, {'diverged': e.problem}   # a row of its own: the set left the data's scale
        p, lr = d.param, d.syn_lr
        with torch.no_grad(): x, _ = p.materialize()
        extra = {'std_ratio': float(x.std() / pool.x_train.std())}
        if d.history and 'hal_norm' in d.history[-1]: extra.update(hal_norm=d.history[-1]['hal_norm'], hal_step=d.history[-1]['hal_step'])
    r = evaluate_synset(p.cpu(), val, evaluation_config(c), n_seeds=eval_seeds, lr=lr, seed=1000)
    return r['accs'], storage_summary(p.cpu(), real, ipc=ipc), extra

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0]); ap.add_argument('--ipcs', type=int, nargs='+', default=[2, 10])
    ap.add_argument('--objectives', nargs='+', default=['dc', 'dsa', 'dm', 'mtt']); ap.add_argument('--seeds', type=int, default=2)
    ap.add_argument('--eval-seeds', type=int, default=3); add_common_args(ap, threads=1)
    ap.add_argument('--variant', nargs='+', action='append', default=[], metavar=('NAME', 'FIELD=VALUE'),
                    help='a HaBa variant: a name and run parameters (replaces the default haba / haba-before pair; plain is kept)')
    ap.add_argument('--tier', default='quick', help='the budget tier of every set (quick, cpu)')
    ap.add_argument('--param', nargs='+', default=[], metavar='FIELD=VALUE',
                    help='run parameters for every distilled set, plain and HaBa alike (e.g. syn_steps=50)')
    add_common_args(ap, out=Path(__file__).parent/'results'/'haba_optimisation.json')
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    common = dict(x.split('=', 1) for x in a.param)
    variants = ({'plain': ('plain', {}), **{v[0]: ('haba', dict(x.split('=', 1) for x in v[1:])) for v in a.variant}}
                if a.variant else VARIANTS)
    variants = {name: (par, {**common, **kw}) for name, (par, kw) in variants.items()}
    real = load_dataset('digits'); pool, val = real.split_validation(None, seed=0)
    rows = []
    code = commit()
    print(md_header(['objective', 'ipc', 'set', 'validation accuracy (%)', 'floats vs plain', "images' std / real", 's']))
    for ipc in a.ipcs:
        for obj in ['random', *a.objectives]:
            for name, (par, kw) in (variants.items() if obj != 'random' else [('plain', ('plain', {}))]):
                t, accs, extras, storages, diverged = time.time(), [], [], [], []
                for s in range(a.seeds):
                    acc, storage, extra = cell(real, pool, val, obj, par, ipc, s, kw, a.eval_seeds, a.tier)
                    if storage is None: diverged.append(extra['diverged']); continue
                    accs += acc; extras.append(extra); storages.append(storage)
                row = dict(objective=obj, ipc=ipc, set=name, mean=st.mean(accs) if accs else None, std=st.stdev(accs) if len(accs) > 1 else None,
                           accs=accs, diverged=diverged, seconds=time.time() - t,
                           **({k: st.mean(e[k] for e in extras) for k in extras[0]} if extras else {}),
                           **(dict(floats=storages[0]['stored_floats'], budget_floats=storages[0]['budget_floats']) if storages else {}))
                rows.append(row)
                acc_s = f"{row['mean']:.1f} ± {row['std']:.1f}" if accs else "–"
                acc_s += f" ({len(diverged)} of {a.seeds} sets diverged)" if diverged else ""
                fl = f"{row['floats'] / row['budget_floats']:.2f}×" if storages else "–"
                print(md_row([obj, ipc, name, acc_s, fl, f"{row.get('std_ratio', 1.0):.2f}", f"{row['seconds']:.0f}"]), flush=True)
                save_json(a.out, dict(dataset='digits', tier=a.tier, split='validation', distill_seeds=a.seeds,
                                      eval_seeds=a.eval_seeds, threads=a.threads, params=common, commit=code, rows=rows), indent=1)

if __name__ == '__main__': main()
