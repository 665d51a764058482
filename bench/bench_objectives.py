"""Seconds per iteration and peak RSS of every objective × {plain, haba} on CPU.

Fashion-MNIST (Debian package dataset-fashion-mnist; falls back to digits with a notice), IPC 10,
ConvNet-128-3 (instance norm), 2 threads. Plain = 10 images/class; haba = the budget's BPC
(`max_bpc`, 9 at 28×28×1) bases/class × 5 hallucinators. One iteration = `loss` + `backward` +
`after_step` (DC/DSA's inner loop: 50 epochs over the synthetic set at IPC 10, skipped on the last
of every `outer_loop` steps — the table gives both parts and the average over a network's life).
HaBa's L_cos / adversary step are not included. MTT uses random trajectories with the right
metadata (timing does not depend on their values; real experts on Fashion-MNIST take hours on CPU).
Every cell runs in a fresh subprocess so peak RSS (ru_maxrss, which includes the ~0.2 GB dataset
and torch itself) does not mix between cells.

    .venv/bin/python bench/bench_objectives.py                  # all 8 cells
    .venv/bin/python bench/bench_objectives.py --objectives dm,dc --iters 2
    .venv/bin/python bench/bench_objectives.py --allocator system --out bench/results/bench_objectives_system_malloc.json
    .venv/bin/python bench/bench_objectives.py --objectives dm,dc --params haba --bank-modes grouped_cl,compiled --warmup 1 --iters 3
    .venv/bin/python bench/bench_objectives.py --dataset digits --objectives dm --width 8 --out /tmp/bench_objectives.json   # a check

The JSON (--out, default bench/results/bench_objectives.json): bench, config, rows (per cell: objective, param,
bank_mode, items_per_class, loss_backward_s, after_step_s, s_per_it, cpu_s_per_it_over_threads, peak_rss_gb, dataset,
notice), loadavg_1min, time and 'meta' (commit, machine, date: bench/harness.py).
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path
from harness import add_common_args, save_json

HERE = Path(__file__).resolve().parent


def _load(dataset):
    "Fashion-MNIST, or digits with a printed notice when its files are missing."
    from haba_nb.core import DataError
    from haba_nb.data import load_dataset
    try: return load_dataset(dataset), None
    except DataError as e:
        return load_dataset('digits'), f"{dataset} not available ({e.problem}); measured on digits instead"


def worker(a):
    "One (objective, parameterisation) cell: warm-up iteration then timed ones; prints a RESULT line."
    import torch
    torch.set_num_threads(a.threads)
    from haba_nb.core import training_device
    training_device('cpu', a.allocator)   # as distill does on CPU (cpu_allocator; 'tuned' for these cells)
    from haba_nb.basis import PlainImages, FactorizedSet
    from haba_nb.budget import max_bpc
    from haba_nb.objectives import get_objective
    torch.manual_seed(0)   # hallucinator init uses the global RNG
    real, notice = _load(a.dataset)
    g = torch.Generator().manual_seed(0)
    shape = (real.channels, *real.im_size)
    if a.param == 'plain': param, per_class = PlainImages.from_real(real, a.ipc, generator=g), a.ipc
    else:
        per_class = max_bpc(real.num_classes, a.ipc, shape, a.hallucinators)
        param = FactorizedSet.from_real(real, per_class, n_hallucinators=a.hallucinators, generator=g, bank_mode=a.bank_mode)
    kw = dict(width=a.width)
    if a.objective == 'mtt':
        kw.update(expert_dir=a.traj)
    obj = get_objective(a.objective, real, ipc=a.ipc, generator=torch.Generator().manual_seed(0), **kw)
    lrs = obj.default_lrs()
    opt = torch.optim.SGD([{'params': list(param.parameters()), 'lr': lrs['lr_img']},
                           *([{'params': obj.parameters(), 'lr': lrs['lr_lr']}] if obj.parameters() else [])], lr=lrs['lr_img'], momentum=0.5)
    t_loss, t_after, cpu = [], [], []
    for it in range(a.warmup + a.iters):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(); loss = obj.loss(param, real, it); loss.backward(); opt.step()
        t1 = time.perf_counter()
        obj.after_step(param, real, it)
        t2, c2 = time.perf_counter(), time.process_time()
        if it >= a.warmup: t_loss.append(t1 - t0); t_after.append(t2 - t1); cpu.append(c2 - c0)
        print(f"  [{a.objective}/{a.param}] iteration {it}: loss+backward {t1 - t0:.2f} s, after_step {t2 - t1:.2f} s, loss {loss.item():.4g}", flush=True)
    lb, af = sum(t_loss) / len(t_loss), sum(t_after) / len(t_after)
    outer = getattr(obj.cfg, 'outer_loop', 1)
    avg = lb + af * (outer - 1) / outer if a.objective in ('dc', 'dsa') else lb + af
    print('RESULT ' + json.dumps({'objective': a.objective, 'param': a.param, 'bank_mode': a.bank_mode if a.param == 'haba' else None, 'items_per_class': per_class,
                                   'loss_backward_s': lb, 'after_step_s': af, 's_per_it': avg, 'cpu_s_per_it_over_threads': sum(cpu) / len(cpu) / a.threads,
                                   'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                                   'dataset': real.name, 'notice': notice}), flush=True)


def _fake_trajectories(dataset, folder: Path, width: int, epochs: int = 22):
    "Random-walk trajectories with correct metadata for `dataset` (timing only)."
    import torch
    from safetensors.torch import save_file
    from haba_nb.core import atomic_write_json
    from haba_nb.networks import get_network, flatten_params
    from haba_nb.experts import expert_meta, expert_path
    real, _ = _load(dataset)
    th = flatten_params(get_network('ConvNet', real.channels, real.num_classes, real.im_size, width=width, seed=0)).detach().clone()
    g = torch.Generator().manual_seed(1); traj = {}
    for e in range(epochs + 1):
        traj[f'epoch_{e:04d}'] = th.clone(); th = th + 1e-3 * torch.randn(th.shape, generator=g)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / 'trajectories.json', expert_meta(real, 'ConvNet', {'width': width}, epochs, 0.01, 256, True, 0., 0., th.numel()))
    save_file(traj, str(expert_path(folder, 0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dataset', default='fashionmnist'); ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--objectives', default='dc,dsa,dm,mtt'); ap.add_argument('--params', default='plain,haba')
    ap.add_argument('--iters', type=int, default=1, help='timed iterations per cell')
    ap.add_argument('--warmup', type=int, default=0, help='untimed iterations first')
    ap.add_argument('--width', type=int, default=128); add_common_args(ap, threads=2)
    ap.add_argument('--hallucinators', type=int, default=5)
    ap.add_argument('--bank-modes', default='grouped_cl', help="comma list of HaBa hallucinator bank modes to run (e.g. grouped_cl,compiled)")
    ap.add_argument('--bank-mode', default='grouped_cl', help=argparse.SUPPRESS)
    ap.add_argument('--allocator', default='tuned', help="'tuned' (distill's default on CPU) or 'system' (glibc's defaults)")
    add_common_args(ap, out=HERE / 'results' / 'bench_objectives.json')
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--objective', help=argparse.SUPPRESS); ap.add_argument('--param', help=argparse.SUPPRESS)
    ap.add_argument('--traj', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker: return worker(a)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        a.traj = str(Path(d) / 'traj')
        if 'mtt' in a.objectives: _fake_trajectories(a.dataset, Path(a.traj), a.width)
        cells = [(o, p, m) for o in a.objectives.split(',') for p in a.params.split(',')
                 for m in (a.bank_modes.split(',') if p == 'haba' else ['grouped_cl'])]
        for o, p, m in cells:
            cmd = [sys.executable, __file__, '--worker', '--objective', o, '--param', p, '--traj', a.traj, '--bank-mode', m,
                   '--dataset', a.dataset, '--ipc', str(a.ipc), '--iters', str(a.iters), '--warmup', str(a.warmup), '--width', str(a.width),
                   '--threads', str(a.threads), '--hallucinators', str(a.hallucinators), '--allocator', a.allocator]
            print(f"running {o} × {p}{' (' + m + ')' if p == 'haba' else ''} in a subprocess ...", flush=True)
            out = subprocess.run(cmd, capture_output=True, text=True)
            sys.stdout.write(''.join(l + '\n' for l in out.stdout.splitlines() if not l.startswith('RESULT ')))
            if out.returncode: print(f"  FAILED:\n{out.stderr[-2000:]}"); continue
            rows.append(json.loads(next(l for l in out.stdout.splitlines() if l.startswith('RESULT '))[7:]))
    notices = {r['notice'] for r in rows if r['notice']}
    for n in notices: print('NOTICE:', n)
    ds = rows[0]['dataset'] if rows else a.dataset
    print(f"\n{ds}, IPC {a.ipc}, ConvNet-{a.width}, {a.threads} CPU threads (load average now {os.getloadavg()[0]:.1f}: "
          f"other jobs share these cores, so absolute seconds are inflated; compare rows measured together)")
    print(f"{'objective':<10}{'param':<18}{'items/cls':>10}{'loss+bwd s':>12}{'after_step s':>14}{'s/it (avg)':>12}{'CPU/thr s':>11}{'peak RSS GB':>13}")
    for r in rows:
        pm = r['param'] + ('/' + r['bank_mode'] if r.get('bank_mode') else '')
        print(f"{r['objective']:<10}{pm:<18}{r['items_per_class']:>10}{r['loss_backward_s']:>12.2f}{r['after_step_s']:>14.2f}"
              f"{r['s_per_it']:>12.2f}{r['cpu_s_per_it_over_threads']:>11.2f}{r['peak_rss_gb']:>13.2f}")
    res = {'bench': 'objectives', 'config': {k: getattr(a, k) for k in ('dataset', 'ipc', 'iters', 'warmup', 'width', 'threads', 'hallucinators', 'allocator', 'bank_modes')},
           'rows': rows, 'loadavg_1min': os.getloadavg()[0], 'time': time.strftime('%Y-%m-%d %H:%M:%S')}
    save_json(a.out, res)
    print(f"saved {a.out}")


if __name__ == '__main__':
    main()
