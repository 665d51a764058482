import os, sys, shutil
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def tool(name: str) -> str:
    "A console script of this environment (papermill, haba-sweep, ...)."
    p = BIN/name
    return str(p) if p.exists() else (shutil.which(name) or name)

@pytest.fixture
def env(tmp_path):
    "Subprocess environment: no dataset folders but the ones a test makes, few threads."
    e = dict(os.environ, HABA_DATA=str(tmp_path/'no-data'), XDG_CACHE_HOME=str(tmp_path/'cache'),
             OMP_NUM_THREADS='2', PYTHONUNBUFFERED='1')
    return e


def pytest_terminal_summary(terminalreporter):
    "The CPU the suite ran on, last in the log (native kernels, compiled ones included, are chosen by it)."
    import importlib.util
    spec = importlib.util.spec_from_file_location("haba_nbtest_tool", ROOT/"tools"/"nbtest.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    terminalreporter.write_line(f"ran on {mod.cpu()}")
