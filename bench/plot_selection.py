"""Plot runs' validation accuracy by iteration (from bench/select_iteration.py's records) above their distillation loss.

One line per run in the top panel: the validation accuracy (mean ± std over the evaluation networks) of the set each
kept checkpoint holds, the iteration select_iteration chose marked; the bottom panel: the run's objective loss from its
history.json, smoothed over a window; with --spikes a third panel: the iterations whose images' (bases') gradient norm
was more than --spike-ratio × its median over the previous 50 iterations (before `spike_clip` caps it). The question it
answers: does a run's set keep getting better at what the evaluation measures while its loss keeps falling, and what
happened where it did not?

    .venv/bin/python bench/plot_selection.py --name "MTT 10 HaBa ds2" --name "MTT 10 IDC ds2" \\
        --title "Fashion-MNIST, MTT IPC 10, half-resolution sets" --out bench/results/figures/selection-mtt-ipc10-ds2.png
    .venv/bin/python bench/plot_selection.py --name "MTT 10 HaBa ds2 (every 100)" --name "MTT 10 HaBa ds2 spike_clip 3, branched at 100" \
        --start "MTT 10 HaBa ds2 spike_clip 3, branched at 100=100" --spikes --title "..." --out bench/results/figures/spike-clip-mtt-ipc10-ds2.png
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


def spikes(history, ratio, window=50):
    "(iteration, norm ÷ trailing median) where the images' (bases') gradient norm exceeded `ratio` × its median over `window` iterations."
    from harness import median
    norms = [(x['it'], x.get('gnorm_step_images', x.get('gnorm_obj_bases'))) for x in history]
    out = []
    for i, (it, g) in enumerate(norms):
        past = [v for _, v in norms[max(0, i - window):i] if v is not None]
        if g is None or len(past) < 10: continue
        med = median(past)
        if med > 0 and g / med > ratio: out.append((it, g / med))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--records', default=str(HERE / 'results' / 'select_iteration.json'), help="select_iteration's records file")
    ap.add_argument('--name', action='append', default=[], help='a record name to draw (repeat; default: every record); the last record of a name is used')
    ap.add_argument('--title', required=True, help='names the runs in the figure title')
    ap.add_argument('--window', type=int, default=50, help='iterations the loss is averaged over')
    ap.add_argument('--out', required=True, help='PNG path')
    ap.add_argument('--start', action='append', default=[], metavar='NAME=IT',
                    help='draw the loss and spikes of record NAME from iteration IT on (a run branched there by bench/branch_run.py)')
    ap.add_argument('--spikes', action='store_true', help="add a panel of each run's gradient spikes")
    ap.add_argument('--spike-ratio', type=float, default=5.0, help='a spike: this many times the median of the previous 50 norms')
    a = ap.parse_args()
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from harness import load_records
    records = load_records(a.records)
    by_name = {r['name']: r for r in records}
    names = a.name or list(by_name)
    missing = [n for n in names if n not in by_name]
    if missing: raise SystemExit(f"no record named {missing} in {a.records}; it holds {sorted(by_name)}")
    fig, axes = plt.subplots(3 if a.spikes else 2, 1, figsize=(8, 9 if a.spikes else 7), sharex=True,
                             gridspec_kw=dict(height_ratios=(3, 2, 2) if a.spikes else (3, 2)))
    top, bottom = axes[:2]
    starts = {k.strip(): int(v) for k, v in (x.rsplit('=', 1) for x in a.start)}
    for n in names:
        r = by_name[n]
        its = sorted(int(k) for k in r['validation'])
        acc = [r['validation'][str(k)] for k in its]                # JSON keys: strings
        std = [(r.get('validation_std') or {}).get(str(k), 0.0) for k in its]
        tested = f", test {r['test_mean']:.1f} ± {r['test_std']:.1f} %" if r.get('test_mean') is not None else ""
        line = top.errorbar(its, acc, yerr=std, marker='o', capsize=3, label=f"{n} (chosen: iteration {r['chosen']}{tested})")
        top.plot([int(r['chosen'])], [r['validation'][str(r['chosen'])]], marker='*', markersize=16, color=line[0].get_color())
        hist = Path(r['run']) / 'history.json'
        if hist.exists():
            full = [x for x in json.loads(hist.read_text()) if 'loss' in x]
            h = [x for x in full if x['it'] > starts.get(n, 0)]
            bottom.plot([x['it'] for x in h], smooth([x['loss'] for x in h], a.window), color=line[0].get_color(), label=n)
            if a.spikes:
                pts = [(i, q) for i, q in spikes(full, a.spike_ratio) if i > starts.get(n, 0)]
                axes[2].scatter([i for i, _ in pts], [q for _, q in pts], color=line[0].get_color(), s=18, label=n)
    v = by_name[names[0]]['settings']
    top.set_ylabel(f"validation accuracy (%)\n{v.get('val_per_class')} images a class, {v.get('val_seeds')} networks a point")
    top.set_title(f"{a.title}\nthe set at each checkpoint, scored on the validation split", fontsize=10)
    top.legend(fontsize=8); top.grid(alpha=0.3)
    bottom.set_ylabel(f"distillation loss\n(mean of {a.window} iterations)")
    bottom.legend(fontsize=8); bottom.grid(alpha=0.3)
    if a.spikes:
        axes[2].set_yscale('log'); axes[2].grid(alpha=0.3); axes[2].legend(fontsize=8)
        axes[2].set_ylabel(f"gradient spikes (> {a.spike_ratio:g}×, before any cap):\nimages' gradient norm ÷ median\nof the previous 50")
    axes[-1].set_xlabel('distillation iteration')
    fig.tight_layout()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=120)
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()
