"""The compiled evaluation step (`EvalConfig(compile=...)`, 04_evaluate) trains the same network as the eager one.

torch.compile really runs here (inductor, C++): the first compile of a process takes ~30-60 s, so this lives in
pytest, not in the notebook. Same seed, same batches and DSA draws: the trained weights agree to float rounding.
"""
import dataclasses

import pytest
import torch

from haba_nb.data import load_dataset
from haba_nb.evaluate import EvalConfig, train_and_evaluate, has_cxx_compiler

needs_cxx = pytest.mark.skipif(not has_cxx_compiler(),
                               reason="torch.compile on CPU needs a C++ compiler (g++/clang++); none on PATH")


@needs_cxx
def test_compiled_step_trains_the_same_network():
    torch.set_num_threads(1)
    digits = load_dataset('digits')
    g = torch.Generator().manual_seed(0)
    idx = torch.cat([c[torch.randperm(len(c), generator=g)[:10]] for c in digits.indices_class])
    real = (digits.x_train[idx], digits.y_train[idx])
    cfg = EvalConfig(epochs=3, width=16, depth=2, batch=50, device='cpu')     # 100 images: 2 batches of one shape
    eager = train_and_evaluate(real, digits, dataclasses.replace(cfg, compile='off'), seed=7)
    comp = train_and_evaluate(real, digits, dataclasses.replace(cfg, compile='on'), seed=7)
    assert comp['compiled'] and not eager['compiled']
    for (k, a), b in zip(eager['net'].state_dict().items(), comp['net'].state_dict().values()):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=lambda m: f"{k}: {m}")
    assert abs(comp['loss_train'] - eager['loss_train']) < 1e-4 * max(1.0, abs(eager['loss_train']))
