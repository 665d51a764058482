"""HaBa learns on the embedded digits at the quick tier (issue 38): every objective + HaBa ends well above chance and
not far below its plain baseline at equal storage (ipc 10: 9 bases per class + 5 hallucinators store no more than 10
images per class). Scored on the validation split, as every choice in this project is.

Thresholds come from the measured spread (bench/haba_optimisation.py, 2 sets x 3 evaluation seeds per cell): one set's
accuracy varies by +-3 to 4 points run to run, plain and HaBa land at 79-84 %. Before the fix (hallucinators on the image
SGD, the frame hallucinated) DSA + HaBa scored 35 %, DC + HaBa 17-41 %: both assertions below failed.
At ipc 2 HaBa keeps one basis a class; MTT + HaBa there scored 16.4 % with its views at 4.6x the real images' std
until MTT's image lr on digits was calibrated on validation (objectives.MTT_LR_CALIBRATION), and some seeds left the
scale until spike_clip guarded from the 4th iteration (results/NOTES.md, "Spike guard")."""
import statistics, tempfile
from pathlib import Path
import pytest, torch
from haba_nb.data import load_dataset
from haba_nb.distill import distill
from haba_nb.evaluate import evaluate_synset
from haba_nb.experiment import experiment_config, distill_config, evaluation_config, resolve_experts, storage_summary

CHANCE = 10.0

@pytest.fixture(scope='module')
def digits():
    real = load_dataset('digits'); return real, *real.split_validation(None, seed=0)

def _score(digits, objective, parameterisation, tmp, ipc=10, seed=0):
    "Validation accuracy (mean of 2 evaluation seeds) of one quick-tier set, its stored floats / the budget's, its std / the data's."
    real, pool, val = digits
    c = experiment_config(objective=objective, parameterisation=parameterisation, ipc=ipc, seed=seed, tier='quick',
                          out_dir=str(tmp/f'{objective}-{parameterisation}'), train_experts=objective == 'mtt', n_eval=2)
    cfg = distill_config(c, Path(c.out_dir)/'distill', resolve_experts(c, pool, progress=False)); cfg.progress = False
    d = distill(cfg, real=real)
    s = storage_summary(d.param, real, ipc=ipc)
    r = evaluate_synset(d.param, val, evaluation_config(c), n_seeds=2, lr=d.syn_lr, seed=1000)
    with torch.no_grad(): std = float(d.param.materialize()[0].std() / pool.x_train.std())
    return r['mean'], s['stored_floats'] / s['budget_floats'], std

@pytest.mark.parametrize('objective', ['dc', 'dsa', 'dm', 'mtt'])
def test_haba_learns_on_digits(objective, digits, tmp_path, monkeypatch):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path/'cache'))   # MTT's quick experts: trained here, not taken from a user cache
    torch.set_num_threads(1)
    plain, _, _ = _score(digits, objective, 'plain', tmp_path)
    haba, floats, _ = _score(digits, objective, 'haba', tmp_path)
    assert floats <= 1.0, f"{objective} + HaBa stores {floats:.2f}x the ipc budget: not equal storage"
    assert haba >= 5 * CHANCE, f"{objective} + HaBa at {haba:.1f} % is near chance ({CHANCE:.0f} %)"
    assert haba >= plain - 10, f"{objective} + HaBa at {haba:.1f} % is far below plain {objective} at {plain:.1f} %"

def test_mtt_haba_with_one_basis_a_class(digits, tmp_path, monkeypatch):
    """ipc 2 buys HaBa one basis a class: MTT's larger per-image step there must keep the views at the data's scale, on
    every one of 6 distillation seeds. Which seeds an early gradient spike throws off depends on float rounding (CPU
    kernels): with spike_clip waiting for 10 norms, 3-4 of 16 seeds left the scale on either kernel set (max 9x, as low
    as 5 %); guarding from 3 norms, none of 32 went above 1.14x (bench/spike_warmup.py)."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path/'cache'))
    torch.set_num_threads(1)
    runs = [_score(digits, 'mtt', 'haba', tmp_path/f'seed{s}', ipc=2, seed=s) for s in range(6)]
    assert max(f for _, f, _ in runs) <= 1.0, "MTT + HaBa stores more than the ipc 2 budget"
    stds = [round(x, 2) for _, _, x in runs]
    assert max(stds) <= 1.5, f"MTT + HaBa's views left the data's scale: std {stds} x the real images' (seeds 0-5)"
    accs = [round(a, 1) for a, _, _ in runs]
    assert min(accs) >= 3 * CHANCE, f"MTT + HaBa at ipc 2 scored {accs} % (seeds 0-5), one near chance ({CHANCE:.0f} %)"

def test_gradient_matching_keeps_the_data_scale_at_the_cpu_tiers_network(digits, tmp_path):
    """The cpu tier distils with ConvNet-128, whose matching loss sums 4x the quick tier's channel terms. With DC's lr
    scaled linearly in the pixel count (0.0082 on digits) DC + HaBa's views reached 1.63x the real images' std within 60
    iterations (2.3x by 300, 32 % on validation); the squared rule (0.00067) keeps them at 1.03x."""
    real, pool, _ = digits
    torch.set_num_threads(1)
    c = experiment_config(objective='dc', parameterisation='haba', ipc=2, seed=0, tier='cpu', iterations=60, eval_every=0,
                          out_dir=str(tmp_path/'dc-haba-cpu'))
    cfg = distill_config(c, Path(c.out_dir)/'distill', None); cfg.progress = False
    d = distill(cfg, real=real)
    with torch.no_grad(): std = float(d.param.materialize()[0].std() / pool.x_train.std())
    assert std <= 1.2, f"DC + HaBa's views at the cpu tier's network left the data's scale: std {std:.2f}x the real images'"
