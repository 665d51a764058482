"""Which default makes `make demo` answer "does it work?": quick-tier runs on digits at equal storage, scored on the
VALIDATION split (never test), 2 evaluation seeds from 1000. Prints a table, saves bench/results/demo_default.json.
Usage: PYTHONPATH=. python bench/demo_default.py [--ipc 10] [--methods random dm dm+haba dc dc+haba]"""
import argparse, json, subprocess, tempfile, time
from pathlib import Path
from haba_nb.data import load_dataset
from haba_nb.coreset import select_coreset
from haba_nb.distill import distill
from haba_nb.evaluate import evaluate_synset
from haba_nb.experiment import experiment_config, _distill_config, _eval_cfg, storage_summary

p = argparse.ArgumentParser(); p.add_argument('--ipc', type=int, default=10); p.add_argument('--seed', type=int, default=0)
p.add_argument('--methods', nargs='+', default=['random', 'dm', 'dm+haba', 'dc', 'dc+haba'])
a = p.parse_args()
real = load_dataset('digits'); pool, val = real.split_validation(None, seed=0)
rows, out = [], Path(__file__).parent/'results'/'demo_default.json'
for m in a.methods:
    obj, par = (m.split('+')[0], 'haba' if m.endswith('+haba') else 'plain')
    c = experiment_config(objective=obj, parameterisation=par, ipc=a.ipc, seed=a.seed, tier='quick', out_dir=tempfile.mkdtemp())
    t = time.time(); lr = None
    if c.is_distillation:
        d = distill(_distill_config(c, Path(c.out_dir)/'distill'), real=real); param, lr = d.param, d.syn_lr
    else: param = select_coreset(obj, pool, c.ipc, seed=c.seed)
    r = evaluate_synset(param.cpu(), val, _eval_cfg(c), n_seeds=c.n_eval, lr=lr, seed=1000)
    rows.append(dict(method=m, ipc=a.ipc, val_mean=r['mean'], val_std=r['std'], accs=r['accs'],
                     storage=storage_summary(param.cpu(), real, ipc=a.ipc)['ratio_percent'], seconds=time.time() - t))
    print(f"| {m} | ipc {a.ipc} | {r['mean']:.1f} ± {r['std']:.1f} (validation) | {rows[-1]['storage']:.2f} % | {rows[-1]['seconds']:.0f} s |", flush=True)
    old = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([o for o in old if (o['method'], o['ipc']) != (m, a.ipc)] + [dict(rows[-1], commit=subprocess.run(
        ['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip(), tier='quick', split='validation')], indent=1))
