"MTT's memory='adjoint' unroll: the same loss and the same gradient, every parameter group, as the full unroll."
import pytest, torch
from haba_nb.data import load_dataset
from haba_nb.basis import PlainImages, FactorizedSet
from haba_nb.networks import get_network, flatten_params
from haba_nb.mtt import unroll_student, student_plan, student_step, trajectory_loss

torch.set_num_threads(1)
TOL = 1e-9          # relative, per parameter group, in float64: float32 rounding alone differs by ~1e-4 between CPUs
STEPS = 5

@pytest.fixture(scope="module")
def setup():
    real = load_dataset("digits")                                   # 8×8, offline
    net = get_network("ConvNet", real.channels, real.num_classes, real.im_size, width=8, seed=0).train().double()
    theta0 = flatten_params(net).detach().clone()
    target = theta0 + 0.01 * torch.randn(theta0.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return real, net, theta0, target

def _param(real, kind):
    g = torch.Generator().manual_seed(0)
    return (PlainImages.from_real(real, 2, generator=g) if kind == "plain"
            else FactorizedSet.from_real(real, 2, n_hallucinators=3, generator=g)).double()

def _groups(param, syn_lr) -> dict:
    "Parameter groups as the loop steps them: images | bases, hallucinators; and syn_lr."
    out = {}
    for n, p in param.named_parameters(): out.setdefault(n.split(".")[0], []).append(p)
    return {**out, "syn_lr": [syn_lr]}

def _grad_of(loss_fn, param, how):
    "(loss, {group: flat gradient}) of one unroll, the gradient by `loss.backward()` or `torch.autograd.grad`."
    syn_lr = torch.tensor(0.05, dtype=torch.float64, requires_grad=True)
    groups = _groups(param, syn_lr)
    for ps in groups.values():
        for p in ps: p.grad = None
    loss = loss_fn(syn_lr)
    flat = [p for ps in groups.values() for p in ps]
    if how == "backward":
        loss.backward(); gs = [p.grad for p in flat]
    else: gs = torch.autograd.grad(loss, flat, allow_unused=True)
    gs = [torch.zeros_like(p) if g is None else g for p, g in zip(flat, gs)]
    it = iter(gs)
    return loss.item(), {k: torch.cat([next(it).reshape(-1) for _ in ps]) for k, ps in groups.items()}

def _unroll(setup, param, memory, hal_draw, plan):
    real, net, theta0, target = setup
    return lambda syn_lr: trajectory_loss(unroll_student(net, param, theta0, syn_lr, plan, memory=memory, hal_draw=hal_draw), theta0, target)

def _truncated(setup, param, hal_draw, plan):
    "A deliberately wrong unroll: the gradient flows through the last step only (truncated back-propagation)."
    real, net, theta0, target = setup
    def f(syn_lr):
        theta = theta0.clone().requires_grad_(True)
        for i, (idx, hs, ds) in enumerate(plan):
            if i == len(plan) - 1: theta = theta.detach().requires_grad_(True)
            theta = student_step(net, param, theta, syn_lr, idx, hs, ds, hal_draw=hal_draw)
        return trajectory_loss(theta, theta0, target)
    return f

def _rel(a, b) -> float: return float((a - b).norm() / b.norm())

CASES = [("plain", "image"), ("haba", "batch"), ("haba", "image")]

@pytest.mark.parametrize("kind,hal_draw", CASES)
@pytest.mark.parametrize("how", ["backward", "autograd.grad"])
def test_adjoint_equals_full(setup, kind, hal_draw, how):
    param = _param(setup[0], kind)
    plan = student_plan(len(param), STEPS, 8, torch.Generator().manual_seed(2), dsa_on=True)
    lf, gf = _grad_of(_unroll(setup, param, "full", hal_draw, plan), param, how)
    la, ga = _grad_of(_unroll(setup, param, "adjoint", hal_draw, plan), param, how)
    assert abs(la - lf) <= TOL * abs(lf)
    assert set(ga) == set(gf) == ({"images", "syn_lr"} if kind == "plain" else {"bases", "bank", "syn_lr"})
    errs = {k: _rel(ga[k], gf[k]) for k in gf}
    assert all(gf[k].norm() > 0 for k in gf)
    assert max(errs.values()) <= TOL, errs

@pytest.mark.parametrize("kind,hal_draw", CASES)
def test_comparison_catches_a_wrong_gradient(setup, kind, hal_draw):
    "The tolerance is tight enough to fail: a truncated unroll (same loss) is far off in every synthetic group."
    param = _param(setup[0], kind)
    plan = student_plan(len(param), STEPS, 8, torch.Generator().manual_seed(2), dsa_on=True)
    lf, gf = _grad_of(_unroll(setup, param, "full", hal_draw, plan), param, "autograd.grad")
    lt, gt = _grad_of(_truncated(setup, param, hal_draw, plan), param, "autograd.grad")
    assert abs(lt - lf) <= TOL * abs(lf)                      # the loss alone would not notice
    assert min(_rel(gt[k], gf[k]) for k in gf if k != "syn_lr") > 100 * TOL

def test_adjoint_retains_and_rejects(setup):
    "A retained graph can be differentiated twice (the notebook's checks do); a bad mode names the choices."
    param = _param(setup[0], "haba")
    plan = student_plan(len(param), 2, 8, torch.Generator().manual_seed(2))
    f = _unroll(setup, param, "adjoint", "batch", plan)
    loss = f(torch.tensor(0.05, dtype=torch.float64, requires_grad=True))
    g1 = torch.autograd.grad(loss, param.bases.basis, retain_graph=True)[0]
    g2 = torch.autograd.grad(loss, param.bases.basis)[0]
    assert torch.equal(g1, g2)
    with pytest.raises(Exception, match="full, checkpoint, adjoint"):
        _unroll(setup, param, "tiny", "batch", plan)(torch.tensor(0.05, dtype=torch.float64))
