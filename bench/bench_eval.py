"""Evaluation speed of a HaBa set (issue 18): seconds per training epoch, the reference's loop vs ours in float32 and bf16,
and whether bf16 keeps the accuracy distribution.

Timing (`--shapes`): one process, the variants interleaved round by round (R rounds × E epochs each), median
seconds per epoch, ratios to the reference printed side by side:

  reference  HaBa's code's evaluation epoch, emulated at the same shapes with this project's networks and DSA:
             a torch DataLoader (batch 256, shuffle) over a dataset whose every item is ONE basis through a random
             hallucinator (batch 1, as its `StyleTranslatorSharedDataset`; here under no_grad, which is kinder than
             the reference, whose items carry the hallucinators' graph), every batch standardised, DSA, forward,
             cross-entropy, accuracy via numpy, backward, SGD step
  fp32       ours (`train_and_evaluate`, `compile='off'`, the default before compiling): every basis through a random
             hallucinator in one batched bank call, DSA, forward, backward, SGD step
  compiled   the same with the training step under torch.compile (`compile='on'`; what the default `'auto'` does for
             a ConvNet-128 run of >= 300 epochs on a CPU with a C++ compiler). Its warm-up call pays the compile.
  bf16       the fp32 loop with `EvalConfig(precision='bf16')`: forward passes under torch.autocast (bfloat16), weights
             and SGD in float32; timed only on a CPU with native bf16 (AVX512-BF16/AMX), ~10x slower elsewhere

Shapes: `fmnist` (1×28×28, 10 classes, 9 bases per class, 5 hallucinators: the IPC 10 HaBa set) and `cifar10`
(3×32×32, the same counts); random bases (timing only). The evaluated network is ConvNet-128 (instance norm).

Accuracy (`--accuracy RUN/final`): the saved set evaluated by `--seeds` fresh ConvNet-128 networks per loop
(fp32 eager, compiled, bf16 where native; seeds 2000.., `--epochs`, DSA, the run's learned lr for MTT sets), mean ± std
each, and Welch's t-test against fp32 eager.

    .venv/bin/python bench/bench_eval.py                                  # timing, 2 threads, both shapes
    .venv/bin/python bench/bench_eval.py --shapes --threads 1 --accuracy bench/results/sets/fashionmnist-dc-ipc10-haba_rho0.2_views_all --seeds 5 --out bench/results/bench_eval_compile_accuracy.json

Set wall time (`--set-seeds N`): evaluating one set as a table does (N seeds × `--set-epochs`), the reference's loop
(with its lr decay at half-way) seed after seed on all threads, ours the same way, and ours with the seeds as parallel
one-thread Ray tasks (skipped on one thread). Every epoch of the two seed-after-seed arms is timed, and the table gives
the median seconds per epoch of the first epoch, the rest of the first half and the second half (an epoch's cost
changes as the network trains), and the mean over the protocol:

    .venv/bin/python bench/bench_eval.py --shapes fmnist --rounds 0 --set-seeds 2 --out bench/results/bench_eval_set_wall.json
    .venv/bin/python bench/bench_eval.py --shapes fmnist --rounds 0 --set-seeds 2 --threads 1 --out bench/results/bench_eval_set_wall_1thread_2seeds.json

A check of the script (tiny: 1 round of 1 epoch, fp32 only):

    .venv/bin/python bench/bench_eval.py --shapes fmnist --rounds 1 --epochs-per-round 1 --variants fp32 --width 16 --out /tmp/bench_eval.json

The JSON (--out, default bench/results/bench_eval.json): bench, config (the arguments), loadavg_1min_start / _end,
torch, commit, 'meta' (machine, date: bench/harness.py) and the parts that ran: timing (per shape: images_per_epoch,
s_per_epoch medians, per_round, speedup_vs_reference), set_wall (per shape: wall seconds of each schedule, speed-ups,
s_per_epoch phases, epoch_trace) and accuracy (per loop: mean, std, accs, seconds, welch_p_vs_fp32).

Only ratios are meaningful when other jobs share the cores (the JSON records the load average); absolute times
belong to an idle machine or a GPU.
"""
from __future__ import annotations
import argparse, contextlib, dataclasses, os, sys, time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from haba_nb.augment import DSA_STRATEGY, dsa
from haba_nb.basis import FactorizedSet
from haba_nb.evaluate import EvalConfig, train_and_evaluate, evaluate_synset
from haba_nb.networks import get_network
from harness import add_common_args, commit, interleave, md_header, md_row, median, save_json

SHAPES = {'fmnist': (1, 28), 'cifar10': (3, 32)}


def stand_in(name: str, bpc: int, n_hal: int, seed: int = 0):
    "A FactorizedSet of random bases at `name`'s shapes, and a RealData stand-in with a one-image test split."
    c, s = SHAPES[name]
    g = torch.Generator().manual_seed(seed)
    data = SimpleNamespace(name=name, channels=c, im_size=(s, s), num_classes=10,
                           x_test=torch.randn(1, c, s, s, generator=g), y_test=torch.zeros(1, dtype=torch.long))
    return FactorizedSet.from_real(data, bpc, n_hal, init='noise', generator=g), data


class _OneViewEach(torch.utils.data.Dataset):
    "The reference's dataset: item i is basis i through a random hallucinator, computed one at a time."
    def __init__(self, param): self.param = param
    def __len__(self): return len(self.param)
    def __getitem__(self, i):
        with torch.no_grad():
            j = int(torch.randint(self.param.bank.n, (1,)))
            return self.param.views([i], [j])[0], self.param.labels[i]


def reference_train(param, data, cfg: EvalConfig, seed: int, trace: list | None = None) -> float:
    """Seconds of `cfg.epochs` epochs of the reference's training loop (see the module doc); the network is discarded.
    `trace`, when given, receives each epoch's seconds (to see how an epoch's cost changes over the protocol)."""
    torch.manual_seed(seed)
    net = get_network(cfg.model, data.channels, data.num_classes, data.im_size, width=cfg.width, depth=cfg.depth, norm=cfg.norm)
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=0.9, weight_decay=5e-4)
    loader = torch.utils.data.DataLoader(_OneViewEach(param), batch_size=cfg.batch, shuffle=True, num_workers=0)
    t = time.perf_counter()
    for ep in range(cfg.epochs):
        te = time.perf_counter()
        if ep == cfg.epochs // 2:        # the reference's lr decay: lr × 0.1 and a fresh SGD (momentum reset) at half-way
            opt = torch.optim.SGD(net.parameters(), lr=cfg.lr * 0.1, momentum=0.9, weight_decay=5e-4)
        net.train()
        for img, lab in loader:
            img = (img - img.mean()) / img.std()
            img = dsa(img, strategy=cfg.dsa_strategy, seed=None)
            out = net(img)
            loss = F.cross_entropy(out, lab)
            _ = np.sum(np.equal(np.argmax(out.detach().numpy(), axis=-1), lab.numpy()))
            opt.zero_grad(); loss.backward(); opt.step()
        if trace is not None: trace.append(time.perf_counter() - te)
    return time.perf_counter() - t


def time_shapes(a) -> dict:
    out = {}
    for name in a.shapes:
        param, data = stand_in(name, a.bpc, a.hallucinators)
        base = EvalConfig(epochs=a.epochs_per_round, width=a.width, device='cpu')
        runs = {'reference': lambda s: reference_train(param, data, base, s),
                'fp32': lambda s: train_and_evaluate(param, data, dataclasses.replace(base, compile='off'), seed=s)['seconds'],
                'compiled': lambda s: train_and_evaluate(param, data, dataclasses.replace(base, compile='on'), seed=s)['seconds']}
        if 'bf16' in a.variants:
            if torch.ops.mkldnn._is_mkldnn_bf16_supported():
                runs['bf16'] = lambda s: train_and_evaluate(param, data, dataclasses.replace(base, precision='bf16', compile='off'), seed=s)['seconds']
            else: print(f"bf16 skipped: this CPU ({torch.backends.cpu.get_cpu_capability()}) has no native bf16, where autocast is ~10x slower")
        runs = {k: f for k, f in runs.items() if k in a.variants or k == 'reference'}
        # one warm-up round (seed 0: allocator, oneDNN kernels, the compile), then rounds seeded 1..R, the loops interleaved
        per_epoch = interleave({k: (lambda s, f=f: f(s) / a.epochs_per_round) for k, f in runs.items()}, a.rounds, warmup=1,
                               own_clock=True)
        med = {k: median(v) for k, v in per_epoch.items()}
        out[name] = dict(images_per_epoch=len(param), s_per_epoch=med, per_round=per_epoch,
                         speedup_vs_reference={k: med['reference'] / v for k, v in med.items()})
        print(f"\n{name}: {len(param)} bases × {a.hallucinators} hallucinators, ConvNet-{a.width}, {a.rounds} rounds × {a.epochs_per_round} epochs")
        print(md_header(['loop', 's / epoch (median)', 'speed-up vs reference']))
        for k in runs: print(md_row([k, f"{med[k]:.3f}", f"{med['reference'] / med[k]:.2f}x"]))
    return out


@contextlib.contextmanager
def _epoch_clock(trace: list):
    """Append each epoch's seconds of `train_and_evaluate` to `trace`: it fetches one epoch's images at the start of
    every epoch and calls `accuracy` once its last epoch ends, so the time between those calls is an epoch."""
    import haba_nb.evaluate as ev
    orig_images, orig_acc, last = ev._epoch_images, ev.accuracy, [None]
    def tick():
        now = time.perf_counter()
        if last[0] is not None: trace.append(now - last[0])
        return now
    def timed_images(syn, generator):
        last[0] = tick(); return orig_images(syn, generator)
    def timed_accuracy(*args, **kw):
        tick(); last[0] = None; return orig_acc(*args, **kw)
    ev._epoch_images, ev.accuracy = timed_images, timed_accuracy
    try: yield
    finally: ev._epoch_images, ev.accuracy = orig_images, orig_acc


def _phases(trace: list, epochs: int) -> dict:
    "Median seconds per epoch of the first epoch, the rest of the first half (the set lr) and the second half (lr × 0.1), over seeds."
    per_seed = [trace[i:i + epochs] for i in range(0, len(trace), epochs)]
    pick = lambda lo, hi: median((t for s in per_seed for t in s[lo:hi]), default=float('nan'))
    return {'first epoch': pick(0, 1), 'epochs 2 to half': pick(1, epochs // 2), 'second half': pick(epochs // 2, epochs),
            'mean over all': sum(trace) / max(len(trace), 1)}


def set_wall(a) -> dict:
    """Wall seconds to evaluate ONE set with `--set-seeds` N seeds × `--set-epochs` E epochs, as a table needs it:
    the reference's loop seed after seed on all `--threads` threads (as HaBa's code does), ours the same way
    (`evaluate_synset`, sequential, compiled), and ours with the seeds as parallel Ray tasks of one thread each
    (`evaluate_synset(executor='ray')` under `torch.set_num_threads(1)`; Ray started beforehand, its start-up timed
    apart). Every seed is the same training in every arm; only the scheduling differs."""
    from haba_nb.parallel import ray_session
    out = {}
    for name in a.shapes:
        param, data = stand_in(name, a.bpc, a.hallucinators)
        cfg = EvalConfig(epochs=a.set_epochs, width=a.width, device='cpu', compile='on')
        seeds = list(range(3000, 3000 + a.set_seeds))
        ref_trace, our_trace = [], []
        t = time.perf_counter(); [reference_train(param, data, cfg, s, ref_trace) for s in seeds]; ref = time.perf_counter() - t
        with _epoch_clock(our_trace):
            t = time.perf_counter(); seq = evaluate_synset(param, data, cfg, n_seeds=a.set_seeds, seed=seeds[0]); seq_s = time.perf_counter() - t
        threads, par_s, start_s, same = torch.get_num_threads(), None, None, None
        if threads > 1:                                      # one thread: the Ray schedule is the sequential one
            t = time.perf_counter()
            with ray_session(num_cpus=threads, keep=True): start_s = time.perf_counter() - t
            torch.set_num_threads(1)
            try:
                t = time.perf_counter(); par = evaluate_synset(param, data, cfg, n_seeds=a.set_seeds, seed=seeds[0], executor='ray')
                par_s = time.perf_counter() - t
            finally: torch.set_num_threads(threads)
            same = seq['accs'] == par['accs']
        phases = {k: _phases(v, a.set_epochs) for k, v in (('reference', ref_trace), ('ours', our_trace))}
        out[name] = dict(seeds=a.set_seeds, epochs=a.set_epochs, threads=threads, reference_s=ref, ours_sequential_s=seq_s,
                         ours_ray_1thread_tasks_s=par_s, ray_start_s=start_s, same_accs=same,
                         speedup_sequential=ref / seq_s, speedup_ray=ref / par_s if par_s else None,
                         s_per_epoch=phases, epoch_trace=dict(reference=ref_trace, ours=our_trace))
        print(f"\n{name}: one set, {a.set_seeds} seeds × {a.set_epochs} epochs on {threads} threads (ConvNet-{a.width}, compiled)")
        print(md_header(['schedule', 'wall s', 'speed-up vs reference']))
        arms = [('reference, seed after seed', ref), ('ours, seed after seed', seq_s)]
        if par_s: arms.append(('ours, seeds as 1-thread Ray tasks', par_s))
        for k, v in arms: print(md_row([k, f"{v:.1f}", f"{ref / v:.2f}x"]))
        if par_s: print(f"(Ray start-up {start_s:.1f} s, not included; per-seed accuracies equal between the two schedules: {same})")
        print("\nseconds per epoch over the protocol (median of each phase; ours' first epoch pays the compile):")
        print(md_header(['phase', 'reference', 'ours', 'speed-up']))
        for ph in phases['reference']:
            r, o = phases['reference'][ph], phases['ours'][ph]
            print(md_row([ph, f"{r:.3f}", f"{o:.3f}", f"{r / o:.2f}x"]))
    return out


def accuracy_check(a) -> dict:
    from haba_nb.artifacts import load_artifact
    from haba_nb.data import load_dataset
    param, meta = load_artifact(a.accuracy)
    lr = meta.get('syn_lr')                                  # MTT sets: evaluate with the learned lr
    real = load_dataset(a.dataset)
    variants = {'fp32': dict(compile='off'), 'compiled': dict(compile='on'), 'bf16': dict(precision='bf16', compile='off')}
    if not torch.ops.mkldnn._is_mkldnn_bf16_supported(): variants.pop('bf16')     # ~10x slower without native bf16
    variants = {k: kw for k, kw in variants.items() if k == 'fp32' or k in a.variants}   # fp32: the yardstick
    res = {'lr': lr, 'set': str(a.accuracy)}
    for k, kw in variants.items():
        ev = evaluate_synset(param.eval(), real, EvalConfig(epochs=a.epochs, width=a.width, **kw),
                             n_seeds=a.seeds, seed=2000, lr=lr)
        res[k] = dict(mean=ev['mean'], std=ev['std'], accs=ev['accs'], seconds=ev['seconds'])
        print(f"{k}: {ev['mean']:.2f} ± {ev['std']:.2f}  {['%.2f' % v for v in ev['accs']]}  ({ev['seconds']:.0f} s training)", flush=True)
    from scipy.stats import ttest_ind
    for k in list(variants)[1:]:
        t = ttest_ind(res['fp32']['accs'], res[k]['accs'], equal_var=False)
        res[k]['welch_p_vs_fp32'] = float(t.pvalue)
        print(f"Welch's t-test fp32 vs {k}: p = {t.pvalue:.3f} ({a.seeds} seeds each)")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--shapes', nargs='*', default=['fmnist', 'cifar10'], choices=list(SHAPES))
    ap.add_argument('--bpc', type=int, default=9)
    ap.add_argument('--hallucinators', type=int, default=5)
    ap.add_argument('--width', type=int, default=128)
    add_common_args(ap, rounds=5, threads=2, rounds_help='timed rounds after one warm-up round, the loops interleaved (0: no timing)')
    ap.add_argument('--epochs-per-round', type=int, default=3)
    ap.add_argument('--variants', nargs='*', default=['fp32', 'compiled', 'bf16'], choices=['fp32', 'compiled', 'bf16'],
                    help='loops timed against the reference (bf16 only where the CPU has native bf16)')
    ap.add_argument('--accuracy', default=None, metavar='ARTIFACT', help="a saved set (run folder's final/) to evaluate with each --variants loop (and fp32 eager)")
    ap.add_argument('--dataset', default='fashionmnist', help='the dataset of --accuracy')
    ap.add_argument('--seeds', type=int, default=5)
    ap.add_argument('--epochs', type=int, default=300, help='epochs of each --accuracy evaluation')
    ap.add_argument('--set-seeds', type=int, default=0, help='also time evaluating one set with this many seeds (see set_wall)')
    ap.add_argument('--set-epochs', type=int, default=300, help='epochs per seed of --set-seeds')
    add_common_args(ap, out=HERE / 'results' / 'bench_eval.json')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rec = dict(bench='eval', config=vars(a), loadavg_1min_start=os.getloadavg()[0], torch=torch.__version__, commit=commit())
    if a.shapes and a.rounds: rec['timing'] = time_shapes(a)   # --rounds 0: only --set-seeds / --accuracy
    if a.set_seeds: rec['set_wall'] = set_wall(a)
    if a.accuracy: rec['accuracy'] = accuracy_check(a)
    rec['loadavg_1min_end'] = os.getloadavg()[0]
    save_json(a.out, rec, indent=1)
    print(f"saved {a.out}")


if __name__ == '__main__':
    main()
