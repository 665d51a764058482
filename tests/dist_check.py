"""Run under `torchrun --nproc_per_node 2`: each rank computes its class shard of DC/DSA/DM (plain and HaBa), the loss and the
synthetic gradients summed over ranks, and compares them with the whole loss computed in this one process. Rank 0 writes a JSON
report to argv[1]."""
import json, sys
import torch
from haba_nb.data import load_dataset
from haba_nb.basis import PlainImages, FactorizedSet
from haba_nb.objectives import get_objective
from haba_nb.distributed import init_from_env, shard_objective, sharded_step, is_main, leave

torch.set_num_threads(1)
rank, n = init_from_env()
real = load_dataset('digits')

def build(objective, kind, shard):
    g = torch.Generator().manual_seed(0)
    p = (PlainImages.from_real(real, 2, generator=g) if kind == 'plain'
         else FactorizedSet.from_real(real, 2, n_hallucinators=3, generator=g))
    o = get_objective(objective, real, ipc=2, generator=torch.Generator().manual_seed(7), width=16)
    if shard: shard_objective(o)
    return p, o

report = dict(rank=rank, world=n, cases={})
for objective in ('dm', 'dsa', 'dc'):
    for kind in ('plain', 'haba'):
        (p1, o1), (pn, on) = build(objective, kind, False), build(objective, kind, True)
        diffs = []
        for step in range(2):                                  # two iterations: the generators must stay in step
            for q in (*p1.parameters(), *pn.parameters()): q.grad = None
            l1 = o1.loss(p1, real, step); l1.backward()
            ln = sharded_step(on, pn, real, step, list(pn.parameters()))
            g1 = torch.cat([q.grad.reshape(-1) for q in p1.parameters()])
            gn = torch.cat([q.grad.reshape(-1) for q in pn.parameters()])
            diffs.append(dict(loss_one=float(l1.detach()), loss_ranks=float(ln), grad_max_abs=float((g1 - gn).abs().max()),
                              grad_scale=float(g1.abs().max()), gen_equal=bool(torch.equal(o1.gen.get_state(), on.gen.get_state())),
                              classes=list(on.classes or [])))
            with torch.no_grad():                                  # the same update on both, as the loop's optimiser would
                for a, b in zip(p1.parameters(), pn.parameters()): a -= 0.01 * a.grad; b -= 0.01 * b.grad
            o1.after_step(p1, real, step); on.after_step(pn, real, step)
        report['cases'][f'{objective}-{kind}'] = diffs
if is_main():
    with open(sys.argv[1], 'w') as f: json.dump(report, f)
leave(sync=True)                                               # every rank gets here; destroy the group before exit
