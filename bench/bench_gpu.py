"""Issue 18 on a GPU, as one prepared script for the device tool's short lease (random data: timing and memory do not
depend on the values). Three parts, each at CIFAR10 and TinyImageNet shapes:

  mtt    MTT + HaBa, one iteration = `TrajectoryMatching.loss` + `backward()` (the student unrolled `syn_steps` SGD steps
         on `batch_syn` hallucinated images, DSA, ZCA flag on), for memory='full' (the previous default) and 'adjoint'
         (the default): the FIRST iteration's seconds (cuDNN autotuning, allocator growth: what a user waits for first),
         the median of the timed ones, and peak GPU memory (`torch.cuda.max_memory_allocated`, reset before each mode);
         the adjoint's loss and gradients against full's on the same draw (relative difference). Then peak memory at
         syn_steps 10 / 30 / 80 for both modes at CIFAR10 shapes (flat for 'adjoint'?).
  bank   the hallucinator bank's `all_views` (every basis through every hallucinator) forward + backward, images/s,
         'grouped_cl' (the default) vs 'compiled' (TorchInductor / Triton; its compile is paid in the warm-up).
  eval   seconds per evaluation epoch of a HaBa set (every basis through a random hallucinator, DSA, ConvNet-128),
         `train_and_evaluate` with compile='off' vs 'on'.

Shapes: cifar10 = 3×32×32, 10 classes, ConvNet-128 depth 3, 10 bases per class × 5 hallucinators, syn_steps 30, batch_syn
100 (issue 18's CPU setting); tinyimagenet = 3×64×64, 200 classes, ConvNet-128 depth 4 (MTT's network for 64 px), 10 bases
per class × 5 hallucinators, syn_steps 20, batch_syn 100.

    python bench/bench_gpu.py --out bench/results/bench_gpu.json                 # on the GPU machine (a few minutes)
    .venv/bin/python bench/bench_gpu.py --device cpu --quick --out /tmp/gpu_smoke.json   # the same code on CPU, toy sizes

--quick shrinks everything (2 bases per class, width 16, syn_steps 3 / 3,5,8, 1 timed iteration, 2 epochs) to check the
script end to end; its numbers mean nothing. The JSON (--out; rewritten after every part, so a lease that runs out
keeps what finished): device, versions, settings, mtt / bank / eval (per shape: the rows above, the adjoint-vs-full
check, the speed-ups, peak_gb_vs_syn_steps) and 'meta' (commit, machine, date: bench/harness.py).
"""
from __future__ import annotations
import argparse, json, sys, tempfile, time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent)); sys.path.insert(0, str(HERE))
from bench_mtt import fake_real, _fake_trajectories
from haba_nb.basis import FactorizedSet
from haba_nb.core import versions
from haba_nb.evaluate import EvalConfig, train_and_evaluate
from haba_nb.objectives import get_objective
from harness import add_common_args, median, save_json, timed

SHAPES = {'cifar10': dict(depth=3, syn_steps=30), 'tinyimagenet': dict(depth=4, syn_steps=20)}


def _sync(device):
    if torch.device(device).type == 'cuda': torch.cuda.synchronize()


def _reset_peak(device):
    if torch.device(device).type == 'cuda': torch.cuda.synchronize(); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()


def _peak_gb(device) -> float | None:
    "Peak memory held by tensors since the last reset (GPU only; None on CPU, where bench_mtt.py measures RSS)."
    return torch.cuda.max_memory_allocated() / 2**30 if torch.device(device).type == 'cuda' else None


def _set(real, a, device, mode='grouped_cl'):
    "The same HaBa set for every mode (seeded): `bpc` bases per class × `hallucinators`, on `device`."
    torch.manual_seed(0)
    return FactorizedSet.from_real(real, a.bpc, n_hallucinators=a.hallucinators, bank_mode=mode, init='noise',
                                   generator=torch.Generator().manual_seed(0)).to(device)


def mtt_iterations(real, traj, a, device, memory, syn_steps, iters):
    "First-iteration and timed seconds, peak memory and iteration 0's loss and gradients for one memory mode."
    _reset_peak(device)
    param = _set(real, a, device)
    obj = get_objective('mtt', real, ipc=10, device=device, expert_dir=str(traj), memory=memory, batch_syn=a.batch_syn,
                        syn_steps=syn_steps, width=a.width, depth=SHAPES[real.name]['depth'],
                        generator=torch.Generator().manual_seed(0))
    times, first = [], None
    for it in range(1 + iters):
        for p in [*param.parameters(), *obj.parameters()]: p.grad = None
        _sync(device); t0 = time.perf_counter()
        loss = obj.loss(param, real, it); loss.backward()
        _sync(device); times.append(time.perf_counter() - t0)
        if it == 0:
            first = {'loss': loss.item(), 'bases': param.bases.basis.grad.detach().flatten().cpu(),
                     'bank': torch.cat([p.grad.reshape(-1) for p in param.bank.parameters()]).cpu(), 'syn_lr': obj.syn_lr.grad.item()}
    return dict(first_s=times[0], s_per_it=median(times[1:]) if iters else None, s_all=times[1:],
                peak_gb=_peak_gb(device)), first


def _rel(x, y) -> float:
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    return float((x - y).norm() / (x.norm() + 1e-30))


def part_mtt(name, a, device, out):
    real = fake_real(name, 1)
    with tempfile.TemporaryDirectory() as d:
        traj = Path(d) / 'traj'
        _fake_trajectories(real, traj, epochs=22, width=a.width, depth=SHAPES[name]['depth'])
        steps = 3 if a.quick else SHAPES[name]['syn_steps']
        rows, grads = {}, {}
        for memory in ('full', 'adjoint'):
            rows[memory], grads[memory] = mtt_iterations(real, traj, a, device, memory, steps, a.iters)
            r = rows[memory]
            print(f"  mtt {name} memory={memory}: first {r['first_s']:.2f} s, median {r['s_per_it'] or 0:.3f} s/it, "
                  f"peak {r['peak_gb'] if r['peak_gb'] is None else round(r['peak_gb'], 2)} GB", flush=True)
        f, g = grads['full'], grads['adjoint']
        check = {'loss_rel_diff': abs(f['loss'] - g['loss']) / abs(f['loss']), 'grad_bases_rel_diff': _rel(f['bases'], g['bases']),
                 'grad_bank_rel_diff': _rel(f['bank'], g['bank']), 'grad_syn_lr_rel_diff': abs(f['syn_lr'] - g['syn_lr']) / (abs(f['syn_lr']) + 1e-30)}
        res = dict(syn_steps=steps, rows=rows, adjoint_vs_full=check,
                   speedup_adjoint_over_full=rows['full']['s_per_it'] / rows['adjoint']['s_per_it'] if a.iters else None)
        if name == 'cifar10':   # peak memory against syn_steps (one iteration each)
            flat = {}
            for n in ((3, 5, 8) if a.quick else (10, 30, 80)):
                for memory in ('full', 'adjoint'):
                    flat.setdefault(memory, {})[n] = mtt_iterations(real, traj, a, device, memory, n, 0)[0]['peak_gb']
            res['peak_gb_vs_syn_steps'] = flat
            print(f"  mtt {name} peak GB vs syn_steps: {flat}", flush=True)
    out['mtt'][name] = res


def part_bank(name, a, device, out):
    real, res = fake_real(name, 1), {}
    for mode in ('grouped_cl', 'compiled'):
        param = _set(real, a, device, mode)
        bank = param.bank
        bases = torch.randn(len(param.labels), bank.in_channels, *bank.im_size, device=device, requires_grad=True)
        def step():
            y = bank.all_views(bases); y.square().mean().backward()
        t0 = time.perf_counter(); step(); _sync(device); warm_s = time.perf_counter() - t0
        s = median(timed(step, 5 if a.quick else 20, warmup=2, sync=lambda: _sync(device)))
        n = bases.shape[0] * bank.n
        res[mode] = dict(s_per_call=s, images_per_s=n / s, first_call_s=warm_s, images=n)
        print(f"  bank {name} {mode}: {n / s:,.0f} images/s (first call {warm_s:.1f} s)", flush=True)
    res['speedup_compiled_over_grouped_cl'] = res['grouped_cl']['s_per_call'] / res['compiled']['s_per_call']
    out['bank'][name] = res


def part_eval(name, a, device, out):
    real, res = fake_real(name, 1), {}
    param = _set(real, a, device).eval()
    epochs = 2 if a.quick else a.eval_epochs
    for compile_ in ('off', 'on'):
        cfg = EvalConfig(epochs=epochs, device=device, compile=compile_, width=a.width,
                         depth=SHAPES[name]['depth'])
        train_and_evaluate(param, real, cfg, seed=0)                          # warm-up (pays the compile)
        r = train_and_evaluate(param, real, cfg, seed=1)
        res[compile_] = dict(s_per_epoch=r['seconds'] / epochs, compiled=r['compiled'])
        print(f"  eval {name} compile={compile_}: {r['seconds'] / epochs * 1000:.1f} ms/epoch", flush=True)
    res['speedup_compiled'] = res['off']['s_per_epoch'] / res['on']['s_per_epoch']
    out['eval'][name] = res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--shapes', default='cifar10,tinyimagenet')
    ap.add_argument('--parts', default='mtt,bank,eval')
    ap.add_argument('--iters', type=int, default=5, help='timed MTT iterations after the first')
    ap.add_argument('--eval-epochs', type=int, default=50)
    ap.add_argument('--quick', action='store_true', help='toy sizes: checks the script, numbers mean nothing')
    add_common_args(ap, out=HERE / 'results' / 'bench_gpu.json')
    a = ap.parse_args()
    if torch.device(a.device).type == 'cuda' and not torch.cuda.is_available():
        sys.exit("--device cuda: no CUDA device here; run on the GPU machine, or check the script with --device cpu --quick")
    a.bpc, a.hallucinators, a.batch_syn, a.width = (2, 2, 8, 16) if a.quick else (10, 5, 100, 128)
    if a.quick: a.iters = min(a.iters, 1)
    out = dict(device=torch.cuda.get_device_name() if torch.device(a.device).type == 'cuda' else 'cpu', versions=versions(),
               settings={k: v for k, v in vars(a).items() if k != 'out'}, mtt={}, bank={}, eval={})
    parts = {'mtt': part_mtt, 'bank': part_bank, 'eval': part_eval}
    for part in a.parts.split(','):
        for name in a.shapes.split(','):
            print(f"{part} at {name} shapes ...", flush=True)
            parts[part](name, a, a.device, out)
            save_json(a.out, out)    # after every part: a lease that runs out keeps what finished
    print(json.dumps({k: out[k] for k in ('mtt', 'bank', 'eval')}, indent=1, default=str)[:6000])


if __name__ == '__main__':
    main()
