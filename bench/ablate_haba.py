"""Ablations of HaBa's optimisation settings at a fixed CPU budget (the study behind the defaults).

Each variant is one `distill` run (DistillConfig fields given as NAME=VALUE) followed by the final
evaluation of bench_accuracy.py (ConvNet of the same width, 300 epochs, DSA, >= 3 seeds). Besides the
accuracy it records the value range of the materialised images against the real data's, because a
scale-invariant objective (ConvNet with instance norm) lets the hallucinators blow the images up
without any loss noticing.

    .venv/bin/python bench/ablate_haba.py --objective dm --ipc 10 --variant base --variant clip grad_clip=1.0
    .venv/bin/python bench/ablate_haba.py --objective dm --ipc 10 --variant plain parameterisation=plain

Results are appended to bench/results/ablate_haba.json (one record per variant; re-running a variant
name with the same settings skips it).
"""
import argparse, ast, json, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _value(s):
    try: return ast.literal_eval(s)
    except (ValueError, SyntaxError): return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dataset', default='fashionmnist')
    ap.add_argument('--objective', default='dm')
    ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--iterations', type=int, default=200)
    ap.add_argument('--width', type=int, default=32)
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--eval-epochs', type=int, default=300)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--variant', nargs='+', action='append', required=True, metavar=('NAME', 'FIELD=VALUE'),
                    help='a variant name followed by DistillConfig overrides')
    ap.add_argument('--runs', default=str(HERE.parent / 'runs' / 'ablate_haba'))
    ap.add_argument('--out', default=str(HERE / 'results' / 'ablate_haba.json'))
    a = ap.parse_args()
    import torch; torch.set_num_threads(a.threads)
    from haba_nb.core import atomic_write_json
    from haba_nb.data import load_dataset
    from haba_nb.distill import DistillConfig, distill
    from haba_nb.evaluate import EvalConfig, evaluate_synset
    real = load_dataset(a.dataset)
    lo, hi = float(real.x_train.min()), float(real.x_train.max())
    out = Path(a.out)
    records = json.loads(out.read_text()) if out.exists() else []
    for name, *kv in a.variant:
        over = {k: _value(v) for k, v in (s.split('=', 1) for s in kv)}
        key = dict(dataset=a.dataset, objective=a.objective, ipc=a.ipc, iterations=a.iterations, width=a.width,
                   seeds=a.seeds, eval_epochs=a.eval_epochs, variant=name, overrides=over)
        if any({k: r.get(k) for k in key} == key for r in records):
            print(f"{name}: done before, skipped"); continue
        cfg = DistillConfig(**{**dict(dataset=a.dataset, objective=a.objective, parameterisation='haba', ipc=a.ipc,
                                      iterations=a.iterations, width=a.width, n_eval=0, progress=False,
                                      out_dir=str(Path(a.runs) / f"{a.dataset}-{a.objective}-ipc{a.ipc}-{name}")), **over})
        t0 = time.time()
        param = distill(cfg, real=real).param
        t1 = time.time()
        ev = evaluate_synset(param, real, EvalConfig(model='ConvNet', epochs=a.eval_epochs, width=a.width), n_seeds=a.seeds)
        with torch.no_grad(): x, _ = param.materialize()
        rec = {**key, 'mean': float(ev['mean']), 'std': float(ev['std']), 'accs': [float(v) for v in ev['accs']],
               'items': len(param), 'stored_floats': int(param.stored_floats()),
               'image_std': float(x.std()), 'image_min': float(x.min()), 'image_max': float(x.max()),
               'real_min': lo, 'real_max': hi,
               'outside_real_range': float(((x < lo) | (x > hi)).float().mean()),
               'distill_s': t1 - t0, 'eval_s': time.time() - t1, 'command': ' '.join(['python'] + sys.argv)}
        records.append(rec)
        atomic_write_json(out, records)
        print(json.dumps({k: rec[k] for k in ('variant', 'overrides', 'mean', 'std', 'image_std', 'outside_real_range', 'distill_s')}), flush=True)
    print(f"\n{a.dataset} {a.objective} ipc {a.ipc}, {a.iterations} iterations, ConvNet-{a.width}, eval {a.eval_epochs} epochs × {a.seeds} seeds")
    print("| variant | overrides | accuracy | image std | outside real range |")
    print("|---|---|---|---|---|")
    for r in records:
        if (r['dataset'], r['objective'], r['ipc'], r['iterations'], r['width']) == (a.dataset, a.objective, a.ipc, a.iterations, a.width):
            print(f"| {r['variant']} | {r['overrides']} | {r['mean']:.1f} ± {r['std']:.1f} | {r['image_std']:.3g} | {100 * r['outside_real_range']:.1f} % |")


if __name__ == '__main__':
    main()
