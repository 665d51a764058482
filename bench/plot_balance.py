"""Plot the objective's and the contrastive term's gradient norms over a HaBa run, on the bases and on the hallucinators.

Reads a run's history.json (written by `distill`; the records carry `gnorm_obj_*`, `gnorm_cos_*` and
`cos_weight_*`, see 21_distill's key table) and draws, per parameter group, on a log scale:
- the objective's gradient norm,
- λ_cos·L_cos's gradient norm as the reference weights it (fixed λ_cos = 0.1),
- the contrastive gradient norm actually applied (after `combine_gradients`' balancing),
with the adversary's cross-entropy beside them (ln C = chance).

    .venv/bin/python bench/plot_balance.py runs/ablate_haba/fashionmnist-dm-ipc10-haba_new --title "DM + HaBa, Fashion-MNIST IPC 10"
"""
import argparse, json, math
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('run', help='a distill out_dir (holds history.json)')
    ap.add_argument('--title', default=None, help='names the run in the figure title')
    ap.add_argument('--classes', type=int, default=10, help='for the chance line of the adversary (ln C)')
    ap.add_argument('--out', default=None, help='PNG path (default bench/results/figures/balance-<run>.png)')
    a = ap.parse_args()
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    run = Path(a.run)
    h = [r for r in json.loads((run / 'history.json').read_text()) if 'gnorm_obj_bases' in r]
    if not h: raise SystemExit(f"{run}/history.json has no gradient-norm records (a plain run, or use_contrastive=False)")
    it = [r['it'] for r in h]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    for ax, g, name in ((axes[0], 'bases', 'bases'), (axes[1], 'hallucinators', 'hallucinators')):
        obj = [r[f'gnorm_obj_{g}'] for r in h]
        applied = [r[f'gnorm_cos_{g}'] for r in h]
        w = [r[f'cos_weight_{g}'] for r in h]
        fixed = [ap_ / wi if wi > 0 else float('nan') for ap_, wi in zip(applied, w)]   # λ_cos·∇L_cos before re-weighting
        ax.plot(it, obj, label='objective', color='tab:blue', linewidth=3, alpha=0.6)
        ax.plot(it, fixed, label='λ_cos·L_cos, reference weight (0.1)', color='tab:gray', linestyle='--')
        ax.plot(it, applied, label='contrastive term as applied (ρ × objective)', color='tab:orange', linewidth=1.2)
        ax.set_yscale('log'); ax.set_xlabel('distillation iteration'); ax.set_ylabel('gradient norm (log scale)')
        ax.set_title(f'gradient norms on the {name}'); ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(it, [r.get('adv_cls', float('nan')) for r in h], label="adversary's cross-entropy", color='tab:red')
    ax.axhline(math.log(a.classes), color='k', linestyle=':', label=f'chance (ln {a.classes})')
    d = [r for r in h if 'div_sim_pixel' in r]
    if d:
        ax2 = ax.twinx()
        ax2.plot([r['it'] for r in d], [r['div_sim_pixel'] for r in d], 'o-', color='tab:green', label='same-basis pixel cosine')
        ax2.set_ylabel('same-basis pixel cosine'); ax2.set_ylim(-0.1, 1.05); ax2.legend(loc='upper right', fontsize=8)
    ax.set_xlabel('distillation iteration'); ax.set_ylabel('cross-entropy'); ax.set_title('adversary and view similarity')
    ax.legend(loc='lower left', fontsize=8)
    fig.suptitle(a.title or run.name)
    out = Path(a.out or HERE / 'results' / 'figures' / f'balance-{run.name}.png')
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(out)


if __name__ == '__main__':
    main()
