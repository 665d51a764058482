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
