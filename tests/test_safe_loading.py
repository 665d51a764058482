"Loading someone else's files never runs their code: planted pickles are refused, never executed."
import json, pickle, re, shutil
from pathlib import Path
import pytest, torch
from conftest import ROOT
from haba_nb.core import HabaError

class Payload:
    "Unpickling this runs code: it writes a marker file."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))

def plant(path: Path, marker: Path, kind: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == 'pickle': path.write_bytes(pickle.dumps({'w': Payload(marker)}))
    else: torch.save({'w': Payload(marker)}, path)   # torch's zip format with a code payload in data.pkl
    assert not marker.exists()

@pytest.fixture
def digits():
    from haba_nb.data import load_dataset
    return load_dataset('digits')

@pytest.mark.parametrize('kind', ['pickle', 'torch'])
def test_artifact_with_code_payload_is_refused(tmp_path, digits, kind):
    from haba_nb.basis import FactorizedSet
    from haba_nb.artifacts import save_artifact, load_artifact
    folder = tmp_path/'art'
    save_artifact(folder, FactorizedSet.from_real(digits, bpc=1, n_hallucinators=2), dict(dataset='digits'))
    marker = tmp_path/'PWNED'
    plant(folder/'tensors.safetensors', marker, kind)
    with pytest.raises(HabaError) as e: load_artifact(folder)
    assert 'How to fix' in str(e.value)
    assert not marker.exists(), 'the payload ran'

def test_artifact_meta_that_is_a_pickle_is_refused(tmp_path, digits):
    from haba_nb.basis import PlainImages
    from haba_nb.artifacts import save_artifact, load_artifact
    folder = tmp_path/'art'
    save_artifact(folder, PlainImages.from_real(digits, ipc=1), dict(dataset='digits'))
    marker = tmp_path/'PWNED'
    plant(folder/'meta.json', marker, 'pickle')
    with pytest.raises(HabaError): load_artifact(folder)
    assert not marker.exists()

@pytest.mark.parametrize('kind', ['pickle', 'torch'])
def test_expert_trajectory_with_code_payload_is_refused(tmp_path, digits, kind):
    from haba_nb.experts import train_experts
    from haba_nb.objectives import get_objective
    from haba_nb.basis import PlainImages
    folder = tmp_path/'experts'
    train_experts(digits, folder, n_experts=1, epochs=2, net_kw=dict(width=8), progress=False)
    marker = tmp_path/'PWNED'
    plant(folder/'expert_0000.safetensors', marker, kind)
    param = PlainImages.from_real(digits, ipc=1)
    with pytest.raises(HabaError) as e:
        obj = get_objective('mtt', digits, ipc=1, expert_dir=str(folder), syn_steps=2, expert_epochs=1,
                            max_start_epoch=1, width=8)
        obj.loss(param, digits, 0)
    assert 'How to fix' in str(e.value)
    assert not marker.exists(), 'the payload ran'

def test_checkpoint_with_code_payload_is_never_executed(tmp_path, digits):
    from haba_nb.config import DistillConfig
    from haba_nb.distill import distill
    cfg = DistillConfig(dataset='digits', objective='dm', parameterisation='plain', ipc=1, iterations=2,
                        width=8, checkpoint_every=1, eval_every=0, out_dir=str(tmp_path/'run'), progress=False)
    distill(cfg, real=digits)
    marker = tmp_path/'PWNED'
    blobs = [p for p in (tmp_path/'run').rglob('*') if p.is_file() and p.suffix != '.json' and 'ckpt' in p.name]
    assert blobs, sorted(p.name for p in (tmp_path/'run').rglob('*'))
    for b in blobs: plant(b, marker, 'torch')
    try: distill(cfg, real=digits, resume=True)
    except HabaError: pass
    assert not marker.exists(), 'the payload ran'

def test_torch_load_only_with_weights_only():
    "Static guard: every torch.load in the package and benches passes weights_only=True."
    offenders = []
    for f in [*(ROOT/'haba_nb').glob('*.py'), *(ROOT/'bench').glob('*.py'), *(ROOT/'tests').glob('*.py')]:
        for m in re.finditer(r"(?<![\w.])torch\.load\(([^()]*(?:\([^()]*\)[^()]*)*)\)", f.read_text()):
            if 'weights_only=True' not in m.group(1): offenders.append(f"{f.name}: {m.group(0)[:80]}")
    assert not offenders, offenders
