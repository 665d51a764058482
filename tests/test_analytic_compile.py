"""Instance norm's double backward fused by torch.compile (`AnalyticInstanceNorm(compiled=True)`, 06_analytic) gives the
gradients of the eager hand-written one, inside an MTT student step (gradients w.r.t. θ and the images).

torch.compile really runs here (inductor, C++): a compile takes seconds, so this lives in pytest, not in the notebook.
"""

import pytest
import torch
import torch.nn.functional as F

from haba_nb import analytic
from haba_nb.analytic import analytic_layers, COMPILE_NORM_MIN_NUMEL
from haba_nb.networks import get_network, flatten_params, functional_forward
from haba_nb.mtt import norm_compiles
from haba_nb.evaluate import has_cxx_compiler

needs_cxx = pytest.mark.skipif(not has_cxx_compiler(),
                               reason="torch.compile on CPU needs a C++ compiler (g++/clang++); none on PATH")


def _student_step_grads(net, x, y, a):
    t, x = flatten_params(net).detach().requires_grad_(), x.clone().requires_grad_()
    g, = torch.autograd.grad(F.cross_entropy(functional_forward(net, t, x), y), t, create_graph=True)
    return torch.autograd.grad(t - 0.1 * g, [t, x], a)


@needs_cxx
def test_fused_norm_double_backward_gives_the_eager_gradients(monkeypatch):
    torch.set_num_threads(1)
    fused_calls = []
    real = analytic._fused_norm_double_backward
    monkeypatch.setattr(analytic, '_fused_norm_double_backward', lambda *a: fused_calls.append(a[1].shape) or real(*a))
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 3, 32, 32, generator=g), torch.arange(16) % 10     # first layer: 16×64×32×32 = 2^20 activations
    eager = analytic_layers(get_network('ConvNet', 3, 10, (32, 32), width=64, seed=0))
    fused = analytic_layers(get_network('ConvNet', 3, 10, (32, 32), width=64, seed=0), compile_norm=True)
    a = torch.randn(flatten_params(eager).numel(), generator=g) * 1e-2
    for u, v in zip(_student_step_grads(eager, x, y, a), _student_step_grads(fused, x, y, a)):
        assert (u - v).norm() / u.norm() < 1e-5, ((u - v).norm() / u.norm()).item()
    assert analytic._NORM_KERNEL['failed'] is None and analytic._NORM_KERNEL['fn'] is not None
    # only the activations at least COMPILE_NORM_MIN_NUMEL large went through the fused kernel: the first layer's
    assert fused_calls and all(s.numel() >= COMPILE_NORM_MIN_NUMEL for s in map(torch.Size, fused_calls))
    assert torch.Size([16, 64, 32, 32]) in fused_calls and torch.Size([16, 64, 16, 16]) not in fused_calls


def test_compile_norm_setting():
    assert norm_compiles('on', 'cpu') and not norm_compiles('off', 'cpu')
    assert not norm_compiles('auto', 'meta')                 # 'auto' compiles on CPU only
    assert norm_compiles('auto', 'cpu') == has_cxx_compiler()
    with pytest.raises(Exception, match="compile_norm"): norm_compiles('yes', 'cpu')
