"""Which default makes `make demo` answer "does it work?": quick-tier runs on digits at equal storage, scored on the
VALIDATION split (never test), 2 evaluation seeds from 1000. Prints a table, saves bench/results/demo_default.json.
Usage: PYTHONPATH=. python bench/demo_default.py [--ipc 10] [--methods random dm dm+haba dm+idc dc dc+haba]
(`X+idc`: IDC's control, plain X with 4x the images at half resolution, the same floats)"""
import argparse, json, subprocess, tempfile, time
from pathlib import Path
from haba_nb.data import load_dataset
from haba_nb.coreset import select_coreset
from haba_nb.distill import distill
from haba_nb.evaluate import evaluate_synset
from haba_nb.experiment import experiment_config, distill_config, evaluation_config, storage_summary

p = argparse.ArgumentParser(); p.add_argument('--ipc', type=int, default=10); p.add_argument('--seed', type=int, default=0); p.add_argument('--seeds', type=int, default=3)
p.add_argument('--methods', nargs='+', default=['random', 'dm', 'dm+haba', 'dm+idc'])
a = p.parse_args()
real = load_dataset('digits'); pool, val = real.split_validation(None, seed=0)
rows, out = [], Path(__file__).parent/'results'/'demo_default.json'
import statistics as st
for m in a.methods:
    obj, par = (m.split('+')[0], 'haba' if m.endswith('+haba') else 'plain')
    t, accs = time.time(), []
    for seed in range(a.seed, a.seed + a.seeds):           # distillation seeds: each set evaluated with the tier's evaluation seeds
        c = experiment_config(objective=obj, parameterisation=par, ipc=a.ipc, seed=seed, tier='quick', out_dir=tempfile.mkdtemp(),
                              **({'downsample': 2} if m.endswith('+idc') else {}))
        lr = None
        if c.is_distillation:
            dc = distill_config(c, Path(c.out_dir)/'distill'); dc.progress = False
            d = distill(dc, real=real); param, lr = d.param, d.syn_lr
        else: param = select_coreset(obj, pool, c.ipc, seed=c.seed)
        accs += evaluate_synset(param.cpu(), val, evaluation_config(c), n_seeds=c.n_eval, lr=lr, seed=1000)['accs']
    s_ = storage_summary(param.cpu(), real, ipc=a.ipc)
    rows.append(dict(method=m, ipc=a.ipc, val_mean=st.mean(accs), val_std=st.stdev(accs), accs=accs, distill_seeds=a.seeds,
                     storage=s_['ratio_percent'], floats_vs_budget=s_['stored_floats'] / s_['budget_floats'], seconds=time.time() - t))
    print(f"| {m} | ipc {a.ipc} | {rows[-1]['val_mean']:.1f} ± {rows[-1]['val_std']:.1f} (validation) | {rows[-1]['storage']:.2f} % "
          f"({rows[-1]['floats_vs_budget']:.2f}× the budget) | {rows[-1]['seconds']:.0f} s |", flush=True)
    old = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([o for o in old if (o['method'], o['ipc']) != (m, a.ipc)] + [dict(rows[-1], commit=subprocess.run(
        ['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip(), tier='quick', split='validation')], indent=1))
