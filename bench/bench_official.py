"""MTT + HaBa against the official code, side by side: HaBa's own distill_fac.py (Huage001/DatasetFactorization), run
unchanged, alternating with haba_nb's default distillation loop at the same shapes. Whole iterations on both sides (the
MTT loss and its backward, L_cos, the adversary step, the optimiser steps); the first iteration of each process is
reported apart (the official one also evaluates and saves at iteration 0); peak RSS of each process (os.wait4).

Get the official code (the script records the commit it ran):
    git clone https://github.com/Huage001/DatasetFactorization /path/to/DatasetFactorization
    git -C /path/to/DatasetFactorization checkout 60c9128
Its Python needs: torch, torchvision, kornia, scipy, tqdm (all in haba_nb's venv); wandb is replaced by a recorder.

    .venv/bin/python bench/bench_official.py --official /path/to/DatasetFactorization            # 1 and 2 threads, 2 rounds
    .venv/bin/python bench/bench_official.py --official ... --threads 1 --rounds 1 --iters 2 --smoke  # tiny shapes: a check
    .venv/bin/python bench/bench_official.py --official ... --threads 1 --ours-memory full \
        --out bench/results/bench_official_mtt_full.json      # ours without the adjoint's recompute (~10x its memory)

What runs: the arguments of the official CIFAR10 IPC 10 script (run_cifar10_ipc10_style5.sh): 10 bases a class, 5
hallucinators ("styles"), syn_steps 30, expert_epochs 2, max_start_epoch 20, ZCA, DSA, lr_img = lr_style = 100,
lr_teacher 0.001, batch_syn = all 100 bases; evaluation off (--num_eval 0). Ours: `distill` with DistillConfig at the
same shapes (bpc 10, 5 hallucinators, ConvNet-128, the same MTT settings), everything else at haba_nb's defaults.
Data are random, in the official formats, written here so nothing is downloaded: CIFAR10's python batches (50 images a
class; torchvision's MD5 check is bypassed because the bytes are ours, not CIFAR's) and a replay buffer as the official
buffer.py writes it (a list of experts, each a list of per-epoch parameter lists; 10 experts in replay_buffer_0.pt);
ours reads the same random walk from its own trajectory format. Timing does not depend on the values.

How the official run is instrumented without editing it: a stand-in `wandb` module records the time of the
per-iteration `wandb.log({"Progress": it})` (an iteration's start) and of `wandb.finish()`; `torch.Tensor.backward` and
`torch.autograd.grad` are wrapped (the same wrappers on our side) to report the time spent inside them.
Speed ratio = official median s/it / ours (> 1: ours faster); memory ratio = ours peak RSS / official's.

The JSON (--out, default bench/results/bench_official_mtt.json; rewritten after every process): official (the checkout)
and official_commit, shapes, iters, rounds, runs (per process: side, threads, round, first_s, per-iteration rows, median
s_per_it, cpu_s_per_it, backward_s_per_it, autograd_grad_s_per_it, peak_rss_gib), summary (per thread count: both
sides' s/it and peak RSS, speed_ratio, memory_ratio), haba_nb_commit, machine and 'meta' (commit, machine, date:
bench/harness.py).
"""
from __future__ import annotations
import argparse, json, os, pickle, subprocess, sys, tempfile, textwrap, time
from pathlib import Path
from bench_mtt import fake_real, _run_measured   # CIFAR10's shapes, random values, ZCA flag; a child's peak RSS
from harness import add_common_args, commit, machine, md_header, md_row, median, save_json

HERE = Path(__file__).resolve().parent
SHAPES = dict(ipc=10, n_style=5, syn_steps=30, expert_epochs=2, max_start_epoch=20, lr_img=100., lr_lr=1e-5,
              lr_teacher=0.001, lr_style=100., n_per_class=50, n_experts=10)
SMOKE = dict(SHAPES, ipc=1, n_style=2, syn_steps=2, max_start_epoch=2, n_per_class=4, n_experts=2)

# The wrappers both sides run under: time inside Tensor.backward and torch.autograd.grad.
TIMERS = textwrap.dedent('''
    import time, torch
    CALLS = []
    def _timed(name, f):
        def g(*a, **k):
            t0 = time.perf_counter()
            try: return f(*a, **k)
            finally: CALLS.append((name, t0, time.perf_counter()))
        return g
    torch.Tensor.backward = _timed('backward', torch.Tensor.backward)
    torch.autograd.grad = _timed('autograd_grad', torch.autograd.grad)
''')

# Our random bytes in CIFAR10's format cannot match CIFAR10's MD5s; without this torchvision would try to download.
CIFAR10_UNCHECKED = textwrap.dedent('''
    import torchvision
    torchvision.datasets.CIFAR10._check_integrity = lambda self: True
    torchvision.datasets.cifar.check_integrity = lambda *a, **k: True
''')

WANDB_STUB = textwrap.dedent('''
    "Stand-in for wandb (offline benchmark): keeps the config, records when each iteration starts and the run ends."
    import time
    class _Config: _items = {}
    class _Run: name = 'bench_official'
    config, run, EVENTS = _Config(), _Run(), []
    def init(config=None, **kw):
        _Config._items = dict(vars(config)) if config is not None else {}
        return run
    def log(d, step=None, **kw):
        if 'Progress' in d: EVENTS.append(('start', int(d['Progress']), time.perf_counter(), time.process_time()))
    def finish(): EVENTS.append(('end', None, time.perf_counter(), time.process_time()))
    def Histogram(*a, **k): return None
    def Image(*a, **k): return None
''')

OFFICIAL_RUNNER = textwrap.dedent('''
    import json, os, runpy, sys
    official, events_out, threads, argv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    import torch, torchvision
    torch.set_num_threads(threads)
    for f in ('timers.py', 'cifar10_unchecked.py'): exec(open(os.path.join(os.path.dirname(events_out), f)).read())
    sys.path[:0] = [os.path.dirname(events_out), official]
    import wandb
    sys.argv = ['distill_fac.py', *argv]
    try: runpy.run_path(os.path.join(official, 'distill_fac.py'), run_name='__main__')
    finally:
        json.dump({'events': wandb.EVENTS, 'calls': CALLS}, open(events_out, 'w'))
''')


def official_commit(path: Path) -> str:
    r = subprocess.run(['git', '-C', str(path), 'rev-parse', 'HEAD'], capture_output=True, text=True)
    return r.stdout.strip() or 'unknown (not a git checkout)'


def write_cifar10(root: Path, n_per_class: int, seed: int = 0, n_test: int = 100):
    "CIFAR10's python batches (torchvision's format) with random pixels: n_per_class a class over the 5 training batches."
    import numpy as np
    rng = np.random.default_rng(seed)
    d = root / 'cifar-10-batches-py'; d.mkdir(parents=True, exist_ok=True)
    labels = np.repeat(np.arange(10), n_per_class); rng.shuffle(labels)
    for i, part in enumerate(np.array_split(labels, 5), 1):
        pickle.dump({'data': rng.integers(0, 256, (len(part), 3072), dtype=np.uint8), 'labels': part.tolist()},
                    open(d / f'data_batch_{i}', 'wb'))
    pickle.dump({'data': rng.integers(0, 256, (n_test, 3072), dtype=np.uint8), 'labels': (np.arange(n_test) % 10).tolist()},
                open(d / 'test_batch', 'wb'))
    pickle.dump({'label_names': ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']},
                open(d / 'batches.meta', 'wb'))


def write_work(work: Path, runner: str):
    "The files a child process of the official code reads from the work folder: timers, the MD5 bypass, the wandb stand-in, its runner."
    for name, text in (('timers.py', TIMERS), ('cifar10_unchecked.py', CIFAR10_UNCHECKED), ('wandb.py', WANDB_STUB),
                       ('run_official.py', runner)):
        (work / name).write_text(text)


def machine_info() -> dict:
    "The JSON's 'machine' (kept beside harness's 'meta', which says more): CPU, core count, load average, versions, commit."
    from haba_nb.core import versions
    m = machine()
    return {'cpu': m['cpu'], 'cpu_count': m['cores'], 'load_average': m['load_average'], **versions(), 'haba_nb_commit': commit()}


def write_experts(official: Path, work: Path, s: dict):
    "The same random-walk trajectories in both formats: the official replay buffer and haba_nb's trajectory folder."
    code = textwrap.dedent(f'''
        import sys, torch
        sys.path.insert(0, {str(official)!r})
        from networks import ConvNet
        net = ConvNet(3, 10, 128, 3, 'relu', 'instancenorm', 'avgpooling', (32, 32))
        shapes = [p.shape for p in net.parameters()]
        g = torch.Generator().manual_seed(1)
        experts = []
        for e in range({s['n_experts']}):
            th = [p.detach().clone() for p in net.parameters()]
            traj = []
            for ep in range({s['max_start_epoch'] + s['expert_epochs'] + 1}):
                traj.append([t.clone() for t in th]); th = [t + 1e-3 * torch.randn(t.shape, generator=g) for t in th]
            experts.append(traj)
        import os; os.makedirs({str(work / 'buffers' / 'CIFAR10' / 'ConvNet')!r}, exist_ok=True)
        torch.save(experts, {str(work / 'buffers' / 'CIFAR10' / 'ConvNet' / 'replay_buffer_0.pt')!r})
        torch.save(experts, {str(work / 'experts.pt')!r})
    ''')
    subprocess.run([sys.executable, '-c', code], check=True, cwd=work)
    import torch
    from safetensors.torch import save_file
    from haba_nb.core import atomic_write_json
    from haba_nb.experts import expert_meta, expert_path
    experts = torch.load(work / 'experts.pt', weights_only=True)
    real = fake_real('cifar10', s['n_per_class'])
    folder = work / 'ours_experts'; folder.mkdir(exist_ok=True)
    n_params = sum(t.numel() for t in experts[0][0])
    atomic_write_json(folder / 'trajectories.json', expert_meta(real, 'ConvNet', {'width': 128, 'depth': 3}, len(experts[0]) - 1,
                                                                 0.01, 256, True, 0., 0., n_params))
    for i, traj in enumerate(experts):
        save_file({f'epoch_{e:04d}': torch.cat([t.reshape(-1) for t in ps]) for e, ps in enumerate(traj)}, str(expert_path(folder, i)))
    (work / 'experts.pt').unlink()
    return folder


def official_args(work: Path, s: dict, iters: int) -> list:
    return ['--dataset=CIFAR10', f'--ipc={s["ipc"]}', f'--n_style={s["n_style"]}', f'--syn_steps={s["syn_steps"]}',
            f'--expert_epochs={s["expert_epochs"]}', f'--max_start_epoch={s["max_start_epoch"]}', '--zca',
            f'--lr_img={s["lr_img"]}', f'--lr_lr={s["lr_lr"]}', '--pix_init', 'real', f'--lr_teacher={s["lr_teacher"]}',
            f'--buffer_path={work / "buffers"}', f'--data_path={work / "data"}', '--lr_style', str(s['lr_style']),
            '--lambda_club_content', '0.1', '--lambda_contrast_content', '0.1', '--lambda_cls_content', '1.',
            '--lambda_likeli_content', '0.1', f'--Iteration={iters}', '--num_eval', '0', '--eval_it', '100000']


def ours_worker(a):
    "haba_nb's default distillation at the official shapes in this process; writes the same events as the official runner."
    import torch
    torch.set_num_threads(a.threads)
    ns = {}; exec((Path(a.work) / 'timers.py').read_text(), ns)
    import haba_nb.distill as D
    from haba_nb.config import DistillConfig
    s = json.loads(a.shapes)
    events, inner = [], D._iteration
    def timed_iteration(*args):
        events.append(("start", args[3], time.perf_counter(), time.process_time()))
        return inner(*args)
    D._iteration = timed_iteration
    cfg = DistillConfig(dataset='cifar10', zca=True, objective='mtt', parameterisation='haba', ipc=s['ipc'], bpc=s['ipc'],
                        n_hallucinators=s['n_style'], width=128, iterations=a.iters + 1, n_eval=0, val_per_class=0,
                        progress=False, out_dir=str(Path(a.work) / f'ours_run_{os.getpid()}'), diversity_every=0,
                        objective_kwargs=dict(expert_dir=a.experts, syn_steps=s['syn_steps'], expert_epochs=s['expert_epochs'],
                                              max_start_epoch=s['max_start_epoch'], lr_teacher=s['lr_teacher'], lr_lr=s['lr_lr'],
                                              memory=s.get('memory', 'adjoint')))
    try: D.distill(cfg, real=fake_real('cifar10', s['n_per_class']))
    finally:
        events.append(('end', None, time.perf_counter(), time.process_time()))
        json.dump({'events': events, 'calls': ns['CALLS']}, open(a.events, 'w'))


def per_iteration(log: dict) -> list:
    "Per iteration: wall and CPU seconds, and seconds inside backward / autograd.grad, from the recorded events."
    ev = sorted(log['events'], key=lambda e: e[2]); rows = []
    for (k, it, t0, c0), (_, _, t1, c1) in zip(ev, ev[1:]):
        if k != 'start': continue
        inside = {n: sum(b - a for name, a, b in log['calls'] if name == n and t0 <= a < t1) for n in ('backward', 'autograd_grad')}
        rows.append({'it': it, 'wall_s': t1 - t0, 'cpu_s': c1 - c0, **{f'{n}_s': v for n, v in inside.items()}})
    return rows


def run_child(side: str, work: Path, threads: int, official: Path, rest: list, worker: str) -> tuple:
    """One side in a fresh process on `threads` threads: the official runner (work/run_official.py OFFICIAL EVENTS THREADS
    *rest) or `worker --worker --work --events --threads *rest` (ours); (its events JSON, its rusage, its wall seconds)."""
    events = work / f'events_{side}.json'
    if events.exists(): events.unlink()
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads), 'PYTHONWARNINGS': 'ignore'}
    if side == 'official':
        cmd, cwd = [sys.executable, str(work / 'run_official.py'), str(official), str(events), str(threads), *rest], work / 'official_cwd'
    else:
        cmd = [sys.executable, str(worker), '--worker', '--work', str(work), '--events', str(events), '--threads', str(threads), *rest]
        cwd = HERE.parent
    cwd.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    rc, out, err, ru = _run_measured(cmd, work, cwd=cwd, env=env)
    seconds = time.perf_counter() - t0
    if rc != 0 or not events.exists():
        raise SystemExit(f"{side} run failed (threads {threads}):\n{(out + err)[-4000:]}")
    return json.loads(events.read_text()), ru, seconds


def side_by_side_args(ap, rounds: int, out: str):
    "The options both side-by-side benches take: the checkout, alternations, thread counts, the JSON, the worker flag."
    ap.add_argument('--official', type=Path, help='a checkout of Huage001/DatasetFactorization (see bench_official.py)')
    add_common_args(ap, rounds=rounds, threads=[1, 2], out=out, rounds_help='official / ours alternations per thread count',
                    threads_help='thread counts, each timed on its own')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)


def run_side(side: str, a, work: Path, shapes: dict, threads: int, experts: Path) -> dict:
    rest = (official_args(work, shapes, a.iters) if side == 'official' else
            ['--iters', str(a.iters), '--shapes', json.dumps(shapes), '--experts', str(experts)])
    log, ru, _ = run_child(side, work, threads, a.official, rest, __file__)
    rows = per_iteration(log)
    timed = rows[1:]
    med = lambda k: median(r[k] for r in timed)
    return {'side': side, 'threads': threads, 'first_s': rows[0]['wall_s'], 'iterations': rows,
            's_per_it': med('wall_s'), 'cpu_s_per_it': med('cpu_s'), 'backward_s_per_it': med('backward_s'),
            'autograd_grad_s_per_it': med('autograd_grad_s'), 'peak_rss_gib': ru.ru_maxrss / 2**20}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    side_by_side_args(ap, 2, str(HERE / 'results' / 'bench_official_mtt.json'))
    ap.add_argument('--iters', type=int, default=4, help='timed iterations per process (after its first, reported apart)')
    ap.add_argument('--smoke', action='store_true', help='tiny shapes (ipc 1, 2 styles, 2 student steps): checks the harness only')
    ap.add_argument('--ours-memory', default='adjoint', choices=['adjoint', 'full'],
                    help="ours: MTT's memory mode; 'full' (keep every student step's graph, no recompute) is a diagnostic of "
                         "what the adjoint's recompute costs, not the default")
    for k in ('--work', '--events', '--shapes', '--experts'): ap.add_argument(k, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker: a.threads = a.threads[0] if isinstance(a.threads, list) else int(a.threads); return ours_worker(a)
    if a.official is None or not (a.official / 'distill_fac.py').exists():
        raise SystemExit(f"--official must be a checkout of Huage001/DatasetFactorization holding distill_fac.py, got {a.official}; "
                         "get it with: git clone https://github.com/Huage001/DatasetFactorization && "
                         "git -C DatasetFactorization checkout 60c9128")
    shapes = dict(SMOKE if a.smoke else SHAPES, memory=a.ours_memory)
    machine = machine_info()
    result = {'official': str(a.official), 'official_commit': official_commit(a.official), 'shapes': shapes,
              'iters': a.iters, 'rounds': a.rounds, 'runs': [], 'summary': {}, 'haba_nb_commit': machine['haba_nb_commit'],
              'machine': machine}
    with tempfile.TemporaryDirectory(prefix='bench_official_') as d:
        work = Path(d)
        write_work(work, OFFICIAL_RUNNER)
        write_cifar10(work / 'data', shapes['n_per_class'])
        experts = write_experts(a.official, work, shapes)
        print(md_header(['threads', 'round', 'side', 'first it (s)', 'median s/it', 'CPU s/it', 'in backward (s/it)',
                         'in autograd.grad (s/it)', 'peak RSS (GiB)']), flush=True)
        for th in a.threads:
            for r in range(a.rounds):
                for side in ('official', 'ours'):
                    row = run_side(side, a, work, shapes, th, experts); row['round'] = r
                    result['runs'].append(row)
                    print(md_row([th, r, side, f"{row['first_s']:.1f}", *(f"{row[k]:.2f}" for k in
                                  ('s_per_it', 'cpu_s_per_it', 'backward_s_per_it', 'autograd_grad_s_per_it', 'peak_rss_gib'))]), flush=True)
                    save_json(a.out, result, indent=1)
            runs = lambda side: [x for x in result['runs'] if x['side'] == side and x['threads'] == th]
            s_it = lambda side: median(i['wall_s'] for x in runs(side) for i in x['iterations'][1:])
            rss = lambda side: max(x['peak_rss_gib'] for x in runs(side))
            off, ours = s_it('official'), s_it('ours')
            result['summary'][f'{th}_threads'] = {
                'official_s_per_it': off, 'ours_s_per_it': ours, 'speed_ratio': off / ours,
                'official_peak_rss_gib': rss('official'), 'ours_peak_rss_gib': rss('ours'), 'memory_ratio': rss('ours') / rss('official')}
            sm = result['summary'][f'{th}_threads']
            print(f"\n{th} thread(s): official {off:.2f} s/it vs ours {ours:.2f} s/it -> {sm['speed_ratio']:.2f}x the official speed "
                  f"(target >= 2x); peak RSS {sm['ours_peak_rss_gib']:.2f} vs {sm['official_peak_rss_gib']:.2f} GiB -> "
                  f"{sm['memory_ratio']:.2f}x (target <= 0.2x)\n", flush=True)
            save_json(a.out, result, indent=1)


if __name__ == '__main__': main()
