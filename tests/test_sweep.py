"The sweep driver: runs cells via papermill, survives a failed cell, resumes after an interruption."
import json, os, signal, subprocess, time
from pathlib import Path
from conftest import tool

def sweep_cmd(out, *extra):
    return [tool('haba-sweep'), '--out', str(out), '--datasets', 'digits', '--ipcs', '1', '5',
            '--methods', 'random', 'herding', '--tier', 'quick', '--param', 'eval_epochs=5', '--param', 'n_eval=1', *extra]

def test_sweep_resumes_after_interrupt_and_compiles_tables(tmp_path, env):
    out = tmp_path/'sweep'
    p = subprocess.Popen(sweep_cmd(out), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out.glob('*/results.json')): time.sleep(0.5)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    done_before = {f.parent.name: f.stat().st_mtime_ns for f in out.glob('*/results.json')}
    assert 1 <= len(done_before) < 4, done_before
    r = subprocess.run(sweep_cmd(out), env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for cell, mtime in done_before.items():
        assert f"{cell}: skipped" in r.stdout
        assert (out/cell/'results.json').stat().st_mtime_ns == mtime   # not re-run
    assert len(list(out.glob('*/results.json'))) == 4
    md = (out/'tables.md').read_text()
    assert '| random |' in md and '| herding |' in md and 'digits ipc 1' in md and 'digits ipc 5' in md
    assert 'storage % (plain)' in md and (out/'tables.html').exists()
    page = (out/'tables.html').read_text()   # styled for reading: borders, a header, the best value of each column in bold
    assert '<style>' in page and 'border' in page and '<th>method</th>' in page and page.count('<td><b>') >= 2, page[:2000]

def test_failed_cell_is_recorded_and_sweep_goes_on(tmp_path, env):
    out = tmp_path/'sweep'
    # ipc 500 > the ~135 digits images per class: selection fails for that cell only
    r = subprocess.run([tool('haba-sweep'), '--out', str(out), '--datasets', 'digits', '--ipcs', '1', '500',
                        '--methods', 'random', '--tier', 'quick', '--param', 'eval_epochs=5', '--param', 'n_eval=1'],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    fail = json.loads(next(out.glob('digits--random-ipc500--s0--quick-*/failure.json')).read_text())
    assert 'ipc' in fail['message'].lower()
    assert list(out.glob('digits--random-ipc1--s0--quick-*/results.json'))
    assert 'Failed cells' in (out/'tables.md').read_text()

def test_bad_grid_fails_before_running(tmp_path, env):
    r = subprocess.run([tool('haba-sweep'), '--out', str(tmp_path/'s'), '--methods', 'nope'], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'use one of' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path/'s'/'sweep.json').exists()

def _sweep(out, env, *extra, methods=('random',), ipcs=('1',)):
    return subprocess.run([tool('haba-sweep'), '--out', str(out), '--datasets', 'digits', '--ipcs', *ipcs, '--methods', *methods,
                           '--tier', 'quick', '--param', 'n_eval=1', *extra], env=env, capture_output=True, text=True, timeout=600)

def test_changed_settings_rerun_in_their_own_folders(tmp_path, env):
    out = tmp_path/'sweep'
    r = _sweep(out, env, '--param', 'eval_epochs=5')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    first = {p.parent.name: p.stat().st_mtime_ns for p in out.glob('*/results.json')}
    assert len(first) == 1
    r = _sweep(out, env, '--param', 'eval_epochs=6')          # another --param: not "done", a new cell
    assert r.returncode == 0 and ': ok (' in r.stdout and 'skipped' not in r.stdout, r.stdout[-2000:]
    both = {p.parent.name: p.stat().st_mtime_ns for p in out.glob('*/results.json')}
    assert len(both) == 2 and all(both[k] == v for k, v in first.items())   # the first setting's result is untouched
    new = (set(both) - set(first)).pop()
    assert json.loads((out/new/'results.json').read_text())['config']['eval_epochs'] == 6
    assert json.loads((out/'sweep.json').read_text())['cells'] == [new]     # sweep.json and the tables: the latest command
    assert '1 cells' in (out/'tables.md').read_text()
    js = out/'plotly.min.js'                                  # the cells' one shared plotly.js, in the sweep folder
    whole = js.read_bytes(); assert len(whole) > 1_000_000 and not list(out.glob('*/plotly.min.js'))
    js.write_bytes(whole[:len(whole) // 3])                   # torn by a full disk in an earlier run
    r = _sweep(out, env, '--param', 'eval_epochs=5')          # back to the first setting: found done
    assert r.returncode == 0 and ': skipped' in r.stdout, r.stdout[-2000:]
    assert js.read_bytes() == whole                           # found torn and rewritten, though no cell ran

def test_reserved_param_names_the_flag(tmp_path, env):
    for kv, flag in (('tier=cpu', '--tier'), ('ipc=3', '--ipcs'), ('dataset=mnist', '--datasets'), ('objective=dm', '--methods')):
        r = _sweep(tmp_path/'s', env, '--param', kv)
        assert r.returncode == 2 and flag in r.stderr and 'Traceback' not in r.stderr, (kv, r.stderr[-2000:])
    assert not (tmp_path/'s'/'sweep.json').exists()

def test_sweep_runs_mtt_cells_training_experts(tmp_path, env):
    out = tmp_path/'sweep'
    r = _sweep(out, env, '--param', 'train_experts=true', '--param', 'syn_steps=3', '--param', 'iterations=2',
               '--param', 'eval_epochs=3',
               '--parameterisations', 'haba', methods=('random', 'mtt'), ipcs=('2',))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(next(out.glob('digits--mtt+haba-ipc2--*/results.json')).read_text())
    assert res['method'] == 'mtt+haba' and res['config']['objective_options']['syn_steps'] == 3
    assert str(tmp_path/'cache'/'haba_nb'/'experts') in res['expert_dir'] and res['experts']['saw_validation'] is False
    assert '| mtt+haba |' in (out/'tables.md').read_text()

def test_second_sweep_on_one_folder_is_refused_and_writes_nothing(tmp_path, env):
    "Issue 39: a second haba-sweep on a running sweep's --out is refused with the first's pid and host; no false failure record."
    out = tmp_path/'sweep'
    first = subprocess.Popen(sweep_cmd(out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not list(out.glob('*/.haba-run.lock')):           # the first sweep is running a cell
            assert first.poll() is None and time.time() < deadline, first.communicate()
            time.sleep(0.1)
        second = subprocess.run(sweep_cmd(out), env=env, capture_output=True, text=True, timeout=300)
        assert first.poll() is None, "the first sweep ended before the second was refused"
        so, se = first.communicate(timeout=900)
    finally:
        if first.poll() is None: first.kill()
    assert second.returncode == 2 and f"is in use by another run: pid {first.pid} on host" in second.stderr, second.stderr[-2000:]
    assert 'Traceback' not in second.stderr
    assert first.returncode == 0, so[-3000:] + se[-3000:]
    assert not list(out.glob('*/failure.json')) and 'Failed cells' not in (out/'tables.md').read_text()
    assert len(list(out.glob('*/results.json'))) == 4

def test_cell_folder_deleted_mid_run_is_reported_not_recreated(tmp_path, env):
    "Issue 39: a cell folder deleted while its distillation runs is a failed cell that says so (rc 1), not a silent re-creation."
    import shutil
    out = tmp_path/'sweep'
    p = subprocess.Popen([tool('haba-sweep'), '--out', str(out), '--datasets', 'digits', '--ipcs', '2', '--methods', 'dm',
                          '--parameterisations', 'plain', '--tier', 'quick', '--param', 'iterations=2000', '--param', 'checkpoint_seconds=1',
                          '--param', 'n_eval=1', '--param', 'eval_epochs=2', '--param', 'width=16'],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not list(out.glob('*/distill/ckpt-*.json')):      # the loop runs and checkpoints on the clock
            assert p.poll() is None and time.time() < deadline, p.communicate()
            time.sleep(0.1)
        cell = next(out.glob('*/distill/ckpt-*.json')).parent.parent
        while cell.exists(): shutil.rmtree(cell, ignore_errors=True)
        so, se = p.communicate(timeout=600)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == 1, so[-3000:] + se[-3000:]
    fail = json.loads((cell/'failure.json').read_text())
    assert f"out_dir {cell}" in fail['message'] and 'deleted, moved or replaced while the run was writing' in fail['message'], fail
    assert not list(cell.glob('distill/ckpt-*')) and not (cell/'results.json').exists()   # nothing written back after the deletion
    assert f"- {cell.name}: see {cell.name}/failure.json" in (out/'tables.md').read_text()
