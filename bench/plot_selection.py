"""Plot runs' validation accuracy by iteration (from bench/select_iteration.py's records) above their distillation loss.

One line per run in the top panel: the validation accuracy (mean ± std over the evaluation networks) of the set each
kept checkpoint holds, the iteration select_iteration chose marked; the bottom panel: the run's objective loss from its
history.json, smoothed over a window. The question it answers: does a run's set keep getting better at what the
evaluation measures while its loss keeps falling?

    .venv/bin/python bench/plot_selection.py --name "MTT 10 HaBa ds2" --name "MTT 10 IDC ds2" \\
        --title "Fashion-MNIST, MTT IPC 10, half-resolution sets" --out bench/results/figures/selection-mtt-ipc10-ds2.png
"""
import argparse, json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def smooth(xs, window):
    "Trailing mean over `window` values (fewer at the start)."
    out, acc = [], 0.0
    for i, x in enumerate(xs):
        acc += x
        if i >= window: acc -= xs[i - window]
        out.append(acc / min(i + 1, window))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--records', default=str(HERE / 'results' / 'select_iteration.json'), help="select_iteration's records file")
    ap.add_argument('--name', action='append', default=[], help='a record name to draw (repeat; default: every record); the last record of a name is used')
    ap.add_argument('--title', required=True, help='names the runs in the figure title')
    ap.add_argument('--window', type=int, default=50, help='iterations the loss is averaged over')
    ap.add_argument('--out', required=True, help='PNG path')
    a = ap.parse_args()
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from harness import load_records
    records = load_records(a.records)
    by_name = {r['name']: r for r in records}
    names = a.name or list(by_name)
    missing = [n for n in names if n not in by_name]
    if missing: raise SystemExit(f"no record named {missing} in {a.records}; it holds {sorted(by_name)}")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw=dict(height_ratios=(3, 2)))
    for n in names:
        r = by_name[n]
        its = sorted(int(k) for k in r['validation'])
        acc = [r['validation'][str(k)] for k in its]                # JSON keys: strings
        std = [(r.get('validation_std') or {}).get(str(k), 0.0) for k in its]
        line = top.errorbar(its, acc, yerr=std, marker='o', capsize=3, label=f"{n} (chosen: iteration {r['chosen']}, "
                            f"test {r['test_mean']:.1f} ± {r['test_std']:.1f} %)")
        top.plot([int(r['chosen'])], [r['validation'][str(r['chosen'])]], marker='*', markersize=16, color=line[0].get_color())
        hist = Path(r['run']) / 'history.json'
        if hist.exists():
            h = [x for x in json.loads(hist.read_text()) if 'loss' in x]
            bottom.plot([x['it'] for x in h], smooth([x['loss'] for x in h], a.window), color=line[0].get_color(), label=n)
    v = by_name[names[0]]['settings']
    top.set_ylabel(f"validation accuracy (%)\n{v.get('val_per_class')} images a class, {v.get('val_seeds')} networks a point")
    top.set_title(f"{a.title}\nthe set at each checkpoint, scored on the validation split", fontsize=10)
    top.legend(fontsize=8); top.grid(alpha=0.3)
    bottom.set_ylabel(f"distillation loss\n(mean of {a.window} iterations)")
    bottom.set_xlabel('distillation iteration'); bottom.legend(fontsize=8); bottom.grid(alpha=0.3)
    fig.tight_layout()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=120)
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()
