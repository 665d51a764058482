"run_distill.ipynb through papermill, end to end, as a user runs it."
import json, subprocess, sys
from pathlib import Path
from conftest import ROOT, tool

NB = ROOT/'nbs'/'run_distill.ipynb'

def papermill(out_nb, *params, env=None, timeout=900, raw=()):
    args = [tool('papermill'), str(NB), str(out_nb), '--cwd', str(ROOT/'nbs')]
    for k, v in params: args += ['-p', k, str(v)]
    for k, v in raw: args += ['-r', k, str(v)]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout)

def test_quick_tier_end_to_end(tmp_path, env):
    # the quick tier's defaults but 100 evaluation epochs instead of its 300: the same path, a third of the suite's slowest
    # test (6 min of ~20 on 2 cores); the accuracy bound below still needs a network that really trained
    out = tmp_path/'run'
    r = papermill(tmp_path/'out.ipynb', ('out_dir', out), ('iterations', 12), ('compare', False), ('eval_epochs', 100), env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out/'results.json').read_text())
    assert res['status'] == 'ok' and res['method'] == 'dm+haba' and res['dataset'] == 'digits'
    acc = res['accuracy']['ConvNet']
    assert len(acc['accs']) == res['config']['n_eval'] == 2 and acc['epochs'] == res['evaluation']['epochs'] == 100
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
    assert 'figures.html' in html and (tmp_path/'plotly.min.js').exists()     # one plotly.js in the output root, none in the run
    assert not (out/'plotly.min.js').exists() and sum(f.stat().st_size for f in out.iterdir() if f.is_file()) < 1_000_000
    assert all((out/h).stat().st_size < 1_000_000 for h in html), [(h, (out/h).stat().st_size) for h in html]
    assert res['evaluation']['seeds'] == [1000, 1001] and res['validation']['size'] == 130 and res['label'] == 'dm+haba, ipc 10'
    assert meta['experiment']['seed'] == 0 and meta['experiment']['tier'] == 'quick' and meta['config']['kind'] == 'factorized'

def test_unknown_parameter_value_fails_in_first_cell(tmp_path, env):
    r = papermill(tmp_path/'bad.ipynb', ('dataset', 'imagenet-zz'), ('out_dir', tmp_path/'bad'), env=env, timeout=300)
    assert r.returncode != 0
    assert "unknown dataset 'imagenet-zz'" in r.stderr and 'use one of: digits' in r.stderr
    # the problem and the fix come first (the kernel prints them before papermill's traceback), and head the cell's traceback
    head = "ConfigError: unknown dataset 'imagenet-zz'\n  How to fix: use one of: digits"
    assert head in r.stderr and r.stderr.index(head) < r.stderr.index('Traceback'), r.stderr[:3000]
    nb = json.loads((tmp_path/'bad.ipynb').read_text())
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    err = [o for c in code for o in c.get('outputs', []) if o.get('output_type') == 'error']
    assert len(err) == 1 and '\n'.join(err[0]['traceback']).startswith(head), err
    failed = [i for i, c in enumerate(code) if any(o.get('output_type') == 'error' for o in c.get('outputs', []))]
    # the names-before cell, parameters cell, papermill's injected-parameters cell, then the validation cell fails
    assert failed == [3], failed
    assert not (tmp_path/'bad'/'results.json').exists()

def test_negative_ipc_and_missing_dataset(tmp_path, env):
    r = papermill(tmp_path/'neg.ipynb', ('ipc', -1), ('out_dir', tmp_path/'neg'), env=env, timeout=300)
    assert r.returncode != 0 and 'ipc must be a positive int' in r.stderr
    r = papermill(tmp_path/'svhn.ipynb', ('dataset', 'svhn'), ('out_dir', tmp_path/'svhn'), env=env, timeout=300)
    assert r.returncode != 0
    assert 'svhn' in r.stderr.lower() and 'train_32x32.mat' in r.stderr and str(tmp_path/'no-data') in r.stderr

def _failed_cells(nb_path):
    nb = json.loads(Path(nb_path).read_text())
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    return [i for i, c in enumerate(code) if any(o.get('output_type') == 'error' for o in c.get('outputs', []))]

def test_unknown_parameter_and_one_hallucinator_fail_in_first_cell(tmp_path, env):
    r = papermill(tmp_path/'bogus.ipynb', ('bogus', 1), ('out_dir', tmp_path/'b'), env=env, timeout=300)
    assert r.returncode != 0 and 'unknown parameter(s) bogus' in r.stderr
    assert 'valid parameters: run:' in r.stderr and 'use_contrastive' in r.stderr and 'grad_clip' in r.stderr
    assert _failed_cells(tmp_path/'bogus.ipynb') == [3]
    r = papermill(tmp_path/'h1.ipynb', ('n_hallucinators', 1), ('out_dir', tmp_path/'h'), env=env, timeout=300)
    assert r.returncode != 0 and '-p use_contrastive False' in r.stderr
    assert _failed_cells(tmp_path/'h1.ipynb') == [3]
    r = papermill(tmp_path/'ipc.ipynb', ('out_dir', tmp_path/'i'), raw=[('ipc', 'ten')], env=env, timeout=300)
    assert r.returncode != 0 and 'ipc must be an int' in r.stderr

def test_mtt_haba_from_nothing_with_the_printed_command(tmp_path, env):
    "A new user's path: MTT without experts stops with a haba-experts command; run as printed, the same run then works."
    import shlex
    params = [('objective', 'mtt'), ('syn_steps', 5), ('iterations', 3), ('eval_epochs', 5), ('n_eval', 1), ('out_dir', tmp_path/'mtt'),
              ('compare', False)]
    r = papermill(tmp_path/'first.ipynb', *params, raw=[('ipc', '2')], env=env, timeout=300)
    assert r.returncode != 0 and 'haba-experts --dataset digits' in r.stderr, r.stderr[-3000:]
    line = next(l for l in r.stderr.splitlines() if 'train them with: haba-experts' in l)
    cmd = shlex.split(line.split('train them with: ')[1].split(' (then run again)')[0])
    assert cmd[0] == 'haba-experts' and str(tmp_path/'cache'/'haba_nb'/'experts') in cmd[cmd.index('--out') + 1]
    e = subprocess.run([tool('haba-experts'), *cmd[1:], '--quiet'], env=env, capture_output=True, text=True, timeout=300)
    assert e.returncode == 0, e.stderr[-3000:]
    r = papermill(tmp_path/'second.ipynb', *params, raw=[('ipc', '2')], env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path/'mtt'/'results.json').read_text())
    assert res['status'] == 'ok' and res['method'] == 'mtt+haba' and res['ipc'] == 2
    assert res['config']['objective_options']['syn_steps'] == 5 and res['expert_dir'] == cmd[cmd.index('--out') + 1]
    held = res['validation']   # the printed command made experts that never saw the run's validation split
    assert res['experts']['held_out'] == {'n_per_class': held['n_per_class'], 'seed': held['seed']} and not res['experts']['saw_validation']
    assert res['syn_lr'] is not None and 0 <= res['accuracy']['ConvNet']['mean'] <= 100

def test_demo_prints_the_equal_storage_table(tmp_path, env):
    "The demo's last cell: random real images, the plain objective, + HaBa and IDC's control at one budget, with the gain over random and a sentence each."
    out = tmp_path/'demo'
    r = papermill(tmp_path/'demo.ipynb', ('out_dir', out), ('iterations', 3), ('eval_epochs', 10), ('n_eval', 1), env=env, raw=[('ipc', '2')])
    assert r.returncode == 0, r.stderr[-3000:]
    nb = json.loads((tmp_path/'demo.ipynb').read_text())
    text = ''.join(''.join(o.get('text', '')) for c in nb['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []))
    assert '| method | storage | test accuracy (%) | vs random real images (points) |' in text, text[-3000:]
    idc = 'dm, IDC control (4× the images at half resolution)'
    for row in ('| random real images | ipc 2 ', '| dm | ipc 2 ', '| dm + HaBa | ipc 2 ', f'| {idc} | ipc 2 '): assert row in text, text[-3000:]
    for who in ('random real images', 'dm', 'dm + HaBa', idc): assert text.count(f'\n- {who}: ') == 1, (who, text[-3000:])
    assert '- HaBa on dm: ' in text and '- HaBa vs the IDC control' in text, text[-3000:]
    assert 'the floats of' not in text            # at ipc 2 every set fits the budget: "at equal storage", no ratio
    assert '| dm + HaBa | ipc 2 ' in (out/'comparison.md').read_text()          # what `make demo` prints at the end
    assert 'figures.html' in text and 'results: ' in text
    for sub in ('random-plain', 'dm-plain', 'dm-plain-ds2'): assert json.loads((out/'compare'/sub/'results.json').read_text())['status'] == 'ok'

def test_sigterm_to_papermill_loses_only_what_came_after_the_last_timed_checkpoint(tmp_path, env):
    "Issue 39: SIGTERM to papermill takes its kernel down unsaved; the clock's checkpoints (checkpoint_seconds) bound the loss and resuming gives the uninterrupted run bit for bit."
    import random, signal, time
    from haba_nb.runs import lock_holder, lock_is_stale, load_checkpoint, newest_checkpoint_it
    from haba_nb.distill import same_state
    params = [('iterations', 60), ('ipc', 2), ('n_hallucinators', 3), ('width', 16), ('eval_epochs', 2), ('n_eval', 1),
              ('device', 'cpu'), ('compare', False), ('checkpoint_seconds', 1)]
    def start(out, *extra):
        args = [tool('papermill'), str(NB), str(tmp_path/f'{out.name}-{len(extra)}.ipynb'), '--cwd', str(ROOT/'nbs')]
        for k, v in [*params, ('out_dir', out), *extra]: args += ['-p', k, str(v)]
        return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    straight, victim_dir = tmp_path/'straight', tmp_path/'victim'
    ref, victim = start(straight), start(victim_dir)
    try:
        deadline = time.time() + 600
        while newest_checkpoint_it(victim_dir/'distill') == 0:        # the first checkpoint: the clock's (checkpoint_every is 0)
            assert victim.poll() is None and time.time() < deadline, victim.communicate()[1][-3000:]
            time.sleep(0.05)
        time.sleep(random.Random().uniform(0.0, 0.5))
        assert victim.poll() is None, "the run finished before SIGTERM; raise iterations"
        victim.send_signal(signal.SIGTERM); victim.wait(timeout=120)
        while any(h and not lock_is_stale(h) for h in (lock_holder(victim_dir), lock_holder(victim_dir/'distill'))):
            assert time.time() < deadline, "the kernel outlived papermill"   # (it exits within a second)
            time.sleep(0.1)
        done = newest_checkpoint_it(victim_dir/'distill')   # read once the kernel is gone: it may write one more on its way down
        assert 1 <= done < 60, done
        again = start(victim_dir, ('resume', True))
        assert again.wait(timeout=600) == 0, again.communicate()[1][-3000:]
        assert ref.wait(timeout=600) == 0, ref.communicate()[1][-3000:]
    finally:
        for p in (ref, victim):
            if p.poll() is None: p.kill()
    a, b = load_checkpoint(straight/'distill')[0], load_checkpoint(victim_dir/'distill')[0]
    assert a['it'] == b['it'] == 60
    same_state(a['run'], b['run'])
    untimed = lambda h: [{k: v for k, v in r.items() if k != 'time'} for r in h]
    same_state(untimed(a['history']), untimed(b['history']))
    ra, rb = (json.loads((d/'results.json').read_text()) for d in (straight, victim_dir))
    assert ra['accuracy']['ConvNet']['accs'] == rb['accuracy']['ConvNet']['accs'] and rb['resumed_from'] == done
