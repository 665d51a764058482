"""Which feature space makes herding land where the DC paper's Fashion-MNIST row does?

bench_coreset.py herds in the feature space of a ConvNet trained on the real data, and lands above the published
herding row (71.1 at IPC 10; results/NOTES.md, bench). This script herds the same classes in other spaces — raw
normalised pixels, and an untrained (randomly initialised) ConvNet — and evaluates with bench_coreset.py's protocol
(ConvNet-128-3, 300 epochs, lr 0.01, batch 256, no augmentation), to see which one reproduces the published number.
Saves bench/results/herding_features.json (--out; rewritten after every row): command, eval_config, rows (space,
selection, ipc, mean, std, accs, published, seconds) and 'meta' (commit, machine, date: bench/harness.py).

    .venv/bin/python bench/herding_features.py --ipcs 10 --seeds 2 --threads 1

--selection nearest_mean replaces herding by the k images nearest the class mean, a common
simplification of herding. It tests whether the published row is what that rule gives: it picks
prototypical, near-duplicate images, and should fall further below random as IPC grows, as the
published herding row does (71.9 at IPC 50 against random's 82.5). Space trained_convnet32 is a
ConvNet-32 trained one epoch on the real data (seed 0), the features bench_coreset's first runs used.

    .venv/bin/python bench/herding_features.py --ipcs 10 --spaces trained_convnet32 --selection nearest_mean herding \
        --seeds 2 --threads 1 --out bench/results/herding_nearest_mean.json
"""
import argparse, time
from pathlib import Path
import torch
from harness import add_common_args, command, md_row, save_json

HERE = Path(__file__).resolve().parent
PUBLISHED = {1: 67.0, 10: 71.1, 50: 71.9}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--ipcs', type=int, nargs='+', default=[10])
    ap.add_argument('--spaces', nargs='+', default=['pixels', 'random_convnet'])
    ap.add_argument('--selection', nargs='+', default=['herding'], choices=['herding', 'nearest_mean'])
    ap.add_argument('--seeds', type=int, default=2)
    add_common_args(ap, threads=1, out=HERE / 'results' / 'herding_features.json')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from haba_nb.data import load_dataset
    from haba_nb.networks import get_network
    from haba_nb.evaluate import EvalConfig, evaluate_synset
    from haba_nb.coreset import embed_images, herding_order, nearest_mean_order, coreset_from_indices, _per_class, feature_net
    orders = {'herding': herding_order, 'nearest_mean': nearest_mean_order}
    data = load_dataset('fashionmnist')
    cfg = EvalConfig(epochs=300, width=128, dsa=False, dc_aug=False)
    rows = []
    for space in a.spaces:
        if space == 'pixels': feats = data.x_train.flatten(1)
        elif space == 'trained_convnet32':
            net = feature_net(data, epochs=1, seed=0, cfg=EvalConfig(width=32, dsa=False, dc_aug=False))
            feats = embed_images(net, data.x_train, 512)
        else: feats = embed_images(get_network('ConvNet', data.channels, data.num_classes, tuple(data.im_size), width=128, seed=0).eval(), data.x_train, 512)
        for sel in a.selection:
            for ipc in a.ipcs:
                t = time.time()
                r = evaluate_synset(coreset_from_indices(data, _per_class(data, feats, ipc, orders[sel])), data, cfg, n_seeds=a.seeds)
                rows.append(dict(space=space, selection=sel, ipc=ipc, mean=r['mean'], std=r['std'], accs=r['accs'],
                                 published=PUBLISHED.get(ipc), seconds=time.time() - t))
                print(md_row([f"{sel} ({space})", ipc, f"{r['mean']:.1f} ± {r['std']:.1f}", PUBLISHED.get(ipc)]), flush=True)
                save_json(a.out, dict(command=command(), eval_config=cfg.__dict__, rows=rows))


if __name__ == '__main__':
    main()
