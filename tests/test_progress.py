"`haba-run` shows its progress while it distils: a tqdm bar on a terminal, a few plain lines in a log; a failure says its problem once (issue 42)."
import os, pty, re, subprocess, sys, threading

PARAMS = ["-p", "iterations", "30", "-p", "ipc", "2", "-p", "n_hallucinators", "3", "-p", "width", "16",
          "-p", "eval_epochs", "2", "-p", "n_eval", "1", "-p", "device", "cpu", "-p", "compare", "False"]


def _cmd(out): return [sys.executable, "-m", "haba_nb.cli", *PARAMS, "-p", "out_dir", str(out)]


def test_progress_bar_on_a_terminal(tmp_path, env):
    master, slave = pty.openpty()                 # stderr is a terminal, as in an interactive shell
    p = subprocess.Popen(_cmd(tmp_path/"run"), env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    def read():
        while True:
            try: b = os.read(master, 4096)
            except OSError: return                # EIO: the other side closed
            if not b: return
            chunks.append(b)
    t = threading.Thread(target=read, daemon=True); t.start()
    out = p.communicate(timeout=600)[0].decode()
    t.join(30); os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 0, out + err[-3000:]
    assert "distilling" in err and "30/30" in err and "loss=" in err, err[-3000:]
    assert re.search(r"\d(it/s|s/it)", err) and "\r" in err, err[-3000:]    # tqdm's rate, redrawn in place
    assert not (tmp_path/"run"/"progress.json").exists() or (tmp_path/"run"/"progress.json").stat().st_size < 1000


def test_progress_in_a_log_is_a_few_plain_lines(tmp_path, env):
    env = dict(env, HABA_PROGRESS_EVERY="3600")   # a CI log: the first and the last line only
    r = subprocess.run(_cmd(tmp_path/"run"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [l for l in r.stderr.splitlines() if l.startswith("distilling:")]
    assert "\r" not in r.stderr and 1 <= len(lines) <= 2, r.stderr[-3000:]
    assert re.fullmatch(r"distilling: iteration 30/30, loss [0-9.e+-]+, [0-9.e+-]+ s/it, ETA 0:00:00", lines[-1]), lines


def test_haba_run_says_the_problem_and_fix_once(tmp_path, env):
    r = subprocess.run(_cmd(tmp_path/"run") + ["-p", "dataset", "imagenet-zz"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stdout + r.stderr, r.stderr[-3000:]
    assert r.stderr.count("unknown dataset 'imagenet-zz'") == 1 and "How to fix: use one of: digits" in r.stderr, r.stderr
