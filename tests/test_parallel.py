"""The Ray executor: a sweep on a local Ray instance survives a killed worker and equals the sequential sweep; experts shared by
Ray workers and a local process; a clear error without Ray."""
import importlib.util, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import tool

needs_ray = pytest.mark.skipif(importlib.util.find_spec('ray') is None, reason='Ray is not installed: pip install -e ".[ray]" (make test does)')
TINY = ['--datasets', 'digits', '--ipcs', '1', '2', '--methods', 'random', 'herding', '--tier', 'quick',
        '--param', 'eval_epochs=2', '--param', 'n_eval=1', '--param', 'width=16']

def _attempts(out):
    "{cell: [worker pids that started it]} from the cells' ray_attempts.jsonl."
    return {f.parent.name: [json.loads(l)['pid'] for l in f.read_text().splitlines() if l.strip()] for f in out.glob('*/ray_attempts.jsonl')}

def _children(pid):
    "Child pids of `pid` (all its threads), from /proc."
    return [int(c) for t in Path(f'/proc/{pid}/task').glob('*') for c in (t/'children').read_text().split()]

def _alive(pid):
    try: return Path(f'/proc/{pid}/stat').read_text().split(') ')[1][0] != 'Z'
    except (OSError, IndexError): return False

@needs_ray
def test_ray_sweep_survives_a_killed_worker_and_equals_sequential(tmp_path, env):
    env = dict(env, OMP_NUM_THREADS='1')   # the sequential run uses the thread count of a 1-CPU Ray cell
    out = tmp_path/'ray'
    p = subprocess.Popen([tool('haba-sweep'), '--out', str(out), *TINY, '--executor', 'ray', '--cpus-per-cell', '1'],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed, kids, deadline = None, [], time.time() + 600    # generous: a loaded 2-core box starts kernels slowly
    while killed is None and time.time() < deadline and p.poll() is None:   # a cell whose kernel runs, not finished: kill its worker
        for cell, pids in _attempts(out).items():
            if (out/cell/'run_distill.ipynb').exists() and not (out/cell/'results.json').exists():
                kids = _children(pids[-1])                                  # the cell's kernel, once started
                if not kids: continue
                os.kill(pids[-1], signal.SIGKILL); killed = (cell, pids[-1]); break
        time.sleep(0.2)
    t = time.time()
    while killed and any(_alive(k) for k in kids) and time.time() - t < 30: time.sleep(0.2)
    assert killed and kids and not any(_alive(k) for k in kids), (killed, kids)   # no orphaned kernel writes into the cell
    so, _ = p.communicate(timeout=600)
    assert p.returncode == 0, so[-3000:]
    cells = json.loads((out/'sweep.json').read_text())['cells']
    assert len(cells) == 4 and all((out/c/'results.json').exists() for c in cells)
    att = _attempts(out)
    assert killed[1] in att[killed[0]] and len(att[killed[0]]) >= 2, (killed, att)   # retried on another worker
    for c in cells: assert so.count(f"{c}: ok") == 1, so[-3000:]                         # each cell reported once
    assert not list(out.glob('*/failure.json'))
    # the same cells run one after another give the same tables
    seq = tmp_path/'seq'
    r = subprocess.run([tool('haba-sweep'), '--out', str(seq), *TINY], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert json.loads((seq/'sweep.json').read_text())['cells'] == cells
    assert (seq/'tables.md').read_text() == (out/'tables.md').read_text()
    for c in cells:
        a, b = (json.loads((d/c/'results.json').read_text())['accuracy'] for d in (out, seq))
        assert {m: v['accs'] for m, v in a.items()} == {m: v['accs'] for m, v in b.items()}
    # re-running the Ray sweep finds every cell done
    r = subprocess.run([tool('haba-sweep'), '--out', str(out), *TINY, '--executor', 'ray'], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.count(': skipped') == 4, r.stdout[-3000:] + r.stderr[-3000:]

@needs_ray
def test_experts_shared_by_ray_workers_and_a_local_process(tmp_path, env):
    out, n = tmp_path/'traj', 6
    cmd = [tool('haba-experts'), '--dataset', 'digits', '--out', str(out), '--n-experts', str(n), '--epochs', '2',
           '--width', '8', '--batch', '256', '--threads', '1', '--quiet']
    local = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    r = subprocess.run(cmd + ['--executor', 'ray', '--workers', '2'], env=env, capture_output=True, text=True, timeout=600)
    so, se = local.communicate(timeout=600)
    assert r.returncode == 0 and local.returncode == 0, r.stderr[-3000:] + se[-3000:]
    a, b = json.loads(r.stdout.strip().splitlines()[-1]), json.loads(so.strip().splitlines()[-1])
    assert not set(a['trained']) & set(b['trained']) and len(a['trained']) + len(b['trained']) == n, (a, b)   # each expert once
    assert sorted(f.name for f in out.glob('expert_*.safetensors')) == [f'expert_{i:04d}.safetensors' for i in range(n)]
    assert not list(out.glob('*.lock'))

def test_ray_executor_without_ray_names_the_install_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, 'ray', None)          # `import ray` fails, as where it is not installed
    from haba_nb.sweep import main
    assert main(['--out', str(tmp_path/'s'), '--methods', 'random', '--executor', 'ray']) == 2
    err = capsys.readouterr().err
    assert 'pip install -e ".[ray]"' in err and 'not installed' in err and 'Traceback' not in err
    assert not (tmp_path/'s').exists()                      # refused before anything was written
    from haba_nb.cli import experts_main
    assert experts_main(['--dataset', 'digits', '--out', str(tmp_path/'t'), '--executor', 'ray', '--quiet']) == 2
    assert 'pip install -e ".[ray]"' in capsys.readouterr().err

def test_address_needs_the_ray_executor(tmp_path, capsys):
    from haba_nb.sweep import main
    assert main(['--out', str(tmp_path/'s'), '--methods', 'random', '--address', 'auto']) == 2
    err = capsys.readouterr().err
    assert '--executor ray' in err and 'Traceback' not in err and not (tmp_path/'s').exists()
