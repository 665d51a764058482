"run_distill.ipynb through papermill, end to end, as a user runs it."
import json, subprocess, sys
from pathlib import Path
from conftest import ROOT, tool

NB = ROOT/'nbs'/'run_distill.ipynb'

def papermill(out_nb, *params, env=None, timeout=900):
    args = [tool('papermill'), str(NB), str(out_nb), '--cwd', str(ROOT/'nbs')]
    for k, v in params: args += ['-p', k, str(v)]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)

def test_quick_tier_end_to_end(tmp_path, env):
    out = tmp_path/'run'
    r = papermill(tmp_path/'out.ipynb', ('out_dir', out), ('iterations', 12), env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out/'results.json').read_text())
    assert res['status'] == 'ok' and res['method'] == 'dm+haba' and res['dataset'] == 'digits'
    acc = res['accuracy']['ConvNet']
    assert len(acc['accs']) == res['config']['n_eval'] == 2
    # trained on a distilled digits set: far above chance (10 %) and a real percentage
    assert 30.0 < acc['mean'] <= 100.0, acc
    st = res['storage']
    assert 0 < st['ratio_percent'] < 100 and st['stored_floats'] > 0
    # HaBa at ipc 10 must not store more than 10 images per class (the budget functions)
    assert st['stored_floats'] <= 10 * 10 * 1 * 8 * 8
    assert st['images_materialized'] == st['items'] * res['config']['n_hallucinators']
    assert res['versions']['torch'] and res['timings']['total_s'] > 0
    from haba_nb.artifacts import load_artifact
    param, meta = load_artifact(out/'artifact')
    assert param.stored_floats() == st['stored_floats']
    html = sorted(p.name for p in out.glob('*.html'))
    assert html, f"no figures written: {sorted(p.name for p in out.iterdir())}"

def test_unknown_parameter_value_fails_in_first_cell(tmp_path, env):
    r = papermill(tmp_path/'bad.ipynb', ('dataset', 'imagenet-zz'), ('out_dir', tmp_path/'bad'), env=env, timeout=300)
    assert r.returncode != 0
    assert "unknown dataset 'imagenet-zz'" in r.stderr and 'use one of: digits' in r.stderr
    nb = json.loads((tmp_path/'bad.ipynb').read_text())
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    failed = [i for i, c in enumerate(code) if any(o.get('output_type') == 'error' for o in c.get('outputs', []))]
    # parameters cell, papermill's injected-parameters cell, then the validation cell fails
    assert failed == [2], failed
    assert not (tmp_path/'bad'/'results.json').exists()

def test_negative_ipc_and_missing_dataset(tmp_path, env):
    r = papermill(tmp_path/'neg.ipynb', ('ipc', -1), ('out_dir', tmp_path/'neg'), env=env, timeout=300)
    assert r.returncode != 0 and 'ipc must be a positive int' in r.stderr
    r = papermill(tmp_path/'svhn.ipynb', ('dataset', 'svhn'), ('out_dir', tmp_path/'svhn'), env=env, timeout=300)
    assert r.returncode != 0
    assert 'svhn' in r.stderr.lower() and 'train_32x32.mat' in r.stderr and str(tmp_path/'no-data') in r.stderr
