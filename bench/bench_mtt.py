"""MTT + HaBa at CIFAR10 shapes on CPU: seconds per iteration and peak RSS for memory='full', 'checkpoint', 'adjoint'.

What one iteration is: `TrajectoryMatching.loss(param, real, step)` + `backward()` — the student
unrolled `syn_steps`=30 SGD steps on minibatches of `batch_syn`=100 hallucinated images (ZCA
flag on, DSA on), then the gradient back to bases, hallucinators and syn_lr. HaBa's L_cos and the
adversary step (a few % of the time) are not included. Data and trajectories are random tensors
with CIFAR10 shapes (32×32×3, 10 classes, ConvNet-128-3): timing and memory do not depend on the
values. Each mode runs in its own subprocess so peak RSS does not mix (the worker's own ru_maxrss, and the
whole process's from os.wait4); all modes use the same seed, so their loss and gradients on the same draw
are compared with memory='full's.

The yardstick for speed and memory against HaBa's code is `bench/bench_official.py`, which runs the official
distill_fac.py itself. This script compares our memory modes with each other, and also times a REFERENCE-LIKE
process (`--reference`, on by default) as a diagnostic: memory='full' under glibc's malloc, the graph HaBa's
distill_fac.py keeps each iteration (the whole unroll with create_graph=True, one hallucinator per student step,
DSA, no allocator tuning). Its ratios ('same-day') are an emulation's, not the official code's; 'ref/wall' divides by
a figure recorded on another day (25 s/it, 12.8 GB), kept for continuity only.

    .venv/bin/python bench/bench_mtt.py                 # the default and the previous default, 2 timed iterations each
    .venv/bin/python bench/bench_mtt.py --rounds 3 --out bench/results/bench_mtt_same_day.json   # alternated 3 times
    .venv/bin/python bench/bench_mtt.py --modes adjoint --norms analytic,native --rounds 3 --out bench/results/bench_mtt_analytic_norm.json
    .venv/bin/python bench/bench_mtt.py --modes adjoint --norms all,analytic --rounds 3 --out bench/results/bench_mtt_analytic_layers.json
    .venv/bin/python bench/bench_mtt.py --iters 1 --bpc 9
    .venv/bin/python bench/bench_mtt.py --profile       # torch.profiler table of one iteration (full)
    .venv/bin/python bench/bench_mtt.py --precisions fp32,bf16   # also the opt-in bfloat16 student forward
    .venv/bin/python bench/bench_mtt.py --allocators system,tuned --modes full   # glibc's malloc defaults vs haba_nb's
    .venv/bin/python bench/bench_mtt.py --iters 4 --modes full --out bench/results/bench_mtt_default_rerun.json
    .venv/bin/python bench/bench_mtt.py --modes full,adjoint --syn-steps 10,30,80 --iters 1   # peak RSS against syn_steps
    .venv/bin/python bench/bench_mtt.py --modes full,checkpoint,adjoint --syn-steps 10,30,80 --iters 1 --bpc 2 --width 32 \
        --batch-syn 20 --threads 1 --out /tmp/bench_mtt_small.json                           # the same at a small shape (a check)

Allocator: `distill` (and every long job) calls `haba_nb.core.training_device`, which on CPU tunes glibc's
malloc (`tune_cpu_allocator`: large tensors from the heap, freed memory kept for reuse). The worker does
the same: 'tuned' is what distill's cpu_allocator='auto' picks for memory='full', 'system' (glibc's
defaults, the setting the reference implementation runs under) what it picks for memory='checkpoint'.

With --precisions fp32,bf16 every memory mode runs in both arithmetics, and the bf16 loss and
gradients are compared with the fp32 ones on the same draw (cosine similarity, relative error).

The JSON (--out, default bench/results/bench_mtt.json): bench, config, reference (the recorded 25 s/it, 12.8 GB),
targets, rows (per mode key: s_per_it (fastest), s_per_it_all, s_per_it_median, CPU seconds, peak_rss_gb and
peak_rss_gb_wait4, loss0, same-day ratios, the @30-steps scalings), full_vs_other_modes, peak_rss_gb_wait4_by_syn_steps,
bf16_vs_fp32, tuned_vs_system_malloc, command, loadavg_1min, time and 'meta' (commit, machine, date: bench/harness.py).
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path
from harness import add_common_args, command, median, save_json

HERE = Path(__file__).resolve().parent
REF_S, REF_GB = 25.0, 12.8


def fake_real(name: str = 'cifar10', n_per_class: int = 50):
    "A RealData with `name`'s shapes (channels, size, classes) and random values, flagged as ZCA-whitened."
    import torch
    from haba_nb.data import DATASETS, RealData
    spec = DATASETS[name]
    g = torch.Generator().manual_seed(0)
    y = torch.arange(spec.num_classes).repeat_interleave(n_per_class)
    x = torch.randn(len(y), spec.channels, *spec.im_size, generator=g)
    class _ZCAFlag:  # only `real.zca is not None` matters to the objective
        def inverse(self, x): return x
    return RealData(name=name, spec=spec, x_train=x, y_train=y, x_test=x[:10], y_test=y[:10],
                    mean=torch.zeros(spec.channels), std=torch.ones(spec.channels), zca=_ZCAFlag())


def _fake_cifar10(n_per_class: int = 50): return fake_real('cifar10', n_per_class)


def _fake_trajectories(real, folder: Path, epochs: int, width: int, depth: int = 3):
    "One expert of random-walk trajectories with the right metadata (the timing does not depend on values)."
    import torch
    from safetensors.torch import save_file
    from haba_nb.core import atomic_write_json
    from haba_nb.networks import get_network, flatten_params
    from haba_nb.experts import expert_meta, expert_path
    net = get_network('ConvNet', real.channels, real.num_classes, tuple(real.im_size), width=width, depth=depth, seed=0)
    th = flatten_params(net).detach().clone()
    g = torch.Generator().manual_seed(1)
    traj = {}
    for e in range(epochs + 1):
        traj[f'epoch_{e:04d}'] = th.clone()
        th = th + 1e-3 * torch.randn(th.shape, generator=g)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / 'trajectories.json',
                      expert_meta(real, 'ConvNet', {'width': width, 'depth': depth}, epochs, 0.01, 256, True, 0., 0., th.numel()))
    save_file(traj, str(expert_path(folder, 0)))


def _run_measured(cmd, folder: Path, **popen_kw):
    "Run `cmd` to completion; (returncode, stdout, stderr, the child's rusage from os.wait4: its whole-process peak RSS)."
    with tempfile.TemporaryFile('w+', dir=folder) as fo, tempfile.TemporaryFile('w+', dir=folder) as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, **popen_kw)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0); fe.seek(0)
        return p.returncode, fo.read(), fe.read(), ru


def worker(a):
    "One mode in this process: warm-up iteration, then timed iterations; writes a JSON line + grads."
    import torch
    torch.set_num_threads(a.threads)
    from haba_nb.core import training_device, cpu_allocator
    training_device('cpu', a.allocator)   # what distill does on CPU (cpu_allocator)
    assert cpu_allocator() == a.allocator, 'allocator setting did not take effect'
    from haba_nb.basis import FactorizedSet
    from haba_nb.objectives import get_objective
    torch.manual_seed(0)   # hallucinator init uses the global RNG: same seed → same set in both modes' processes
    real = _fake_cifar10()
    tdir = Path(a.traj)
    param = FactorizedSet.from_real(real, a.bpc, n_hallucinators=a.hallucinators, generator=torch.Generator().manual_seed(0))
    obj = get_objective('mtt', real, ipc=10, expert_dir=str(tdir), memory=a.memory, batch_syn=a.batch_syn,
                        syn_steps=a.syn_steps, width=a.width, precision=a.precision, analytic_norm=a.norm in ('all', 'noconv', 'analytic'), analytic_relu_pool=a.norm in ('all', 'noconv'), analytic_conv=a.norm == 'all',
                        generator=torch.Generator().manual_seed(0))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    times, cpus, first = [], [], None
    for it in range(a.iters + a.warmup):
        for p in [*param.parameters(), *obj.parameters()]: p.grad = None
        t0, c0 = time.perf_counter(), time.process_time()
        loss = obj.loss(param, real, it)
        loss.backward()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if it >= a.warmup: times.append(dt); cpus.append(dc)
        if it == 0:
            first = {'loss': loss.item(), 'grad_bases': param.bases.basis.grad.detach().clone(),
                     'grad_bank': torch.cat([p.grad.reshape(-1) for p in param.bank.parameters()]),
                     'grad_lr': obj.syn_lr.grad.item()}
        print(f"  [{a.memory}/{a.precision}/{a.norm} norm] iteration {it}: {dt:.2f} s wall, {dc:.2f} s CPU  loss {loss.item():.5f}", flush=True)
    torch.save(first, a.grads)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # KiB → GiB
    print('RESULT ' + json.dumps({'memory': a.memory, 'precision': a.precision, 'allocator': a.allocator, 'norm': a.norm, 's_per_it': min(times), 's_per_it_all': times, 'cpu_s_per_it': min(cpus), 'cpu_s_per_it_over_threads': min(cpus) / a.threads,
                                   'peak_rss_gb': peak, 'rss_after_setup_gb': rss0, 'loss0': first['loss']}), flush=True)


def profile(a):
    "Profile one full-memory iteration and print the top operators by self CPU time."
    import torch
    torch.set_num_threads(a.threads)
    from haba_nb.basis import FactorizedSet
    from haba_nb.objectives import get_objective
    real = _fake_cifar10()
    param = FactorizedSet.from_real(real, a.bpc, n_hallucinators=a.hallucinators, generator=torch.Generator().manual_seed(0))
    obj = get_objective('mtt', real, ipc=10, expert_dir=a.traj, memory=a.memory, batch_syn=a.batch_syn,
                        syn_steps=a.profile_steps, width=a.width, generator=torch.Generator().manual_seed(0))
    obj.loss(param, real, 0).backward()
    from torch.profiler import profile as prof, ProfilerActivity
    with prof(activities=[ProfilerActivity.CPU]) as p:
        obj.loss(param, real, 1).backward()
    print(p.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--iters', type=int, default=2, help='timed iterations per mode')
    add_common_args(ap, rounds=1, rounds_help='repeat every mode this many times, alternating (a fresh process each); timings pooled')
    ap.add_argument('--warmup', type=int, default=0, help='untimed iterations first (one iteration is tens of seconds, so start-up costs are negligible)')
    ap.add_argument('--bpc', type=int, default=10, help='bases per class (10: the reference run at ipc 10; 9: the budget-matched BPC)')
    ap.add_argument('--hallucinators', type=int, default=5)
    ap.add_argument('--syn-steps', default='30', help='comma list: each value runs every mode (in its own process)')
    ap.add_argument('--batch-syn', type=int, default=100)
    ap.add_argument('--width', type=int, default=128)
    add_common_args(ap, threads=2)
    ap.add_argument('--modes', default='adjoint,full', help="comma list of MTTConfig.memory values ('full', 'checkpoint', 'adjoint')")
    ap.add_argument('--reference', action=argparse.BooleanOptionalAction, default=True,
                    help="also run the reference-like process (memory='full' under glibc's malloc) for same-day ratios")
    ap.add_argument('--precisions', default='fp32', help="comma list of MTTConfig.precision values ('fp32', 'bf16')")
    ap.add_argument('--precision', default='fp32', help=argparse.SUPPRESS)
    ap.add_argument('--allocators', default='tuned', help="comma list: 'tuned' (haba_nb's default on CPU) and/or 'system' (glibc's defaults)")
    ap.add_argument('--allocator', default='tuned', help=argparse.SUPPRESS)
    ap.add_argument('--norms', default='all', help="comma list of which layers are differentiated by hand: 'all' (the default: "
                    "instance norm, ReLU, 2x2 average pooling and convolutions; MTTConfig.analytic_norm + analytic_relu_pool + analytic_conv), "
                    "'noconv' (all but the convolutions), 'analytic' (the norm only) and/or 'native' (PyTorch's ops). "
                    "The reference-like run is always native")
    ap.add_argument('--norm', default='all', help=argparse.SUPPRESS)
    add_common_args(ap, out=HERE / 'results' / 'bench_mtt.json')
    ap.add_argument('--profile', action='store_true'); ap.add_argument('--profile-steps', type=int, default=5)
    ap.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--memory', default='full', help=argparse.SUPPRESS)
    ap.add_argument('--traj', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--grads', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    steps_list = [int(v) for v in str(a.syn_steps).split(',')]
    if a.worker or a.profile: a.syn_steps = steps_list[0]
    if a.worker: return worker(a)
    with tempfile.TemporaryDirectory() as d:
        real = _fake_cifar10(1)
        a.traj = str(Path(d) / 'traj')
        _fake_trajectories(real, Path(a.traj), epochs=22, width=a.width)
        if a.profile: return profile(a)
        rows = {}
        runs = [(n, al, m, p, nm) for n in steps_list for al in a.allocators.split(',') for p in a.precisions.split(',')
                for m in a.modes.split(',') for nm in a.norms.split(',')]
        if a.reference: runs += [(n, 'system', 'full', 'fp32', 'native') for n in steps_list if (n, 'system', 'full', 'fp32', 'native') not in runs]
        for rnd, (steps, alloc, mode, prec, norm) in [(r, run) for r in range(a.rounds) for run in runs]:   # rounds alternate the modes
            ref_like = alloc == 'system' and mode == 'full'   # unlabelled: native for the reference-like run, 'all' for the others
            layers = ({'native': None, 'analytic': 'analytic-norm', 'noconv': 'analytic-layers-no-conv', 'all': 'analytic-layers'} if ref_like else
                      {'native': 'native-norm', 'analytic': 'analytic-norm-only', 'noconv': 'no-analytic-conv', 'all': None})[norm]
            key = '/'.join([mode] + ([prec] if prec != 'fp32' else []) + (['system-malloc'] if alloc == 'system' else [])
                           + ([layers] if layers else []) + ([f'steps{steps}'] if len(steps_list) > 1 else []))
            gpath = str(Path(d) / f'grads_{mode}_{prec}_{alloc}_{norm}_{steps}.pt')
            cmd = [sys.executable, __file__, '--worker', '--memory', mode, '--precision', prec, '--allocator', alloc, '--norm', norm,
                   '--traj', a.traj, '--grads', gpath,
                   '--iters', str(a.iters), '--warmup', str(a.warmup), '--bpc', str(a.bpc), '--hallucinators', str(a.hallucinators),
                   '--syn-steps', str(steps), '--batch-syn', str(a.batch_syn), '--width', str(a.width),
                   '--threads', str(a.threads)]
            print(f"running memory={mode} precision={prec} allocator={alloc} norm={norm} syn_steps={steps} in a subprocess (round {rnd + 1}/{a.rounds}) ...", flush=True)
            rc, stdout, stderr, ru = _run_measured(cmd, Path(d))
            sys.stdout.write(''.join(l + '\n' for l in stdout.splitlines() if not l.startswith('RESULT ')))
            if rc: sys.exit(f"worker failed:\n{stderr[-3000:]}")
            r = json.loads(next(l for l in stdout.splitlines() if l.startswith('RESULT '))[7:])
            r.update(grads=gpath, syn_steps=steps, peak_rss_gb_wait4=ru.ru_maxrss / 2**20)
            if key in rows:   # a later round: pool the timed iterations, keep the worst peak memory
                old_r = rows[key]
                r['s_per_it_all'] = old_r['s_per_it_all'] + r['s_per_it_all']
                r['s_per_it'], r['cpu_s_per_it'] = min(old_r['s_per_it'], r['s_per_it']), min(old_r['cpu_s_per_it'], r['cpu_s_per_it'])
                r['cpu_s_per_it_over_threads'] = r['cpu_s_per_it'] / a.threads
                for k in ('peak_rss_gb', 'peak_rss_gb_wait4'): r[k] = max(old_r[k], r[k])
            r['s_per_it_median'] = median(r['s_per_it_all'])
            rows[key] = r
        import torch
        cmp, cmp16 = {}, {}
        cos = lambda a_, b_: float(torch.nn.functional.cosine_similarity(a_.flatten(), b_.flatten(), 0))
        rel = lambda a_, b_: float((a_ - b_).norm() / (a_.norm() + 1e-30))
        if {'full', 'full/bf16'} <= set(rows):
            g32, g16 = torch.load(rows['full']['grads'], weights_only=True), torch.load(rows['full/bf16']['grads'], weights_only=True)
            cmp16 = {'loss_fp32': g32['loss'], 'loss_bf16': g16['loss'],
                     'grad_bases_cos': cos(g32['grad_bases'], g16['grad_bases']), 'grad_bases_rel_diff': rel(g32['grad_bases'], g16['grad_bases']),
                     'grad_bank_cos': cos(g32['grad_bank'], g16['grad_bank']), 'grad_bank_rel_diff': rel(g32['grad_bank'], g16['grad_bank']),
                     'grad_syn_lr_fp32': g32['grad_lr'], 'grad_syn_lr_bf16': g16['grad_lr']}
        for k, r in rows.items():     # every low-memory mode against memory='full' on the same draw (same steps, precision, allocator)
            kf = '/'.join(['full', *k.split('/')[1:]])
            if r['memory'] == 'full' or kf not in rows: continue
            gf, gc = torch.load(rows[kf]['grads'], weights_only=True), torch.load(r['grads'], weights_only=True)
            cmp[k] = {'loss_full': gf['loss'], f"loss_{r['memory']}": gc['loss'], 'loss_rel_diff': abs(gf['loss'] - gc['loss']) / abs(gf['loss']),
                      'grad_bases_rel_diff': rel(gf['grad_bases'], gc['grad_bases']),
                      'grad_bank_rel_diff': rel(gf['grad_bank'], gc['grad_bank']),
                      'grad_syn_lr_rel_diff': abs(gf['grad_lr'] - gc['grad_lr']) / (abs(gf['grad_lr']) + 1e-30)}
        cmp_alloc = {}
        for k in [k for k in rows if k.endswith('/system-malloc')]:
            if k[:-len('/system-malloc')] in rows:
                t, sy = rows[k[:-len('/system-malloc')]], rows[k]
                gt, gs = torch.load(t['grads'], weights_only=True), torch.load(sy['grads'], weights_only=True)
                cmp_alloc[k[:-len('/system-malloc')]] = {'speedup_tuned_over_system': sy['s_per_it'] / t['s_per_it'],
                                                         'peak_rss_ratio_tuned_over_system': t['peak_rss_gb'] / sy['peak_rss_gb'],
                                                         'grad_bases_rel_diff': rel(gt['grad_bases'], gs['grad_bases']), 'loss_abs_diff': abs(gt['loss'] - gs['loss'])}
        for r in rows.values(): r.pop('grads')
    print(f"\nMTT+HaBa, CIFAR10 shapes, ConvNet-{a.width}, IPC 10 as {a.bpc} bases/class x {a.hallucinators} hallucinators, "
          f"syn_steps {a.syn_steps}, batch_syn {a.batch_syn}, ZCA, DSA, {a.threads} CPU threads "
          f"(load average now {os.getloadavg()[0]:.1f}: other jobs share these cores)")
    if steps_list != [30]:
        print(f"NOTE: syn_steps {a.syn_steps}; s/it scaled to syn_steps 30 in the '@30 steps' columns (time is linear in syn_steps)")
    for r in rows.values():
        r['s_per_it_at_30_steps'] = r['s_per_it'] * 30 / r['syn_steps']
        r['cpu_over_threads_at_30_steps'] = r['cpu_s_per_it_over_threads'] * 30 / r['syn_steps']
    print("'CPU/thr' = process CPU seconds / threads: what the wall time would be on idle cores with perfect 2-thread scaling")
    print("'peak RSS GB' = the worker's ru_maxrss; 'wait4 GB' = the whole process's, from os.wait4 in this parent")
    same_day = {r['syn_steps']: r for r in rows.values() if r['memory'] == 'full' and r['allocator'] == 'system' and r['precision'] == 'fp32' and r['norm'] == 'native'}
    print("'same-day' = the reference-like row (memory=full, glibc malloc) of this run at the same syn_steps: its time / this row's, this row's peak RSS / its")
    print(f"{'memory[/precision][/allocator][/steps]':<40}{'wall s/it':>10}{'@30 steps':>10}{'ref/wall':>9}{'CPU/thr':>9}{'@30 steps':>10}{'ref/CPU':>9}{'peak RSS GB':>13}{'wait4 GB':>10}{'vs ref 12.8':>13}{'same-day speed':>16}{'same-day RSS':>14}")
    for m, r in rows.items():
        sd = same_day.get(r['syn_steps'])
        if sd:
            r['same_day_speedup'], r['same_day_rss_ratio'] = sd['s_per_it'] / r['s_per_it'], r['peak_rss_gb_wait4'] / sd['peak_rss_gb_wait4']
            r['same_day_speedup_median'] = sd['s_per_it_median'] / r['s_per_it_median']
        tail = f"{r['same_day_speedup']:>15.2f}x{r['same_day_rss_ratio']:>13.2f}x" if sd else f"{'–':>16}{'–':>14}"
        print(f"{m:<40}{r['s_per_it']:>10.2f}{r['s_per_it_at_30_steps']:>10.2f}{REF_S / r['s_per_it_at_30_steps']:>8.2f}x{r['cpu_s_per_it_over_threads']:>9.2f}"
              f"{r['cpu_over_threads_at_30_steps']:>10.2f}{REF_S / r['cpu_over_threads_at_30_steps']:>8.2f}x{r['peak_rss_gb']:>13.2f}{r['peak_rss_gb_wait4']:>10.2f}{r['peak_rss_gb'] / REF_GB:>12.2f}x" + tail)
    by_steps = {}
    for r in rows.values(): by_steps.setdefault((r['memory'], r['precision'], r['allocator']), {})[r['syn_steps']] = r['peak_rss_gb_wait4']
    if len(steps_list) > 1:
        print('peak RSS (GB, whole process) against syn_steps ' + ' / '.join(map(str, steps_list)) + ':')
        for (m, p_, al), v in by_steps.items(): print(f"  {m}/{p_}/{al}: " + ' / '.join(f"{v[n]:.2f}" for n in steps_list))
    print('every timed iteration (s), pooled over rounds; the speed columns above use the fastest, the medians:')
    for m, r in rows.items():
        print(f"  {m:<38} median {r['s_per_it_median']:.2f}" + (f" (same-day speed on medians {r['same_day_speedup_median']:.2f}x)" if 'same_day_speedup_median' in r else '')
              + ': ' + ' '.join(f"{t:.1f}" for t in r['s_per_it_all']))
    for k, c in cmp.items(): print(f'full vs {k} on the same draw: ' + ', '.join(f"{n} {v:.3g}" for n, v in c.items()))
    if cmp16: print('bf16 vs fp32 (memory=full) on the same draw: ' + ', '.join(f"{k} {v:.4g}" for k, v in cmp16.items()))
    for m, c in cmp_alloc.items(): print(f'{m}: tuned vs system malloc, side by side: ' + ', '.join(f"{k} {v:.3g}" for k, v in c.items()))
    res = {'bench': 'mtt', 'config': {k: getattr(a, k) for k in ('iters', 'rounds', 'warmup', 'bpc', 'hallucinators', 'syn_steps', 'batch_syn', 'width', 'threads', 'allocators', 'modes', 'norms', 'reference')},
           'reference': {'s_per_it': REF_S, 'peak_rss_gb': REF_GB}, 'targets': {'full_s_per_it': REF_S / 1.5, 'checkpoint_peak_rss_gb': REF_GB / 3},
           'rows': rows, 'full_vs_other_modes': cmp,
           'peak_rss_gb_wait4_by_syn_steps': {'/'.join(k): v for k, v in by_steps.items()}, 'bf16_vs_fp32': cmp16, 'tuned_vs_system_malloc': cmp_alloc, 'command': command(), 'loadavg_1min': os.getloadavg()[0], 'time': time.strftime('%Y-%m-%d %H:%M:%S')}
    save_json(a.out, res)
    print(f"saved {a.out}")


if __name__ == '__main__':
    main()
