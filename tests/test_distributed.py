"torch.distributed (gloo, 2 CPU ranks under torchrun): class-sharded DC/DSA/DM give one process's loss and synthetic gradients."
import json, socket, subprocess
from pathlib import Path
from conftest import tool

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def test_two_gloo_ranks_match_one_process(tmp_path, env):
    out = tmp_path/'report.json'
    r = subprocess.run([tool('torchrun'), '--nproc_per_node', '2', '--master_port', str(_free_port()),
                        str(Path(__file__).parent/'dist_check.py'), str(out)],
                       env=dict(env, OMP_NUM_THREADS='1'), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert rep['world'] == 2 and set(rep['cases']) == {f'{o}-{k}' for o in ('dm', 'dsa', 'dc') for k in ('plain', 'haba')}
    for case, steps in rep['cases'].items():
        for s in steps:
            assert s['classes'] == [0, 2, 4, 6, 8], (case, s)          # rank 0's half of digits' 10 classes
            assert s['gen_equal'], (case, s)
            assert abs(s['loss_one'] - s['loss_ranks']) <= 1e-5 * max(1.0, abs(s['loss_one'])), (case, s)
            assert s['grad_max_abs'] <= 1e-4 * max(1.0, s['grad_scale']), (case, s)


def _torchrun(env, *args):
    r = subprocess.run([tool('torchrun'), '--nproc_per_node', '2', '--master_port', str(_free_port()),
                        str(Path(__file__).parent/'dist_distill.py'), *map(str, args)],
                       env=dict(env, OMP_NUM_THREADS='1'), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_distill_under_torchrun_matches_one_process_and_resumes(tmp_path, env):
    "The loop itself on 2 ranks: the same run as one process (float error), only rank 0 writes, and resume continues it."
    import torch
    from haba_nb.runs import load_checkpoint
    subprocess.run([tool('python'), str(Path(__file__).parent/'dist_distill.py'), str(tmp_path/'one'), '4', 'fresh'],
                   env=dict(env, OMP_NUM_THREADS='1'), check=True, capture_output=True)
    _torchrun(env, tmp_path/'two', 4, 'fresh')
    _torchrun(env, tmp_path/'resumed', 2, 'fresh'); _torchrun(env, tmp_path/'resumed', 4, 'resume')
    one = load_checkpoint(tmp_path/'one')[0]
    for name in ('two', 'resumed'):
        st = load_checkpoint(tmp_path/name)[0]
        assert st['it'] == 4
        for k, v in one['run']['param'].items():
            w = st['run']['param'][k]
            assert torch.allclose(v, w, rtol=1e-4, atol=1e-5 * float(v.abs().max())), (name, k, float((v - w).abs().max()))
        l1, l2 = [r['loss'] for r in one['history']], [r['loss'] for r in st['history']]
        assert all(abs(a - b) <= 1e-4 * max(1.0, abs(a)) for a, b in zip(l1, l2)), (name, l1, l2)
    assert not list(tmp_path.glob('haba-rank-*'))                       # other ranks wrote nowhere in the run folders
    assert sorted(p.name for p in (tmp_path/'two').iterdir() if p.name.startswith('ckpt-')) == ['ckpt-000004.json', 'ckpt-000004.safetensors']
