"""A distillation killed with SIGKILL (or stopped with SIGTERM) and resumed gives bit-for-bit the tensors of an
uninterrupted run; a damaged newest checkpoint is skipped in favour of the previous one.

Real processes, real files: `python -c "... distill(cfg)"` on `digits`, tiny sizes, checkpoint_every=1.
"""
import json, random, shutil, signal, subprocess, sys, time, warnings
from pathlib import Path

import pytest
import torch

from haba_nb.config import DistillConfig
from haba_nb.runs import load_checkpoint, list_checkpoints, newest_checkpoint_it
from haba_nb.distill import distill, same_state

ITERS = 60   # long enough that a kill shortly after the 2nd checkpoint lands mid-run on an idle machine
TINY = dict(ipc=2, n_hallucinators=3, width=16, adversary_width=16, n_eval=0, diversity_every=5, progress=False,
            seed=7, checkpoint_every=1, objective_kwargs={"batch_real": 16})
SCRIPT = f"""
import sys, torch
torch.set_num_threads(1)
from haba_nb.config import DistillConfig
from haba_nb.distill import distill
distill(DistillConfig(out_dir=sys.argv[1], iterations=int(sys.argv[2]), **{TINY!r}), resume=sys.argv[3] == "1")
"""


def _start(out: Path, resume: bool, **change) -> subprocess.Popen:
    script = SCRIPT if not change else SCRIPT.replace(f"**{TINY!r}", f"**{dict(TINY, **change)!r}")
    return subprocess.Popen([sys.executable, "-c", script, str(out), str(ITERS), "1" if resume else "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(p: subprocess.Popen, what: str) -> str:
    out, err = p.communicate(timeout=240)
    assert p.returncode == 0, f"{what} failed ({p.returncode}):\n{err[-3000:]}"
    return err


def _wait_for_checkpoint(out: Path, p: subprocess.Popen, n: int = 1, timeout: float = 120.0):
    t0 = time.time()
    while len(list_checkpoints(out)) < n:
        assert p.poll() is None, f"the run ended before its first checkpoint:\n{p.communicate()[1][-3000:]}"
        assert time.time() - t0 < timeout, "no checkpoint appeared"
        time.sleep(0.02)


def _resume_here(out: Path):
    "Resume in this process (the kill is what needs a real process; this saves a ~5 s import per resume)."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    try:
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            res = distill(DistillConfig(out_dir=str(out), iterations=ITERS, **TINY), resume=True)
        return res, [str(w.message) for w in ws]
    finally: torch.set_num_threads(n)


def _untimed(history): return [{k: v for k, v in r.items() if k != "time"} for r in history]


def _assert_same_run(a: Path, b: Path):
    sa, sb = load_checkpoint(a)[0], load_checkpoint(b)[0]
    assert sa["it"] == sb["it"] == ITERS
    same_state(sa["run"], sb["run"])          # bases, hallucinators, adversary, objective, optimisers, RNGs: torch.equal
    same_state(_untimed(sa["history"]), _untimed(sb["history"]))
    assert json.loads((a/"history.json").read_text())[-1]["loss"] == json.loads((b/"history.json").read_text())[-1]["loss"]


def _meta(out: Path) -> dict: return json.loads((out/"final"/"meta.json").read_text())


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    "The uninterrupted reference run; started once, in the background, shared by both tests."
    out = tmp_path_factory.mktemp("straight")
    p = _start(out, resume=False)
    def wait() -> Path:
        if p.returncode is None: _finish(p, "the uninterrupted run")
        return out
    yield wait
    if p.poll() is None: p.kill()


@pytest.mark.timeout(600)
def test_sigkill_then_resume_is_bit_exact_and_damaged_checkpoint_is_skipped(tmp_path, straight):
    killed, damaged = tmp_path/"killed", tmp_path/"damaged"
    victim = _start(killed, resume=False)
    _wait_for_checkpoint(killed, victim, n=2)     # two, so that the damaged copy below has one to fall back to
    delay = random.Random().uniform(0.0, 0.3)      # then a random moment (mid-iteration or mid-checkpoint-write)
    time.sleep(delay)
    assert victim.poll() is None, f"the run finished within {delay:.2f}s of its first checkpoint; raise ITERS"
    victim.send_signal(signal.SIGKILL); victim.wait()
    assert victim.returncode == -signal.SIGKILL
    done = newest_checkpoint_it(killed)
    assert 1 <= done < ITERS, done

    # a copy of the killed run whose newest checkpoint is damaged (truncated tensor file, as a torn copy would be)
    shutil.copytree(killed, damaged)
    ckpts = list_checkpoints(damaged)
    assert len(ckpts) >= 2, ckpts
    newest = ckpts[-1].with_suffix(".safetensors")
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    expect_fallback = int(ckpts[-2].stem.split("-")[1])

    r1, _ = _resume_here(killed)
    r2, msgs = _resume_here(damaged)

    assert r1.meta["resumed_from"] == done == _meta(killed)["resumed_from"]
    assert r2.meta["resumed_from"] == expect_fallback
    assert any("trying the previous checkpoint" in m and ckpts[-1].name in m for m in msgs), msgs   # reported, not silent
    ref = straight()
    _assert_same_run(ref, killed)
    _assert_same_run(ref, damaged)
    assert _meta(ref)["resumed_from"] is None


@pytest.mark.timeout(600)
def test_sigterm_checkpoints_and_resumes(tmp_path, straight):
    out = tmp_path/"term"
    p = _start(out, resume=False)
    _wait_for_checkpoint(out, p)
    time.sleep(0.3)
    assert p.poll() is None, "the run finished before SIGTERM; raise ITERS"
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode != 0 and "KeyboardInterrupt" in err     # it stops, it does not carry on
    state, path = load_checkpoint(out)
    assert 1 <= state["it"] < ITERS
    assert len(json.loads((out/"history.json").read_text())) == state["it"]   # history saved up to the checkpoint
    assert _resume_here(out)[0].meta["resumed_from"] == state["it"]
    _assert_same_run(straight(), out)


@pytest.mark.timeout(600)
def test_sigkill_after_a_timed_checkpoint_loses_only_what_came_after_it(tmp_path, straight):
    "Issue 39: no iteration cadence (checkpoint_every=0), only the clock (checkpoint_seconds=1): a SIGKILL after the first timed checkpoint resumes bit-exact."
    killed = tmp_path/"killed"
    victim = _start(killed, resume=False, checkpoint_every=0, checkpoint_seconds=1.0)
    _wait_for_checkpoint(killed, victim, n=1, timeout=240)     # the clock's checkpoint: nothing else writes one before the end
    time.sleep(random.Random().uniform(0.0, 0.3))
    assert victim.poll() is None, "the run finished within 0.3 s of its first timed checkpoint; raise ITERS"
    victim.send_signal(signal.SIGKILL); victim.wait()
    done = newest_checkpoint_it(killed)
    assert 1 <= done < ITERS, done                              # saved by the clock alone, mid-run
    res, _ = _resume_here(killed)
    assert res.meta["resumed_from"] == done
    _assert_same_run(straight(), killed)
