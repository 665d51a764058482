"""How far MTT's gradient moves under float rounding alone, beside how far memory='adjoint' is from memory='full'.

The unrolled student amplifies rounding, so "the same gradient up to float error" needs a yardstick at the
real shape: the gradient of 'full' on 1 thread against 'full' on 2 threads (other reduction order, the same
maths), and 'adjoint' on 1 and 2 threads against the same reference. CIFAR10 shapes with random data
(`bench_mtt.py`'s fakes): IPC 10, 5 hallucinators, batch_syn 100, ConvNet of --width, --steps student steps.

    .venv/bin/python bench/mtt_float_noise.py --steps 10 --width 128     # ~3 min, ~7 GB for 'full'
"""
import argparse, json, sys, tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--width', type=int, default=128)
    ap.add_argument('--out', default=str(HERE / 'results' / 'mtt_float_noise.json'))
    a = ap.parse_args()
    import torch
    from bench_mtt import _fake_cifar10, _fake_trajectories
    from haba_nb.basis import FactorizedSet
    from haba_nb.core import atomic_write_json
    from haba_nb.objectives import get_objective
    real = _fake_cifar10(); tdir = Path(tempfile.mkdtemp()); _fake_trajectories(real, tdir, 25, a.width)

    def grads(memory, threads):
        torch.set_num_threads(threads); torch.manual_seed(0)
        param = FactorizedSet.from_real(real, 10, n_hallucinators=5, generator=torch.Generator().manual_seed(0))
        obj = get_objective('mtt', real, ipc=10, expert_dir=str(tdir), memory=memory, batch_syn=100, syn_steps=a.steps,
                            width=a.width, generator=torch.Generator().manual_seed(0))
        loss = obj.loss(param, real, 0); loss.backward()
        return (loss.item(), param.bases.basis.grad.clone(),
                torch.cat([p.grad.reshape(-1) for p in param.bank.parameters()]), obj.syn_lr.grad.clone())

    rel = lambda x, y: float((x - y).norm() / y.norm())
    ref, rows = grads('full', 1), {}
    for name, (m, t) in {'full, 2 threads': ('full', 2), 'adjoint, 1 thread': ('adjoint', 1), 'adjoint, 2 threads': ('adjoint', 2)}.items():
        g = grads(m, t)
        rows[name] = dict(loss=abs(g[0] - ref[0]) / abs(ref[0]), bases=rel(g[1], ref[1]), bank=rel(g[2], ref[2]), syn_lr=rel(g[3], ref[3]))
    print(f"\nrelative difference from memory='full' on 1 thread (syn_steps {a.steps}, width {a.width}):\n")
    print("| run | loss | bases | hallucinators | syn_lr |\n|---|---|---|---|---|")
    for k, r in rows.items(): print(f"| {k} | {r['loss']:.1e} | {r['bases']:.1e} | {r['bank']:.1e} | {r['syn_lr']:.1e} |")
    atomic_write_json(Path(a.out), {'steps': a.steps, 'width': a.width, 'reference': "memory='full', 1 thread", 'rows': rows,
                                    'command': ' '.join(['python'] + sys.argv)})


if __name__ == '__main__':
    main()
