"""Coreset baselines (random / herding / k-center) on Fashion-MNIST beside the DC paper's published rows.

Protocol (DC paper, Zhao et al. ICLR 2021, which the HaBa tables copy): a fresh ConvNet-128-3 with
instance norm trained from scratch on the coreset, SGD momentum 0.9, wd 5e-4, lr 0.01 (x0.1 at half),
batch 256, 300 epochs, mean ± std over 5 networks. Augmentation: the DC code (VICO-UoE/DatasetCondensation,
utils.get_daparam) applies its crop/scale/rotate augmentation only for MNIST and none for FashionMNIST with
ConvNet, and the DSA/DM papers reuse the DC paper's coreset numbers; so the default here is --aug none.

Selection: random draws a new subset per evaluation seed; herding and k-center are deterministic given the
feature network, a ConvNet-128-3 trained on the real training set for --feature-epochs (default 2) epochs
(seed 0), shared by every IPC and evaluation seed.
--methods whole trains on the whole training split (the tables' upper-bound row) for --whole-epochs epochs (its
IPC column reads 'all'; --ipcs does not apply).
--methods nearest_mean (the k images nearest the class mean, `haba_nb.coreset.select_nearest_mean`) is
printed beside the published herding row: that rule, not herding proper, is what reproduces it (see 05_coreset).

Full run (long on CPU, ~1-2 h with the whole machine):
    .venv/bin/python bench/bench_coreset.py
Reduced smoke run:
    .venv/bin/python bench/bench_coreset.py --ipcs 1 10 --seeds 2 --threads 1

The JSON (--out, default bench/results/bench_coreset.json; rewritten after every row, complete=false until the end):
command, args, eval_config, rows (method, ipc, epochs, mean, std, accs, published, delta, seconds), table, seconds,
complete, protocol (full or REDUCED), torch_threads, load_average, versions and 'meta' (commit, machine, date:
bench/harness.py).
"""
from __future__ import annotations
import argparse, dataclasses, os, shlex, sys, time
from pathlib import Path

import numpy as np
import torch

from haba_nb.core import versions
from haba_nb.data import load_dataset
from haba_nb.evaluate import EvalConfig, evaluate_synset
from haba_nb.coreset import CORESETS, coreset_from_indices, feature_net, select_coreset
from harness import add_common_args, md_header, md_row, save_json

# DC paper, Table 1 (Fashion-MNIST), as listed in REFERENCE.md. K-Center has no Fashion-MNIST row there.
PUBLISHED = {('random', 1): 51.4, ('random', 10): 73.8, ('random', 50): 82.5,
             ('herding', 1): 67.0, ('herding', 10): 71.1, ('herding', 50): 71.9, ('whole', 'all'): 93.5}
AUGS = {'none': dict(dsa=False, dc_aug=False), 'dsa': dict(dsa=True, dc_aug=False), 'dc': dict(dsa=False, dc_aug=True)}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument('--dataset', default='fashionmnist')
    p.add_argument('--ipcs', type=int, nargs='+', default=[1, 10, 50])
    p.add_argument('--seeds', type=int, default=5, help='evaluation networks per row')
    p.add_argument('--epochs', type=int, default=300)
    p.add_argument('--methods', nargs='+', default=['random', 'herding', 'nearest_mean', 'kcenter'], choices=sorted(CORESETS) + ['whole'])
    p.add_argument('--width', type=int, default=128)
    p.add_argument('--depth', type=int, default=3)
    p.add_argument('--aug', default='none', choices=sorted(AUGS), help="training augmentation (DC paper: none on FashionMNIST)")
    p.add_argument('--feature-epochs', type=int, default=2, help='epochs of the herding/k-center feature ConvNet on real data')
    p.add_argument('--feature-width', type=int, default=None, help='width of the feature ConvNet (default: --width)')
    p.add_argument('--forgetting-epochs', type=int, default=10)
    p.add_argument('--whole-epochs', type=int, default=300, help="epochs of --methods whole (the whole training split; CPU: minutes per epoch)")
    add_common_args(p, threads=0, threads_help='torch CPU threads (0: torch default)')
    p.add_argument('--device', default='auto')
    add_common_args(p, out=Path(__file__).parent / 'results' / 'bench_coreset.json')
    return p.parse_args(argv)


def fmt_row(method, ipc, r, pub):
    ours = f"{r['mean']:.1f} ± {r['std']:.1f}"
    published, delta = ('–', '–') if pub is None else (f"{pub:.1f}", f"{r['mean'] - pub:+.1f}")
    return md_row([method, ipc, ours, published, delta])


def main(argv=None):
    args = parse_args(argv)
    if args.threads: torch.set_num_threads(args.threads)
    data = load_dataset(args.dataset)
    cfg = EvalConfig(epochs=args.epochs, width=args.width, depth=args.depth, device=args.device, **AUGS[args.aug])
    t0 = time.time()
    extra = {}
    if {'herding', 'kcenter', 'nearest_mean'} & set(args.methods):
        t = time.time()
        fcfg = dataclasses.replace(cfg, dsa=False, dc_aug=False, width=args.feature_width or args.width)
        net = feature_net(data, epochs=args.feature_epochs, seed=0, cfg=fcfg)
        extra.update(herding=dict(net=net), kcenter=dict(net=net), nearest_mean=dict(net=net))
        print(f"feature net: {args.feature_epochs} epoch(s) on {data.n_train} real images in {time.time() - t:.0f} s", flush=True)
    if 'forgetting' in args.methods:
        from haba_nb.coreset import forgetting_counts
        t = time.time()
        counts = forgetting_counts(data, epochs=args.forgetting_epochs, seed=0, cfg=dataclasses.replace(cfg, dsa=False, dc_aug=False))
        extra['forgetting'] = dict(counts=counts)
        print(f"forgetting counts: {args.forgetting_epochs} epochs in {time.time() - t:.0f} s", flush=True)

    rows, lines = [], [md_header(['method', 'IPC', 'ours (%)', 'published', 'delta'])]
    for method in args.methods:
        for ipc in (['all'] if method == 'whole' else args.ipcs):
            t = time.time()
            if method == 'whole':   # every training image, the protocol's network and augmentation, its own epoch budget
                r = evaluate_synset(coreset_from_indices(data, torch.arange(data.n_train)), data,
                                    dataclasses.replace(cfg, epochs=args.whole_epochs), n_seeds=args.seeds)
            elif method == 'random':  # a new random subset for every evaluation network
                accs = [evaluate_synset(select_coreset('random', data, ipc, seed=s), data, cfg, n_seeds=1, seed=s)['accs'][0]
                        for s in range(args.seeds)]
                r = dict(mean=float(np.mean(accs)), std=float(np.std(accs)), accs=accs)
            else:
                r = evaluate_synset(select_coreset(method, data, ipc, **extra.get(method, {})), data, cfg, n_seeds=args.seeds)
            pub = PUBLISHED.get(('herding' if method == 'nearest_mean' else method, ipc)) if args.dataset == 'fashionmnist' else None
            rows.append(dict(method=method, ipc=ipc, epochs=args.whole_epochs if method == 'whole' else args.epochs, mean=r['mean'], std=r['std'], accs=r['accs'], published=pub,
                             delta=None if pub is None else r['mean'] - pub, seconds=time.time() - t))
            lines.append(fmt_row(method, ipc, r, pub)); print(lines[-1], flush=True)
            out = save(args, cfg, rows, lines, t0, complete=False)  # partial results survive an interrupted run

    out = save(args, cfg, rows, lines, t0, complete=True)
    epochs = f"{args.epochs} epochs" + (f" (whole: {args.whole_epochs})" if 'whole' in args.methods else '')
    print(f"\n{args.dataset}, ConvNet-{args.width}-{args.depth} instance norm, {epochs}, aug={args.aug}, "
          f"{args.seeds} seeds\n{out['table']}\nsaved {args.out}")
    return out


def save(args, cfg, rows, lines, t0, complete):
    "Write the results JSON (atomically) with the exact command, config and machine facts."
    full = (args.ipcs == [1, 10, 50] and args.seeds == 5 and args.epochs == 300 and args.width == 128
            and args.feature_width in (None, 128))
    out = dict(command=" ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]), args=vars(args),
               eval_config=dataclasses.asdict(cfg), rows=rows, table="\n".join(lines), seconds=time.time() - t0,
               complete=complete, protocol="full protocol" if full else "REDUCED run (not the published protocol)",
               torch_threads=torch.get_num_threads(), load_average=os.getloadavg(), versions=versions())
    save_json(args.out, out)
    return out


if __name__ == '__main__':
    main()
