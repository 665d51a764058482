"""Issue 7's bad-input matrix: each case must raise a HabaError that names the problem and the
fix, and leave nothing written or lost."""
import errno, gzip, json, os, shutil
from pathlib import Path
import pytest, torch
from haba_nb.core import HabaError, ConfigError, DataError, BudgetError, ArtifactError, TrajectoryError, DivergenceError, ShapeError

@pytest.fixture(scope='module')
def digits():
    from haba_nb.data import load_dataset
    return load_dataset('digits')

def _cfg(tmp, **kw):
    from haba_nb.config import DistillConfig
    base = dict(dataset='digits', objective='dm', parameterisation='haba', ipc=2, iterations=3, width=8,
                adversary_width=8, n_eval=0, out_dir=str(tmp/'run'), progress=False)
    return DistillConfig(**{**base, **kw})

def unknown_dataset(tmp, d):
    from haba_nb.data import load_dataset; load_dataset('imagenet-zz')
def unknown_objective(tmp, d): _cfg(tmp, objective='gan')
def unknown_model(tmp, d):
    from haba_nb.networks import get_network; get_network('ResNet999', 1, 10, (8, 8))
def ipc_zero(tmp, d): _cfg(tmp, ipc=0)
def ipc_negative(tmp, d):
    from haba_nb.experiment import experiment_config; experiment_config(ipc=-5)
def bpc_over_budget(tmp, d): _cfg(tmp, ipc=2, bpc=5, strict_budget=True)
def budget_impossible(tmp, d):
    from haba_nb.budget import max_bpc; max_bpc(100, 1, (3, 32, 32), 5, strict=True)
def one_hallucinator_with_contrastive(tmp, d): _cfg(tmp, n_hallucinators=1)
def artifact_shape_mismatch(tmp, d):
    "A 3×32×32 artifact evaluated on 1×8×8 digits."
    from haba_nb.basis import PlainImages
    from haba_nb.evaluate import evaluate_synset, EvalConfig
    p = PlainImages(torch.randn(10, 3, 32, 32), torch.arange(10), 10)
    evaluate_synset(p, d, EvalConfig(epochs=1, width=8), n_seeds=1)
def truncated_dataset_file(tmp, d):
    from haba_nb.data import load_dataset
    root = tmp/'fm'; root.mkdir()
    blob = gzip.compress(b'\x00\x00\x08\x03' + (60000).to_bytes(4, 'big') + (28).to_bytes(4, 'big') * 2 + b'\x00' * 5000)
    for n in ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'):
        (root/f'{n}.gz').write_bytes(blob[: len(blob) // 2])
    load_dataset('fashionmnist', data_root=str(root))
def missing_dataset_files(tmp, d):
    from haba_nb.data import load_dataset; load_dataset('cifar10', data_root=str(tmp/'empty'))
def missing_trajectories(tmp, d):
    from haba_nb.objectives import get_objective
    get_objective('mtt', d, ipc=1, expert_dir=str(tmp/'no-experts'), width=8)
def trajectories_other_arch(tmp, d):
    from haba_nb.experts import train_experts
    from haba_nb.objectives import get_objective
    train_experts(d, tmp/'exp', n_experts=1, epochs=2, net_kw=dict(width=8), progress=False, model='ConvNet')
    get_objective('mtt', d, model='MLP', ipc=1, expert_dir=str(tmp/'exp'), expert_epochs=1, max_start_epoch=1)
def corrupt_artifact(tmp, d):
    from haba_nb.basis import PlainImages
    from haba_nb.artifacts import save_artifact, load_artifact
    save_artifact(tmp/'art', PlainImages.from_real(d, ipc=1), dict(dataset='digits'))
    f = tmp/'art'/'tensors.safetensors'; f.write_bytes(f.read_bytes()[:-40])
    load_artifact(tmp/'art')
def wrong_artifact_version(tmp, d):
    from haba_nb.basis import PlainImages
    from haba_nb.artifacts import save_artifact, load_artifact
    save_artifact(tmp/'art', PlainImages.from_real(d, ipc=1), dict(dataset='digits'))
    m = json.loads((tmp/'art'/'meta.json').read_text()); m['format_version'] = 999
    (tmp/'art'/'meta.json').write_text(json.dumps(m))
    load_artifact(tmp/'art')
def wrong_bank_input(tmp, d):
    from haba_nb.hallucinator import HallucinatorBank
    HallucinatorBank(2, 3, 3, 32)(torch.randn(4, 1, 28, 28), torch.zeros(4, dtype=torch.long))

CASES = [  # (case, expected error class, words the message must contain)
    (unknown_dataset, ConfigError, ['imagenet-zz', 'digits']),
    (unknown_objective, ConfigError, ['gan', 'dm']),
    (unknown_model, ConfigError, ['ResNet999', 'ConvNet']),
    (ipc_zero, ConfigError, ['ipc']),
    (ipc_negative, ConfigError, ['ipc']),
    (bpc_over_budget, BudgetError, ['bpc']),
    (budget_impossible, BudgetError, ['budget']),
    (one_hallucinator_with_contrastive, ConfigError, ['n_hallucinators']),
    (artifact_shape_mismatch, ShapeError, ['32']),
    (truncated_dataset_file, DataError, ['train-images-idx3-ubyte']),
    (missing_dataset_files, DataError, ['cifar-10', 'data_batch_1']),
    (missing_trajectories, TrajectoryError, ['haba-experts']),
    (trajectories_other_arch, TrajectoryError, ['MLP', 'haba-experts']),
    (corrupt_artifact, ArtifactError, ['tensors.safetensors']),
    (wrong_artifact_version, ArtifactError, ['999']),
    (wrong_bank_input, ShapeError, ['(B, 3, 32, 32)']),
]

@pytest.mark.parametrize('case,err,words', CASES, ids=[c[0].__name__ for c in CASES])
def test_bad_input_gives_clear_error(case, err, words, tmp_path, digits):
    with pytest.raises(HabaError) as e: case(tmp_path, digits)
    assert isinstance(e.value, err), f"{type(e.value).__name__}: {e.value}"
    msg = str(e.value)
    assert 'How to fix:' in msg and e.value.fix, msg
    for w in words: assert w.lower() in msg.lower(), f"{w!r} not in: {msg}"
    assert not (tmp_path/'run').exists() or not any((tmp_path/'run').iterdir())   # a refused config writes nothing

def test_out_of_disk_while_saving_keeps_the_old_artifact(tmp_path, digits, monkeypatch):
    from haba_nb.basis import PlainImages
    from haba_nb.artifacts import save_artifact, load_artifact
    import haba_nb.core as core
    p1 = PlainImages.from_real(digits, ipc=1, generator=torch.Generator().manual_seed(1))
    save_artifact(tmp_path/'art', p1, dict(dataset='digits'))
    before = {f.name: f.read_bytes() for f in (tmp_path/'art').iterdir()}
    def full(fd): raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(core.os, 'fsync', full)
    p2 = PlainImages.from_real(digits, ipc=1, generator=torch.Generator().manual_seed(2))
    with pytest.raises(HabaError) as e: save_artifact(tmp_path/'art', p2, dict(dataset='digits'))
    assert 'disk' in str(e.value) and 'How to fix' in str(e.value)
    monkeypatch.undo()
    after = {f.name: f.read_bytes() for f in (tmp_path/'art').iterdir()}
    assert after == before                     # nothing replaced, no temp files left
    q, _ = load_artifact(tmp_path/'art')
    assert torch.equal(q.images, p1.images)

def test_nan_loss_stops_restores_and_checkpoints(tmp_path, digits):
    from haba_nb.runs import load_checkpoint
    from haba_nb.distill import distill
    from haba_nb.objectives import get_objective
    obj = get_objective('dm', digits, ipc=2, width=8)
    real_loss = obj.loss
    def loss(param, real, step):
        l = real_loss(param, real, step)
        return l * float('nan') if step == 2 else l
    obj.loss = loss
    cfg = _cfg(tmp_path, iterations=5)
    with pytest.raises(DivergenceError) as e: distill(cfg, real=digits, objective=obj)
    msg = str(e.value)
    assert 'iteration 3' in msg and 'nan' in msg.lower() and 'lr_img' in msg
    st, path = load_checkpoint(tmp_path/'run')
    assert st['it'] == 2                          # the state after the last good iteration
    tensors = [t for t in st['run']['param'].values() if torch.is_tensor(t)]
    assert tensors and all(torch.isfinite(t).all() for t in tensors)   # no NaN was trained into the set
