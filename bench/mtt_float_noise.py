"""How far MTT's gradient moves under float rounding alone, beside how far memory='adjoint' is from memory='full'.

The unrolled student amplifies rounding, so "the same gradient up to float error" needs a yardstick at the
real shape: the gradient of 'full' on 1 thread against 'full' on 2 threads (other reduction order, the same
maths), and 'adjoint' on 1 and 2 threads against the same reference. CIFAR10 shapes with random data
(`bench_mtt.py`'s fakes): IPC 10, 5 hallucinators, batch_syn 100, ConvNet of --width, --steps student steps.

    .venv/bin/python bench/mtt_float_noise.py --steps 10 --width 128     # ~3 min, ~7 GB for 'full'

`--float64 --draws 3`: the yardstick is the exact gradient instead — memory='adjoint' in float64 (the student network,
the synthetic set and the expert parameters in double) on each of --draws iterations' draws — and the rows are the
float32 default (instance norm, ReLU and pooling differentiated by hand: `analytic_norm`, `analytic_relu_pool`), the norm
alone, and PyTorch's own ops, 2 threads; the float64 run with PyTorch's ops is compared too (the hand-written layers are
exact, so it agrees to ~1e-15). Says whether a kernel change moves the float32 gradient further from the truth than
float rounding already does:

    .venv/bin/python bench/mtt_float_noise.py --float64 --draws 3 --out bench/results/mtt_float_noise_float64.json   # ~10 min
    .venv/bin/python bench/mtt_float_noise.py --steps 1 --width 8 --out /tmp/mtt_float_noise.json   # a check of the script

The JSON (--out, default bench/results/mtt_float_noise.json): steps, width, reference, rows (run -> relative difference
of loss, bases, bank, syn_lr; with --float64 run -> one relative distance per draw), command and 'meta' (commit,
machine, date: bench/harness.py).
"""
import argparse, sys, tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import add_common_args, command, md_header, md_row, save_json


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--width', type=int, default=128)
    ap.add_argument('--float64', action='store_true', help='compare float32 variants with the float64 gradient (see above)')
    ap.add_argument('--draws', type=int, default=3, help='--float64: iterations (draws) to compare on')
    add_common_args(ap, out=HERE / 'results' / 'mtt_float_noise.json')
    a = ap.parse_args()
    if a.float64: return against_float64(a)
    real, tdir = _setup(a)
    grads = lambda memory, threads: _grads(a, real, tdir, memory=memory, threads=threads)
    rel = lambda x, y: float((x - y).norm() / y.norm())
    ref, rows = grads('full', 1), {}
    for name, (m, t) in {'full, 2 threads': ('full', 2), 'adjoint, 1 thread': ('adjoint', 1), 'adjoint, 2 threads': ('adjoint', 2)}.items():
        g = grads(m, t)
        rows[name] = dict(loss=abs(g[0] - ref[0]) / abs(ref[0]), bases=rel(g[1], ref[1]), bank=rel(g[2], ref[2]), syn_lr=rel(g[3], ref[3]))
    print(f"\nrelative difference from memory='full' on 1 thread (syn_steps {a.steps}, width {a.width}):\n")
    print(md_header(['run', 'loss', 'bases', 'hallucinators', 'syn_lr']))
    for k, r in rows.items(): print(md_row([k, *(f"{r[c]:.1e}" for c in ('loss', 'bases', 'bank', 'syn_lr'))]))
    save_json(a.out, {'steps': a.steps, 'width': a.width, 'reference': "memory='full', 1 thread", 'rows': rows, 'command': command()})


VARIANTS = {'default (analytic norm, ReLU, pooling)': dict(analytic_norm=True, analytic_relu_pool=True),
            'analytic norm only': dict(analytic_norm=True, analytic_relu_pool=False),
            "PyTorch's ops": dict(analytic_norm=False, analytic_relu_pool=False)}


def _setup(a):
    "CIFAR10-shaped fake data and one fake expert (bench_mtt's), in a temporary folder."
    from bench_mtt import _fake_cifar10, _fake_trajectories
    real = _fake_cifar10(); tdir = Path(tempfile.mkdtemp()); _fake_trajectories(real, tdir, 25, a.width)
    return real, tdir


def _grads(a, real, tdir, memory='adjoint', threads=2, draw=0, dtype=None, **kw):
    "(loss, bases grad, hallucinator grads flat, syn_lr grad) of one MTT iteration on draw `draw`, in `dtype` (None: float32)."
    import torch
    from haba_nb.basis import FactorizedSet
    from haba_nb.objectives import get_objective
    torch.set_num_threads(threads); torch.manual_seed(0)
    param = FactorizedSet.from_real(real, 10, n_hallucinators=5, generator=torch.Generator().manual_seed(0))
    obj = get_objective('mtt', real, ipc=10, expert_dir=str(tdir), memory=memory, batch_syn=100, syn_steps=a.steps,
                        width=a.width, generator=torch.Generator().manual_seed(draw), **kw)
    if dtype is not None:   # the student, the set and the expert parameters in `dtype`
        param.to(dtype); obj.net.to(dtype)
        read = obj.expert_params
        obj.expert_params = lambda e, t: read(e, t).to(dtype)
    loss = obj.loss(param, real, 0); loss.backward()
    return (loss.item(), param.bases.basis.grad.clone(),
            torch.cat([p.grad.reshape(-1) for p in param.bank.parameters()]), obj.syn_lr.grad.clone())


def against_float64(a):
    "Each float32 variant's gradient against the float64 one, on --draws draws (see the module docstring)."
    import torch
    real, tdir = _setup(a)

    def grads(draw, dtype, **kw):
        _, gb, gh, _ = _grads(a, real, tdir, draw=draw, dtype=dtype, **kw)
        return torch.cat([gb.reshape(-1).double(), gh.double()])

    rel = lambda x, y: float((x - y).norm() / y.norm())
    rows = {k: [] for k in [*VARIANTS, "float64, PyTorch's ops"]}
    for draw in range(a.draws):
        truth = grads(draw, torch.float64)
        rows["float64, PyTorch's ops"].append(rel(grads(draw, torch.float64, **VARIANTS["PyTorch's ops"]), truth))
        for name, kw in VARIANTS.items(): rows[name].append(rel(grads(draw, torch.float32, **kw), truth))
        print(f"draw {draw}: " + ', '.join(f"{k} {v[-1]:.2e}" for k, v in rows.items()), flush=True)
    print(f"\nrelative distance of the gradient (bases and hallucinators) from the float64 one (adjoint, syn_steps {a.steps}, "
          f"width {a.width}, 2 threads), per draw:\n")
    print(md_header(['run', *(f"draw {d}" for d in range(a.draws))]))
    for k, v in rows.items(): print(md_row([k, *(f"{x:.1e}" for x in v)]))
    save_json(a.out, {'steps': a.steps, 'width': a.width, 'reference': "memory='adjoint' in float64", 'rows': rows, 'command': command()})


if __name__ == '__main__':
    main()
