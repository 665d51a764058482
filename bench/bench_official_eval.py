"""Evaluating a HaBa set against the official code, side by side: HaBa's own `evaluate_synset` (utils.py of
Huage001/DatasetFactorization), imported from a checkout and run unchanged, alternating with haba_nb's
`evaluate_synset` at the same shapes and epochs. Seconds per training epoch (the first epoch of each process reported
apart), the test-set pass apart, peak RSS of each process (os.wait4).

Get the official code as for bench/bench_official.py (the script records the commit it ran), then:

    .venv/bin/python bench/bench_official_eval.py --official /path/to/DatasetFactorization    # 1 and 2 threads, 3 rounds x 15 epochs
    .venv/bin/python bench/bench_official_eval.py --official ... --threads 1 --rounds 1 --epochs 2 --n-test 256 --out /tmp/x.json  # a check
    .venv/bin/python bench/bench_official_eval.py --official ... --threads 1 2 --profile --epochs 8 --n-test 256 \
        --out bench/results/bench_official_eval_profile.json                                    # where an epoch's time goes

The first is about 8 minutes on an idle 2-core CPU: each process spends more on its start (the official ZCA-whitens its
test set in get_dataset), the first epoch (ours: torch.compile, seconds when Inductor's on-disk cache is warm, ~30 s
when cold) and the test pass (10 000 images, ~10-20 s a thread) than on the 15 timed epochs. Use >= 10 epochs a
process: an epoch's cost depends on the DSA op drawn for its one batch (the official's scale and rotate also pay
grid_sample's backward to the images), so few epochs give a noisy median. Timings need an idle machine (the JSON
records the load average); under load only the ratios measured side by side mean anything, and 2 threads mean nothing
while other jobs hold the cores.

What the official side runs, as distill_fac.py evaluates its set with run_cifar10_ipc10_style5.sh's arguments:
`get_dataset('CIFAR10', ..., args)` with ZCA (its test DataLoader: batch 128, 2 workers, ZCA-whitened tensors);
bases `image_syn` (10 classes, 10 per class, 3x32x32), 5 hallucinators `StyleTranslator(in_channel=3, mid_channel=3,
out_channel=3, kernel_size=3)` in an `nn.ModuleList`, the network `get_network('ConvNet', 3, 10, (32, 32))` (ConvNet-128,
instance norm), then `evaluate_synset(0, net, [deepcopy(image_syn), deepcopy(styles)], None, testloader, args,
mode='style_translator')` with args.lr_net = lr_teacher 0.001 (distill_fac passes its learnt lr, initialised there),
batch_train 256, dsa True, dsa_strategy color_crop_cutout_flip_scale_rotate, dsa_param ParamDiffAug(), epoch_eval_train
E. Inside it: a DataLoader over `StyleTranslatorSharedDataset` (each item one basis through one random hallucinator,
called on that one image, with the hallucinators' autograd graph), every batch standardised, DSA, forward, backward
(through the hallucinators too), SGD; E + 1 training epochs, then one pass over the test set.
Ours: `haba_nb.evaluate.evaluate_synset` on a `FactorizedSet` at the same shapes (10 bases a class, 5 hallucinators,
haba_nb's defaults otherwise), `EvalConfig(epochs=E + 1, lr=0.001, batch=256, dsa=True, standardize=True)` (HaBa's
batch standardisation), ConvNet-128, and `compile` as the default 'auto' decides for the protocol's 1000 epochs on this
machine (`--compile` overrides); the same number of test images (random, ZCA plays no part in timing).
Ours scores the test set in batches of 1024 (`EvalConfig.test_batch`'s default), the official in batches of 128.
Values are random on both sides (timing does not depend on them); data are written here in CIFAR10's format (20 training
images a class, used only for the official's ZCA fit), so nothing is downloaded.

Instrumentation, without editing the official code: its module-level `epoch` (one call per training epoch and one for
the test pass) and `StyleTranslatorSharedDataset.__getitem__` (the per-image hallucinator calls) are wrapped with clocks;
ours is clocked through its set's `epoch_images` (called once at the start of every epoch: the views; the one call to
`frozen` before the first epoch, which makes every view once, is recorded apart as views_setup_s) and
`haba_nb.evaluate.accuracy` (the test pass). `torch.Tensor.backward` is timed on both sides (bench_official's wrappers).
Speed ratio = official median s/epoch / ours (> 1: ours faster; target >= 2x). `--profile`: one cProfile'd process a
side, the functions with the most own time per training epoch, over the epochs after the first (not timed; cProfile
slows Python-heavy code most).

The JSON (--out, default bench/results/bench_official_eval.json; rewritten after every process): official and
official_commit, shapes, rounds, threads, runs (per process: side, threads, round, first_s, per-epoch rows, median
s_per_epoch, cpu / views / backward seconds per epoch, test_pass_s, n_test, peak_rss_gib, process_s, profile, ours'
compiled), summary (per thread count: both sides' s/epoch, speed_ratio against the 2x target, first epoch and test pass),
haba_nb_commit, machine, command and 'meta' (commit, machine, date: bench/harness.py).
"""
from __future__ import annotations
import argparse, dataclasses, json, statistics, sys, tempfile, textwrap, time
from pathlib import Path
from bench_mtt import fake_real
from bench_official import official_commit, write_cifar10, write_work, machine_info, run_child, side_by_side_args
from harness import md_header, md_row, median, save_json

HERE = Path(__file__).resolve().parent
SHAPES = dict(ipc=10, n_style=5, batch_train=256, lr=0.001, n_per_class=20)   # run_cifar10_ipc10_style5.sh; lr = its lr_teacher

# cProfile from the second training epoch's start to the test pass's (both sides' child processes use it): the clocks
# call profile(True) / profile(False) there when asked to profile; profile_top() lists the functions with the most own time.
PROFILER = textwrap.dedent('''
    import cProfile, os, pstats
    _PR = [None]
    def profile(on):
        if on and _PR[0] is None: _PR[0] = cProfile.Profile(); _PR[0].enable()
        elif not on and _PR[0] is not None: _PR[0].disable()
    def profile_top(top=20):
        if _PR[0] is None: return None
        stats = sorted(pstats.Stats(_PR[0]).stats.items(), key=lambda kv: -kv[1][2])[:top]
        return [{'function': f'{os.path.basename(fn)}:{line}({name})', 'calls': nc, 'own_s': tt, 'cum_s': ct}
                for (fn, line, name), (cc, nc, tt, ct, _) in stats]
''')

OFFICIAL_EVAL_RUNNER = textwrap.dedent('''
    import copy, json, os, sys, time
    official, out, threads, s = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
    work = os.path.dirname(out)
    import torch, torch.nn as nn
    torch.set_num_threads(threads)
    for f in ('timers.py', 'cifar10_unchecked.py', 'bench_profiler.py'): exec(open(os.path.join(work, f)).read())
    sys.path.insert(0, official)
    import utils
    from utils import get_dataset, get_network, evaluate_synset, ParamDiffAug, StyleTranslator
    EPOCHS, VIEWS = [], []
    def _epoch(f):
        def g(mode, *a, **k):
            if s['profile'] and (mode != 'train' or len(EPOCHS) == 1): profile(mode == 'train')
            t0, c0 = time.perf_counter(), time.process_time()
            try: return f(mode, *a, **k)
            finally: EPOCHS.append((mode, t0, time.perf_counter(), c0, time.process_time()))
        return g
    def _item(f):
        def g(*a, **k):
            t0 = time.perf_counter()
            try: return f(*a, **k)
            finally: VIEWS.append((t0, time.perf_counter()))
        return g
    utils.epoch = _epoch(utils.epoch)   # evaluate_synset looks `epoch` up in its module at each call
    utils.StyleTranslatorSharedDataset.__getitem__ = _item(utils.StyleTranslatorSharedDataset.__getitem__)

    # distill_fac.py: get_dataset (ZCA), the synthetic set and styles, then per evaluation a fresh ConvNet and copies
    args = type('', (), {})()
    args.zca, args.device = True, 'cpu'
    channel, im_size, num_classes, _, _, _, _, _, testloader, _, _, _ = get_dataset('CIFAR10', s['data_path'], 256, 'imagenette', args=args)
    args.dataset, args.dsa, args.dsa_strategy, args.dsa_param = 'CIFAR10', True, 'color_crop_cutout_flip_scale_rotate', ParamDiffAug()
    args.batch_train, args.epoch_eval_train, args.lr_net = s['batch_train'], s['epochs'], s['lr']
    image_syn = torch.randn(size=(num_classes, s['ipc'], 3, im_size[0], im_size[1]), dtype=torch.float)
    styles = nn.ModuleList([StyleTranslator(in_channel=3, mid_channel=channel, out_channel=channel, kernel_size=3)
                            for _ in range(s['n_style'])])
    net_eval = get_network('ConvNet', channel, num_classes, im_size).to(args.device)
    evaluate_synset(0, net_eval, [copy.deepcopy(image_syn.detach()), copy.deepcopy(styles)], None, testloader, args,
                    mode='style_translator')
    json.dump({'epochs': EPOCHS, 'views': VIEWS, 'calls': CALLS, 'profile': profile_top(), 'n_test': len(testloader.dataset)},
              open(out, 'w'))
''')


def ours_worker(a):
    "haba_nb's evaluate_synset at the official shapes in this process; writes the official runner's record format."
    import torch
    torch.set_num_threads(a.threads)
    ns = {}
    for f in ('timers.py', 'bench_profiler.py'): exec((Path(a.work) / f).read_text(), ns)
    import haba_nb.evaluate as ev
    from haba_nb.basis import FactorizedSet
    s = json.loads(a.shapes)
    real = fake_real('cifar10', s['ipc'])
    g = torch.Generator().manual_seed(0)
    real = dataclasses.replace(real, x_test=torch.randn(s['n_test'], real.channels, *real.im_size, generator=g),
                               y_test=torch.arange(s['n_test']) % real.num_classes)
    param = FactorizedSet.from_real(real, s['ipc'], n_hallucinators=s['n_style'], init='noise', generator=g)
    marks, test, setup = [], [], []                        # (t0, t1, cpu0) of each epoch_images call; the test pass; frozen()

    class Clocked:
        "The set, with a clock on `epoch_images` (train_and_evaluate calls it at the start of every epoch) and on `frozen`."
        def __init__(self, src): self.src = src
        def frozen(self):                                 # train_and_evaluate: every view made once, before the first epoch
            t0 = time.perf_counter()
            try: return Clocked(self.src.frozen())
            finally: setup.append(time.perf_counter() - t0)
        def epoch_images(self, generator=None):
            if s['profile'] and len(marks) == 1: ns['profile'](True)
            t0, c0 = time.perf_counter(), time.process_time()
            try: return self.src.epoch_images(generator=generator)
            finally: marks.append((t0, time.perf_counter(), c0))
    accuracy = ev.accuracy
    def timed_accuracy(*args, **kw):
        if s['profile']: ns['profile'](False)
        t0, c0 = time.perf_counter(), time.process_time()
        try: return accuracy(*args, **kw)
        finally: test.append(('test', t0, time.perf_counter(), c0, time.process_time()))
    ev.accuracy = timed_accuracy
    cfg = ev.EvalConfig(model='ConvNet', epochs=s['epochs'] + 1, lr=s['lr'], batch=s['batch_train'], dsa=True, device='cpu',
                        width=128, depth=3, norm='instancenorm', standardize=True, compile=s['compile'])
    ev.evaluate_synset(Clocked(param), real, cfg, n_seeds=1, seed=0)
    if not test or len(marks) != cfg.epochs:
        raise SystemExit(f"the clocks did not fire as expected ({len(marks)} epochs, {len(test)} test passes): "
                         "has train_and_evaluate stopped calling epoch_images / haba_nb.evaluate.accuracy?")
    ends = [m[0] for m in marks[1:]] + [test[0][1]]
    cends = [m[2] for m in marks[1:]] + [test[0][3]]
    epochs = [('train', t0, t1, c0, c1) for (t0, _, c0), t1, c1 in zip(marks, ends, cends)] + test
    json.dump({'epochs': epochs, 'views': [(t0, t1) for t0, t1, _ in marks], 'calls': ns['CALLS'], 'profile': ns['profile_top'](),
               'n_test': len(real.y_test), 'compiled': ev.compiles(cfg, 'cpu'), 'views_setup_s': sum(setup)},
              open(a.events, 'w'))


def per_epoch(log: dict) -> tuple[list, float]:
    "Per training epoch: wall and CPU seconds, seconds making views and inside backward; and the test pass's wall seconds."
    rows, test = [], [e for e in log['epochs'] if e[0] != 'train']
    inside = lambda spans, t0, t1: sum(b - a for a, b in spans if t0 <= a < t1)
    for mode, t0, t1, c0, c1 in log['epochs']:
        if mode != 'train': continue
        rows.append({'wall_s': t1 - t0, 'cpu_s': c1 - c0, 'views_s': inside(log['views'], t0, t1),
                     'backward_s': inside([(a, b) for n, a, b in log['calls'] if n == 'backward'], t0, t1)})
    return rows, (test[0][2] - test[0][1]) if test else float('nan')


def run_side(side: str, a, work: Path, s: dict, threads: int, profile: bool = False) -> dict:
    s = dict(s, profile=profile)
    log, ru, process_s = run_child(side, work, threads, a.official, [json.dumps(s)] if side == 'official' else
                                   ['--shapes', json.dumps(s)], __file__)
    rows, test_s = per_epoch(log)
    timed = rows[1:]
    med = lambda k: median(r[k] for r in timed)
    return {'side': side, 'threads': threads, 'first_s': rows[0]['wall_s'], 'epochs': rows, 's_per_epoch': med('wall_s'),
            'cpu_s_per_epoch': med('cpu_s'), 'views_s_per_epoch': med('views_s'), 'backward_s_per_epoch': med('backward_s'),
            'test_pass_s': test_s, 'n_test': log['n_test'], 'peak_rss_gib': ru.ru_maxrss / 2**20, 'process_s': process_s,
            'profile': log['profile'], **({'compiled': log['compiled'], 'views_setup_s': log.get('views_setup_s')} if side == 'ours' else {})}


def protocol_compile() -> str:
    "What EvalConfig(compile='auto') decides for the 1000-epoch protocol (ConvNet-128, fp32) on this machine's CPU."
    from haba_nb.evaluate import EvalConfig, compiles
    return 'on' if compiles(EvalConfig(epochs=1000, width=128), 'cpu') else 'off'


def print_profile(row: dict, top: int):
    n = len(row['epochs']) - 1
    print(f"\n{row['side']}, {row['threads']} thread(s), cProfile of training epochs 2 to {n + 1} (not the first, not the test "
          f"pass): seconds per epoch")
    print(md_header(['function', 'calls (all epochs)', 'own s / epoch', 'cumulative s / epoch']))
    for p in row['profile'][:top]:
        print(md_row([f"`{p['function']}`", p['calls'], f"{p['own_s'] / n:.4f}", f"{p['cum_s'] / n:.4f}"]))
    print(f"(wall seconds per profiled epoch, mean: {statistics.mean(e['wall_s'] for e in row['epochs'][1:]):.3f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    side_by_side_args(ap, 3, str(HERE / 'results' / 'bench_official_eval.json'))
    ap.add_argument('--epochs', type=int, default=15, help='timed training epochs per process (after its first, reported apart)')
    ap.add_argument('--n-test', type=int, default=10000, help="test images (CIFAR10's test split: 10 000)")
    ap.add_argument('--compile', choices=['protocol', 'on', 'off'], default='protocol',
                    help="ours: 'protocol' = what compile='auto' does for a 1000-epoch evaluation here")
    ap.add_argument('--profile', action='store_true', help='instead of timing: one cProfile run a side, the top functions')
    for k in ('--work', '--events', '--shapes'): ap.add_argument(k, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker: a.threads = int(a.threads[0] if isinstance(a.threads, list) else a.threads); return ours_worker(a)
    if a.official is None or not (a.official / 'utils.py').exists():
        raise SystemExit(f"--official must be a checkout of Huage001/DatasetFactorization holding utils.py, got {a.official}; "
                         "get it with: git clone https://github.com/Huage001/DatasetFactorization && "
                         "git -C DatasetFactorization checkout 60c9128")
    s = dict(SHAPES, epochs=a.epochs, n_test=a.n_test, compile=protocol_compile() if a.compile == 'protocol' else a.compile)
    machine = machine_info()
    result = {'official': str(a.official), 'official_commit': official_commit(a.official), 'shapes': s,
              'rounds': a.rounds, 'threads': a.threads, 'runs': [], 'summary': {}, 'haba_nb_commit': machine['haba_nb_commit'],
              'machine': machine, 'command': ' '.join([sys.executable, *sys.argv])}
    with tempfile.TemporaryDirectory(prefix='bench_official_eval_') as d:
        work = Path(d)
        write_work(work, OFFICIAL_EVAL_RUNNER); (work / 'bench_profiler.py').write_text(PROFILER)
        s['data_path'] = str(work / 'data')
        write_cifar10(work / 'data', s['n_per_class'], n_test=a.n_test)
        if a.profile:
            for th in a.threads:
                for side in ('official', 'ours'):
                    row = run_side(side, a, work, s, th, profile=True); result['runs'].append(row); print_profile(row, 15)
            save_json(a.out, result, indent=1); print(f"\nsaved {a.out}")
            return
        print(f"CIFAR10 shapes: {s['ipc']} bases a class x {s['n_style']} hallucinators, ConvNet-128, batch {s['batch_train']}, "
              f"{a.epochs + 1} training epochs a process (the first reported apart), {a.n_test} test images; ours compile={s['compile']}")
        print(md_header(['threads', 'round', 'side', 'first epoch (s)', 'median s/epoch', 'CPU s/epoch', 'views s/epoch',
                         'in backward s/epoch', 'test pass (s)', 'peak RSS (GiB)', 'process (s)']), flush=True)
        for th in a.threads:
            for r in range(a.rounds):
                for side in ('official', 'ours'):
                    row = run_side(side, a, work, s, th); row['round'] = r
                    result['runs'].append(row)
                    print(md_row([th, r, side, f"{row['first_s']:.2f}", *(f"{row[k]:.3f}" for k in
                                  ('s_per_epoch', 'cpu_s_per_epoch', 'views_s_per_epoch', 'backward_s_per_epoch')),
                                  f"{row['test_pass_s']:.2f}", f"{row['peak_rss_gib']:.2f}", f"{row['process_s']:.0f}"]), flush=True)
                    save_json(a.out, result, indent=1)
            runs = lambda side: [x for x in result['runs'] if x['side'] == side and x['threads'] == th]
            pooled = lambda side, k: median(e[k] for x in runs(side) for e in x['epochs'][1:])
            first = lambda side: median(x['first_s'] for x in runs(side))
            test = lambda side: median(x['test_pass_s'] for x in runs(side))
            off, ours = pooled('official', 'wall_s'), pooled('ours', 'wall_s')
            sm = result['summary'][f'{th}_threads'] = {
                'official_s_per_epoch': off, 'ours_s_per_epoch': ours, 'speed_ratio': off / ours, 'target': 2.0,
                'meets_target': off / ours >= 2.0,
                'official_first_epoch_s': first('official'), 'ours_first_epoch_s': first('ours'),
                'official_test_pass_s': test('official'), 'ours_test_pass_s': test('ours'),
                'test_pass_ratio': test('official') / test('ours'),
                **{f'{side}_{k}_s_per_epoch': pooled(side, f'{k}_s') for side in ('official', 'ours') for k in ('views', 'backward', 'cpu')}}
            print(f"\n{th} thread(s): official {off:.3f} s/epoch vs ours {ours:.3f} -> {sm['speed_ratio']:.2f}x the official speed "
                  f"(target >= 2x: {'met' if sm['meets_target'] else 'MISSED'}); first epoch {sm['official_first_epoch_s']:.2f} vs "
                  f"{sm['ours_first_epoch_s']:.2f} s; test pass {sm['official_test_pass_s']:.2f} vs {sm['ours_test_pass_s']:.2f} s "
                  f"({sm['test_pass_ratio']:.2f}x)\n", flush=True)
            save_json(a.out, result, indent=1)
    print(f"saved {a.out}")


if __name__ == '__main__': main()
