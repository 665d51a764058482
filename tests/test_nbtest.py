"""tools/nbtest.py (what `make nbtest` runs): a failed cell and a native crash each fail only their own notebook, and
the end of the output names both, how each failed and, for the crash, where in Python it was."""
from __future__ import annotations
import subprocess, sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    return path


def test_failures_and_crashes_are_named_at_the_end(tmp_path):
    ok = _notebook(tmp_path/"passes.ipynb", "x = 1", "assert x == 1")
    fails = _notebook(tmp_path/"fails.ipynb", "x = 1", "assert x == 2, 'x is not two'")
    crashes = _notebook(tmp_path/"crashes.ipynb", "import os\ndef abort_here(): os.abort()", "abort_here()")
    r = subprocess.run([sys.executable, str(ROOT/"tools"/"nbtest.py"), str(ok), str(fails), str(crashes)],
                       capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "ok   passes.ipynb" in r.stdout
    assert "1 of 3 notebooks passed" in r.stdout
    tail = r.stdout[r.stdout.rindex("nbtest: 2 notebook(s) failed"):]
    assert "--- fails.ipynb: a cell failed" in tail and "x is not two" in tail
    assert "--- crashes.ipynb: died of SIGABRT; run again alone: died of SIGABRT" in tail
    assert "in abort_here" in tail                         # the crashed thread's Python frames
    assert "Extension modules" not in tail                 # the long module list is left out


def test_all_pass_exits_zero_and_bad_path_says_so(tmp_path):
    ok = _notebook(tmp_path/"passes.ipynb", "assert 1 + 1 == 2")
    r = subprocess.run([sys.executable, str(ROOT/"tools"/"nbtest.py"), str(ok)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "1 of 1 notebooks passed" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([sys.executable, str(ROOT/"tools"/"nbtest.py"), str(tmp_path/"missing.ipynb")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "no such notebook" in r.stderr and "Traceback" not in r.stderr
