"""Instance norm for MTT's student: forward, backward with create_graph, and the double backward, side by side.

MTT differentiates through the student's SGD steps, so every instance norm of ConvNet (`nn.GroupNorm(C, C)`)
is differentiated twice, and its double backward is a large share of an iteration (issue 18; results/NOTES.md, bench).
This times exact formulations of the same function on ConvNet-128's shapes (batch 100, 128 channels, 32×32
after the first conv, 16×16 after the second), in one process, interleaved, and prints RATIOS to GroupNorm:

  group_norm     F.group_norm(x, C, w, b)          what ConvNet's nn.GroupNorm(C, C) runs (the reference)
  instance_norm  F.instance_norm(x, weight=w, bias=b)
  composite      mean/var by x.mean and x.var (primitive ops, each with its own derivative formulas)
  centered       xc = x − mean; xc · rsqrt(mean(xc²) + eps) · w + b (one centring shared by var and output)
  var_mean       torch.var_mean, then (x − mean) · rsqrt(var + eps) · w + b
  hand_backward  group_norm's forward kernel, a backward written in primitive ops (autograd differentiates it twice)

Phases, on y = norm(x; w, b) with x, w, b and the upstream gradient gy all requiring grad (as in the unroll,
where gy depends on θ through the later layers):
  forward   y
  backward  (dx, dw, db) = ∂(y·gy)/∂(x, w, b) with create_graph=True
  double    ∂(dx·vx + dw·vw + db·vb)/∂(x, w, b, gy)   (the reverse pass of the unroll)
Agreement: every output of every phase against float64 group_norm (max relative error per tensor).

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_norm.py                # 1 thread, 7 repeats, distill's tuned allocator
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_norm.py --allocator system --out /tmp/bench_norm_system.json
    .venv/bin/python bench/bench_norm.py --threads 2 --reps 11 --out bench/results/bench_norm_idle.json

    .venv/bin/python bench/bench_norm.py --batch 4 --channels 8 --sizes 8 --reps 1 --out /tmp/bench_norm.json   # a check

Only ratios are meaningful when other jobs share the cores (the JSON records the load average). The JSON (--out, default
bench/results/bench_norm.json): bench, config, loadavg_1min_start / _end, shapes (per shape: max_rel_err_vs_float64_group_norm,
speedup_vs_group_norm and median_s per formulation and phase), note, command, time and 'meta' (commit, machine, date:
bench/harness.py). Measurements: results/README.md, "Instance norm formulations (bench_norm.py)".
"""
from __future__ import annotations
import argparse, os, time
from pathlib import Path

import torch
import torch.nn.functional as F
from harness import add_common_args, command, interleave, median, save_json

HERE = Path(__file__).resolve().parent
EPS = 1e-5   # nn.GroupNorm's default, what ConvNet uses


def _affine(z, w, b): return z * w[None, :, None, None] + b[None, :, None, None]

def composite(x, w, b):
    m = x.mean((2, 3), keepdim=True); v = x.var((2, 3), unbiased=False, keepdim=True)
    return _affine((x - m) / torch.sqrt(v + EPS), w, b)

def centered(x, w, b):
    xc = x - x.mean((2, 3), keepdim=True)
    return _affine(xc * torch.rsqrt((xc * xc).mean((2, 3), keepdim=True) + EPS), w, b)

def var_mean(x, w, b):
    v, m = torch.var_mean(x, (2, 3), unbiased=False, keepdim=True)
    return _affine((x - m) * torch.rsqrt(v + EPS), w, b)

class _HandBackward(torch.autograd.Function):
    "group_norm's forward kernel; a backward written in primitive ops, so that autograd differentiates it (the double backward)."
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return F.group_norm(x, x.shape[1], w, b, EPS)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        v, m = torch.var_mean(x, (2, 3), unbiased=False, keepdim=True)
        rstd = torch.rsqrt(v + EPS); xhat = (x - m) * rstd
        gx = gy * w[None, :, None, None]
        dx = rstd * (gx - gx.mean((2, 3), keepdim=True) - xhat * (gx * xhat).mean((2, 3), keepdim=True))
        return dx, (gy * xhat).sum((0, 2, 3)), gy.sum((0, 2, 3))

NORMS = {'group_norm': lambda x, w, b: F.group_norm(x, x.shape[1], w, b, EPS),
         'instance_norm': lambda x, w, b: F.instance_norm(x, weight=w, bias=b, use_input_stats=True, eps=EPS),
         'composite': composite, 'centered': centered, 'var_mean': var_mean, 'hand_backward': _HandBackward.apply}


def inputs(shape, dtype=torch.float32, seed=0):
    "x, w, b, gy (requiring grad) and the double-backward directions vx, vw, vb."
    g = torch.Generator().manual_seed(seed)
    B, C, H, W = shape
    r = lambda *s, scale=1.: (scale * torch.randn(*s, generator=g)).to(dtype)
    x = (r(B, C, H, W) * 2 + 0.5)      # conv outputs are neither centred nor unit-scale
    leaves = [x, 1 + r(C, scale=0.1), r(C, scale=0.1), r(B, C, H, W)]
    return [t.requires_grad_(True) for t in leaves], [r(B, C, H, W), r(C), r(C)]


def run(fn, leaves, dirs, timed=False):
    "The three phases; returns their outputs and (when timed) their seconds."
    x, w, b, gy = leaves
    t0 = time.perf_counter()
    y = fn(x, w, b)
    t1 = time.perf_counter()
    dx, dw, db = torch.autograd.grad(y, (x, w, b), gy, create_graph=True)
    t2 = time.perf_counter()
    s = (dx * dirs[0]).sum() + (dw * dirs[1]).sum() + (db * dirs[2]).sum()
    second = torch.autograd.grad(s, (x, w, b, gy), allow_unused=True)   # b: no first derivative depends on it
    second = [torch.zeros_like(l) if g is None else g for l, g in zip(leaves, second)]
    t3 = time.perf_counter()
    outs = {'y': y, 'dx': dx, 'dw': dw, 'db': db, **{f'dd_{n}': t for n, t in zip(('x', 'w', 'b', 'gy'), second)}}
    return {k: v.detach() for k, v in outs.items()}, (t1 - t0, t2 - t1, t3 - t2)


def agreement(shape) -> dict:
    "Max relative error (‖a − ref‖ / ‖ref‖ per output, the worst one) of each float32 formulation against float64 group_norm."
    l64, d64 = inputs(shape, torch.float64)
    ref, _ = run(NORMS['group_norm'], l64, d64)
    l32, d32 = inputs(shape)
    out = {}
    for n, fn in NORMS.items():
        got, _ = run(fn, l32, d32)
        out[n] = max(float((got[k].double() - ref[k]).norm() / ref[k].norm()) for k in ref if ref[k].norm() > 0)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--channels', type=int, default=128)
    ap.add_argument('--sizes', default='32,16', help='comma list of spatial sizes')
    ap.add_argument('--reps', type=int, default=7, help='timed repeats per formulation (interleaved; the median is kept)')
    add_common_args(ap, threads=1)
    ap.add_argument('--norms', default=','.join(NORMS))
    ap.add_argument('--allocator', default='tuned', help="'tuned' (what distill runs under on CPU, haba_nb.core.tune_cpu_allocator) or 'system' (glibc's)")
    add_common_args(ap, out=HERE / 'results' / 'bench_norm.json')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from haba_nb.core import tune_cpu_allocator
    tune_cpu_allocator(a.allocator == 'tuned')
    names = a.norms.split(',')
    res = {'bench': 'norm', 'config': vars(a), 'loadavg_1min_start': os.getloadavg()[0], 'shapes': {}}
    for size in map(int, a.sizes.split(',')):
        shape = (a.batch, a.channels, size, size)
        err = agreement(shape)
        leaves, dirs = inputs(shape)
        # one warm-up round, then --reps rounds, the formulations interleaved; each call returns its phases' seconds
        times = interleave({n: (lambda _, fn=NORMS[n]: run(fn, leaves, dirs, timed=True)[1]) for n in names}, a.reps, warmup=1,
                           own_clock=True)
        med = {n: [median(t[i] for t in ts) for i in range(3)] for n, ts in times.items()}
        for n in med: med[n].append(median(sum(t) for t in times[n]))
        base = med['group_norm'] if 'group_norm' in med else med[names[0]]
        ratios = {n: {ph: base[i] / m[i] for i, ph in enumerate(('forward', 'backward', 'double', 'total'))} for n, m in med.items()}
        res['shapes'][str(shape)] = {'max_rel_err_vs_float64_group_norm': err, 'speedup_vs_group_norm': ratios,
                                     'median_s': {n: dict(zip(('forward', 'backward', 'double', 'total'), m)) for n, m in med.items()}}
        print(f"\nshape {shape}: speed-up over F.group_norm (>1 = faster), median of {a.reps}; max rel error vs float64")
        print(f"{'formulation':<16}{'forward':>9}{'backward':>10}{'double':>9}{'total':>9}{'rel err':>11}")
        for n, r in ratios.items():
            print(f"{n:<16}{r['forward']:>8.2f}x{r['backward']:>9.2f}x{r['double']:>8.2f}x{r['total']:>8.2f}x{err[n]:>11.1e}")
    res['loadavg_1min_end'] = os.getloadavg()[0]
    res['note'] = ('ratios only: measured with other jobs on the cores (load averages recorded); absolute seconds in median_s '
                   'are for comparison within this run')
    res['command'] = command(); res['time'] = time.strftime('%Y-%m-%d %H:%M:%S')
    print(f"\nload average {res['loadavg_1min_start']:.1f} → {res['loadavg_1min_end']:.1f}: other jobs share these cores; ratios only")
    save_json(a.out, res)
    print(f"saved {a.out}")


if __name__ == '__main__':
    main()
