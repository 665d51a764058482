"Several `haba-experts` processes filling one trajectory folder at once: every expert trained once, the same as alone."
import json, subprocess
from pathlib import Path
import torch
from safetensors.torch import load_file
from conftest import tool

N, EPOCHS = 8, 3

def experts_cmd(out):
    return [tool('haba-experts'), '--dataset', 'digits', '--out', str(out), '--n-experts', str(N), '--epochs', str(EPOCHS),
            '--width', '8', '--batch', '128', '--threads', '1', '--quiet']

def test_parallel_expert_processes_share_one_folder(tmp_path, env):
    out = tmp_path/'traj'
    procs = [subprocess.Popen(experts_cmd(out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = []
    for p in procs:
        so, se = p.communicate(timeout=600)
        assert p.returncode == 0, se[-3000:]
        results.append({k: len(v) for k, v in json.loads(so.strip().splitlines()[-1]).items()})
    # each expert was trained by exactly one process: the counts add up to N, never more
    assert sum(r['trained'] for r in results) == N, results
    files = sorted(f.name for f in out.glob('expert_*.safetensors'))
    assert files == [f'expert_{i:04d}.safetensors' for i in range(N)]
    assert not list(out.glob('*.lock')) and not list(out.glob('*.tmp*'))   # no locks or partial files left behind
    # a process started afterwards finds nothing to do
    r = subprocess.run(experts_cmd(out), env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and json.loads(r.stdout.strip().splitlines()[-1]) == {'trained': [], 'skipped': list(range(N)), 'busy': []}
    # an expert's trajectory depends only on (seed, index), not on which process trained it or when
    from haba_nb.data import load_dataset
    from haba_nb.experts import train_experts, check_trajectories
    alone = tmp_path/'alone'
    pool = load_dataset('digits').split_validation(None, seed=0)[0]   # haba-experts holds out a run's default validation split
    train_experts(pool, alone, 1, epochs=EPOCHS, batch=128, progress=False, net_kw={'width': 8})
    a, b = load_file(str(alone/'expert_0000.safetensors')), load_file(str(out/'expert_0000.safetensors'))
    assert sorted(a) == [f'epoch_{e:04d}' for e in range(EPOCHS + 1)] and sorted(a) == sorted(b)
    for k in a: torch.testing.assert_close(a[k], b[k])
    meta, found = check_trajectories(out, pool, 'ConvNet', {'width': 8}, EPOCHS)
    assert len(found) == N and meta['epochs'] == EPOCHS and meta['held_out'] == {'n_per_class': pool.validation['n_per_class'], 'seed': 0}
