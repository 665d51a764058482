"""Which default makes `make demo` answer "does it work?": quick-tier runs on digits at equal storage, scored on the
VALIDATION split (never test), the tier's evaluation seeds from 1000, --seeds distillation seeds from --seed.
Prints a table row per method; bench/results/demo_default.json (--out) keeps one record per (method, ipc), replaced
when re-run: method, ipc, val_mean, val_std, accs, distill_seeds, storage (% of the real set), floats_vs_budget,
seconds, commit, tier, split and 'meta' (machine, date: bench/harness.py).

    PYTHONPATH=. .venv/bin/python bench/demo_default.py [--ipc 10] [--methods random dm dm+haba dm+idc dc dc+haba]

(`X+idc`: IDC's control, plain X with 4x the images at half resolution, the same floats)"""
import argparse, tempfile, time
from pathlib import Path
from harness import add_common_args, commit, load_records, md_row, meta, write_json
from haba_nb.data import load_dataset
from haba_nb.coreset import select_coreset
from haba_nb.distill import distill
from haba_nb.evaluate import evaluate_synset
from haba_nb.experiment import experiment_config, distill_config, evaluation_config, storage_summary

p = argparse.ArgumentParser(); p.add_argument('--ipc', type=int, default=10); p.add_argument('--seed', type=int, default=0); p.add_argument('--seeds', type=int, default=3)
p.add_argument('--methods', nargs='+', default=['random', 'dm', 'dm+haba', 'dm+idc'])
add_common_args(p, out=Path(__file__).parent/'results'/'demo_default.json', out_help='the records file (a method\'s record replaced)')
a = p.parse_args()
real = load_dataset('digits'); pool, val = real.split_validation(None, seed=0)
rows, out = [], Path(a.out)
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
    print(md_row([m, f"ipc {a.ipc}", f"{rows[-1]['val_mean']:.1f} ± {rows[-1]['val_std']:.1f} (validation)",
                  f"{rows[-1]['storage']:.2f} % ({rows[-1]['floats_vs_budget']:.2f}× the budget)", f"{rows[-1]['seconds']:.0f} s"]), flush=True)
    write_json(out, [o for o in load_records(out) if (o['method'], o['ipc']) != (m, a.ipc)]
               + [dict(rows[-1], commit=commit(), tier='quick', split='validation', meta=meta())], indent=1)
