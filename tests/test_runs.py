"""Runs that cannot corrupt each other (issue 17): a new run beside an old run's files is refused (overwrite gives a
clean run), a second concurrent run is refused by the lock, SIGTERM to `haba-run` checkpoints and prints a resume command
that finishes the run exactly, and the messages of unusable folders, data roots, artifacts and budgets.

Tiny `digits` runs; real processes and real signals where the issue is about processes and signals.
"""
import json, os, re, shlex, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from conftest import ROOT
from haba_nb.core import ConfigError, DataError, ArtifactError
from haba_nb.config import DistillConfig
from haba_nb.runs import load_checkpoint, list_checkpoints, newest_checkpoint_it
from haba_nb.distill import distill, same_state
from haba_nb.runs import RunFolderError, lock_holder, LOCK_NAME

TINY = dict(ipc=2, n_hallucinators=3, width=16, adversary_width=16, n_eval=0, diversity_every=5, progress=False, checkpoint_seconds=0,
            objective_kwargs={"batch_real": 16})
SCRIPT = f"""
import sys, torch
torch.set_num_threads(1)
from haba_nb.config import DistillConfig
from haba_nb.distill import distill
distill(DistillConfig(out_dir=sys.argv[1], iterations=int(sys.argv[2]), seed=int(sys.argv[3]), checkpoint_every=5, **{TINY!r}))
"""


@pytest.fixture(scope="module")
def digits():
    from haba_nb.data import load_dataset
    return load_dataset("digits")


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _cfg(out, **kw): return DistillConfig(out_dir=str(out), **{**TINY, **kw})
def _files(folder: Path) -> dict: return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
def _untimed(history): return [{k: v for k, v in r.items() if k != "time"} for r in history]
def _env(tmp_path):
    return dict(os.environ, PYTHONPATH=str(ROOT), HABA_DATA=str(tmp_path/"no-data"), XDG_CACHE_HOME=str(tmp_path/"cache"),
                OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")


# ------------------------------------------------------------------ (1) an older run's files
def test_new_run_beside_an_old_run_is_refused_and_overwrite_equals_an_empty_folder(tmp_path, digits):
    old, fresh = tmp_path/"old", tmp_path/"fresh"
    distill(_cfg(old, iterations=8, seed=1, checkpoint_every=2), real=digits)       # a finished, longer run
    before = _files(old)
    with pytest.raises(RunFolderError) as e: distill(_cfg(old, iterations=4, seed=2), real=digits)
    msg = str(e.value)
    assert "holds another run (checkpoints up to iteration 8, a history of 8 iterations, final/)" in msg, msg
    assert "resume=True" in msg and "overwrite=True" in msg and "-p overwrite True" in msg
    assert _files(old) == before                    # byte-identical: nothing written, nothing pruned, lock released
    assert lock_holder(old) is None
    # the refused run resumed by mistake with another config is refused too, naming the difference
    with pytest.raises(ConfigError, match="seed: checkpoint 1, now 2"): distill(_cfg(old, iterations=4, seed=2), resume=True, real=digits)

    r_over = distill(_cfg(old, iterations=4, seed=2), overwrite=True, real=digits)
    r_fresh = distill(_cfg(fresh, iterations=4, seed=2), real=digits)
    assert [p.name for p in list_checkpoints(old)] == [p.name for p in list_checkpoints(fresh)] == ["ckpt-000004.json"]
    so, sf = load_checkpoint(old)[0], load_checkpoint(fresh)[0]
    same_state(so["run"], sf["run"])
    same_state(_untimed(so["history"]), _untimed(sf["history"]))
    assert _untimed(json.loads((old/"history.json").read_text())) == _untimed(json.loads((fresh/"history.json").read_text()))
    assert r_over.meta["iteration"] == r_fresh.meta["iteration"] == 4 and r_over.meta["resumed_from"] is None
    assert json.loads((old/"config.json").read_text())["seed"] == 2
    for k, v in r_fresh.param.state_dict().items(): assert torch.equal(v, r_over.param.state_dict()[k]), k


# ------------------------------------------------------------------ (2) two runs at once
def test_second_concurrent_run_is_refused_and_the_first_is_intact(tmp_path):
    out = tmp_path/"run"
    first = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), "5000", "1"], env=_env(tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while not list_checkpoints(out):                 # the first run is in its loop, holding the lock
            assert first.poll() is None, first.communicate()[1][-3000:]
            assert time.time() - t0 < 180, "no checkpoint appeared"
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-c", SCRIPT, str(out), "5", "2"], env=_env(tmp_path),
                                capture_output=True, text=True, timeout=180)
        assert second.returncode != 0
        assert f"is in use by another run: pid {first.pid} on host" in second.stderr, second.stderr[-2000:]
        assert "How to fix: wait until it finishes, stop it (kill" in second.stderr
        assert first.poll() is None, "the first run must carry on"
        first.send_signal(signal.SIGTERM)                # stop it (it checkpoints) to look at its files
        _, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None: first.kill()
    assert "stopped at iteration" in err, err[-2000:]
    assert json.loads((out/"config.json").read_text())["seed"] == 1
    state, _ = load_checkpoint(out)
    assert state["config"]["seed"] == 1 and len(json.loads((out/"history.json").read_text())) == state["it"]
    for p in list_checkpoints(out): assert json.loads(p.read_text())["state"]["config"]["seed"] == 1, p
    assert lock_holder(out) is None                      # released on exit


def test_every_method_takes_the_lock_and_never_replaces_a_finished_run(tmp_path, digits):
    "Issue 39: a coreset or 'whole' run into a finished DM run's folder (or beside a running one) is refused, nothing is replaced."
    from haba_nb.experiment import experiment_config, run_experiment
    from haba_nb.runs import run_lock, run_files
    out = tmp_path/"run"
    kw = dict(out_dir=str(out), ipc=2, iterations=2, eval_epochs=2, n_eval=1, width=16, n_hallucinators=3, device="cpu", compare=False)
    run_experiment(experiment_config(**kw), real=digits, figures=False)                    # a finished DM + HaBa run
    before = _files(out)
    for m in ("random", "herding", "whole"):
        with pytest.raises(RunFolderError) as e: run_experiment(experiment_config(**{**kw, "objective": m}), real=digits, figures=False)
        assert ("holds another run (dm+haba on digits, ipc 2, seed 0: results.json, artifact/, distill/ (checkpoints up to iteration 2"
                in str(e.value)), str(e.value)
        assert "-p overwrite True" in str(e.value) and "-p resume True" in str(e.value)
    with pytest.raises(RunFolderError, match="resume continues only the same run, and this one is random on digits"):
        run_experiment(experiment_config(**{**kw, "objective": "random", "resume": True}), real=digits, figures=False)
    with run_lock(out):                                                                     # as a running distillation holds it
        with pytest.raises(RunFolderError, match="is in use by another run"):
            run_experiment(experiment_config(**{**kw, "objective": "random", "overwrite": True}), real=digits, figures=False)
    assert _files(out) == before and lock_holder(out) is None                              # byte-identical, lock released
    r = run_experiment(experiment_config(**{**kw, "objective": "random", "overwrite": True}), real=digits, figures=False)
    assert r["method"] == "random" and run_files(out/"distill") == []                      # DM's run is gone with it, not mixed in
    assert json.loads((out/"artifact"/"meta.json").read_text())["method"] == "random"


def test_second_haba_run_into_a_busy_out_dir_is_refused_before_its_kernel_starts(tmp_path):
    from haba_nb.runs import run_lock
    out = tmp_path/"run"
    with run_lock(out):                                  # as a first haba-run would hold it
        r = subprocess.run(_haba_run(out), env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and f"is in use by another run: pid {os.getpid()} on host" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not (out/"run_distill.ipynb").exists()


def test_a_dead_runs_lock_does_not_block(tmp_path, digits):
    out = tmp_path/"run"; out.mkdir()
    p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket
    (out/LOCK_NAME).write_text(json.dumps({"pid": int(p.stdout), "host": socket.gethostname(), "since": 0}))
    distill(_cfg(out, iterations=1), real=digits)        # the holder is gone: taken over
    assert lock_holder(out) is None


# ------------------------------------------------------------------ (4) SIGTERM to haba-run
HR_PARAMS = ["-p", "iterations", "30", "-p", "ipc", "2", "-p", "n_hallucinators", "3", "-p", "width", "16",
             "-p", "eval_epochs", "2", "-p", "n_eval", "1", "-p", "device", "cpu"]


def _haba_run(out, *extra): return [sys.executable, "-m", "haba_nb.cli", *HR_PARAMS, "-p", "out_dir", str(out), *extra]


def _sigterm_once(p: subprocess.Popen, started: Path, after: float, timeout: float = 600) -> tuple:
    "SIGTERM `p` `after` seconds once the file `started` exists; its (stdout, stderr)."
    try:
        t0 = time.time()
        while not started.exists():
            assert p.poll() is None, p.communicate()
            assert time.time() - t0 < timeout, f"{started} did not appear"
            time.sleep(0.05)
        time.sleep(after)
        p.send_signal(signal.SIGTERM)
        return p.communicate(timeout=240)
    finally:
        if p.poll() is None: p.kill()


@pytest.mark.timeout(600)
def test_sigterm_to_haba_run_checkpoints_and_the_printed_command_finishes_the_run(tmp_path):
    env = _env(tmp_path)
    straight, victim_dir = tmp_path/"straight", tmp_path/"victim"
    ref = subprocess.Popen(_haba_run(straight), env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = subprocess.Popen(_haba_run(victim_dir), env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = _sigterm_once(victim, victim_dir/"distill"/"config.json", 1.0)    # the loop has started
    assert victim.returncode == 143, (out, err[-3000:])
    assert "Traceback" not in out + err
    line = [l for l in out.splitlines() if l.startswith("stopped ")]
    assert len(line) == 1, out
    m = re.match(r"stopped at iteration (\d+); resume with: (.+)$", line[0])
    if m:                                                             # the usual case: it stopped inside the loop
        n, cmd = int(m.group(1)), m.group(2)
        assert 1 <= n <= 30 and newest_checkpoint_it(victim_dir/"distill") == n
        assert cmd.endswith("-p resume True")
    else:                                                             # stopped before its first iteration finished
        n, cmd = 0, re.match(r"stopped before the first checkpoint; nothing to resume, start again with: (.+)$", line[0]).group(1)
    print(f"SIGTERM stopped the run at iteration {n}")
    again = subprocess.run(shlex.split(cmd), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert again.returncode == 0, again.stderr[-3000:]
    assert ref.wait(timeout=400) == 0, ref.communicate()[1][-3000:]
    a, b = load_checkpoint(straight/"distill")[0], load_checkpoint(victim_dir/"distill")[0]
    assert a["it"] == b["it"] == 30
    same_state(a["run"], b["run"])
    same_state(_untimed(a["history"]), _untimed(b["history"]))
    ra, rb = (json.loads((d/"results.json").read_text()) for d in (straight, victim_dir))
    assert ra["accuracy"]["ConvNet"]["accs"] == rb["accuracy"]["ConvNet"]["accs"]
    assert ra["storage"] == rb["storage"]
    if n: assert json.loads((victim_dir/"distill"/"final"/"meta.json").read_text())["resumed_from"] == n


@pytest.mark.timeout(900)
def test_stop_during_the_comparison_resumes_the_whole_run_with_the_printed_command_from_any_shell(tmp_path):
    "Issue 39: SIGTERM while compare=True runs its rows: the line says so, and its command (absolute program, no venv on PATH, another folder) finishes the run."
    from conftest import tool
    env = dict(_env(tmp_path), PATH="/usr/bin:/bin")                  # no virtual environment active
    out, elsewhere = tmp_path/"run", tmp_path/"elsewhere"; elsewhere.mkdir()
    p = subprocess.Popen([tool("haba-run"), *HR_PARAMS, "-p", "out_dir", str(out)], env=env, cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    so, se = _sigterm_once(p, out/"compare"/"dm-plain"/"distill"/"config.json", 0.3)   # the comparison's plain DM row has started
    assert p.returncode == 143, (so, se[-3000:])
    line = [l for l in so.splitlines() if l.startswith("stopped ")]
    m = re.match(r"stopped during the comparison step(?: \((compare/[\w-]+), iteration (\d+)\))?; the run itself is finished; "
                 r"resume with: (.+)$", line[0] if line else "")
    assert m, so
    print(line[0])
    cmd = shlex.split(m.group(3))
    assert cmd[0] == tool("haba-run") and os.path.isabs(cmd[0]) and cmd[-3:] == ["-p", "resume", "True"], cmd
    again = subprocess.run(cmd, env=env, cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "| random real images |" in (out/"comparison.md").read_text()
    assert json.loads((out/"results.json").read_text())["status"] == "ok"
    if m.group(1):                                                    # the stopped row continued from its checkpoint
        assert json.loads((out/m.group(1)/"distill"/"final"/"meta.json").read_text())["resumed_from"] == int(m.group(2))


def test_haba_run_error_is_its_problem_and_fix_and_the_fix_works(tmp_path, digits):
    "A run folder holding another run: haba-run prints the refusal (problem + fix, no traceback); the printed fix works."
    out = tmp_path/"run"
    distill(_cfg(out/"distill", iterations=2, seed=5), real=digits)                  # an older run's files
    (out/"run_distill.ipynb").write_text("the older run's executed notebook")
    r = subprocess.run(_haba_run(out), env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 4, r.stderr
    assert "holds another run (dm+haba on digits, ipc 2, seed 5: distill/ (checkpoints up to iteration 2" in r.stderr and r.stderr.count("How to fix:") == 1
    assert (out/"run_distill.ipynb").read_text() == "the older run's executed notebook"   # issue 39: refused before papermill wrote over it
    assert "[IPKernelApp]" not in r.stderr                                              # no kernel was started
    r = subprocess.run(_haba_run(out, "-p", "overwrite", "True"), env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert load_checkpoint(out/"distill")[0]["config"]["seed"] == 0 and json.loads((out/"results.json").read_text())["status"] == "ok"


# ------------------------------------------------------------------ (6) messages
def test_out_dir_with_a_file_in_the_way(tmp_path, digits):
    (tmp_path/"f").write_text("x")
    for out in (tmp_path/"f", tmp_path/"f"/"run"):
        with pytest.raises(RunFolderError) as e: distill(_cfg(out, iterations=1), real=digits)
        assert f"{tmp_path/'f'} is a file" in str(e.value) and "How to fix: pass another out_dir, or move the file" in str(e.value)


def test_read_only_out_dir(tmp_path, digits, monkeypatch):
    ro = tmp_path/"ro"; ro.mkdir(); ro.chmod(0o555)
    if os.geteuid() == 0:        # root writes anyway: make mkdir fail the way it does in a read-only folder
        real_mkdir = Path.mkdir
        def mkdir(self, *a, **k):
            if self.parent == ro: raise PermissionError(13, "Permission denied", str(self))
            return real_mkdir(self, *a, **k)
        monkeypatch.setattr(Path, "mkdir", mkdir)
    try:
        with pytest.raises(RunFolderError) as e: distill(_cfg(ro/"run", iterations=1), real=digits)
    finally: ro.chmod(0o755)
    assert "is not writable: Permission denied" in str(e.value) and f"chmod u+w {ro}" in str(e.value)


def test_out_dir_in_proc_gets_a_fix_that_works(tmp_path):
    "Issue 39: -p out_dir /proc/forbidden suggested chmod u+w /proc; the fix now names a folder that works as printed."
    from haba_nb.runs import make_out_dir
    env = dict(_env(tmp_path), HOME=str(tmp_path/"home"))
    r = subprocess.run(_haba_run("/proc/forbidden"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "out_dir /proc/forbidden is not writable" in r.stderr and "chmod" not in r.stderr, r.stderr
    m = re.search(r"-p out_dir (\S+)", r.stderr)
    assert m and m.group(1) == str(tmp_path/"home"/"haba-runs"/"forbidden"), r.stderr
    assert make_out_dir(m.group(1)).is_dir()                         # the suggested folder can be used as printed


@pytest.mark.parametrize("case", ["file", "empty", "three_of_four"])
def test_explicit_data_root_without_the_files_is_refused(case, tmp_path, monkeypatch):
    import haba_nb.data as hd
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    other = tmp_path/"debian"; other.mkdir()
    for n in names: (other/f"{n}.gz").write_bytes(b"x")          # a complete copy elsewhere must not be used silently
    monkeypatch.setattr(hd, "DEBIAN_FASHION_MNIST", other)
    root = tmp_path/"mine"; root.mkdir()
    if case == "file": root = root/"train-images-idx3-ubyte.gz"; root.write_bytes(b"x")
    if case == "three_of_four":
        for n in names[:3]: (root/f"{n}.gz").write_bytes(b"x")
    with pytest.raises(DataError) as e: hd.load_dataset("fashionmnist", data_root=root)
    msg = str(e.value)
    assert msg.count("How to fix:") == 1
    if case == "file": assert f"data_root {root} is a file, not a folder" in msg
    elif case == "empty": assert "holds 0 of its 4 files" in msg and all(n in msg for n in names)
    else: assert "holds 3 of its 4 files" in msg and "missing: t10k-labels-idx1-ubyte[.gz]" in msg


def test_artifact_meta_json_that_disagrees(tmp_path, digits):
    from haba_nb.basis import FactorizedSet
    from haba_nb.artifacts import save_artifact, load_artifact
    save_artifact(tmp_path/"a", FactorizedSet.from_real(digits, 1, n_hallucinators=2), dict(dataset="digits"))
    meta = json.loads((tmp_path/"a"/"meta.json").read_text())
    meta["config"]["num_classes"] = 12; (tmp_path/"a"/"meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=r"says num_classes=12, but the labels .* hold 10 classes \(0..9\)"): load_artifact(tmp_path/"a")
    meta["config"]["num_classes"] = 10; meta["config"]["image_shape"] = [1, 8, 9]; (tmp_path/"a"/"meta.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError) as e: load_artifact(tmp_path/"a")
    assert str(e.value).count("How to fix:") == 1 and "no usable config: bases of shape (1, 8, 8)" in str(e.value)


def test_ipc_beyond_the_smallest_class_names_the_real_numbers(tmp_path, digits):
    from haba_nb.distill import selection_split
    # the images a set can be initialised from: the training split less the validation images held out for selection
    have = min(len(i) for i in selection_split(digits, _cfg(tmp_path/"x", ipc=1000, iterations=1))[0].indices_class)
    assert have < 131                                                   # digits' smallest class has 131 before the split
    with pytest.raises(ConfigError) as e: distill(_cfg(tmp_path/"run", ipc=1000, iterations=1), real=digits)
    assert "ipc=1000 buys bpc=999 bases per class" in str(e.value) and f"has only {have} training images" in str(e.value)
    assert f"bpc <= {have}" in str(e.value)
    with pytest.raises(ConfigError, match=f"ipc=1000 images per class .* only {have}"):
        distill(_cfg(tmp_path/"run", ipc=1000, iterations=1, parameterisation="plain"), real=digits)
