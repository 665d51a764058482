"""README.md is generated from nbs/index.ipynb, cites only what the repository holds, and its commands stay valid.

Cheap (a few seconds, no run is started): the README must equal what `tools/docs.py readme` makes of index.ipynb; every
relative link, and every backticked path into a folder or file the repository tracks, must exist; every `make` target
named must be in the Makefile; every `.venv/bin/` tool must be in this environment; haba-sweep's and haba-experts' flags
must be in their parsers; papermill's and haba-run's `-p NAME VALUE` pairs must pass `experiment_config`; the Python
example's imports must resolve.
"""
from __future__ import annotations
import ast, configparser, contextlib, importlib, importlib.util, io, re, shlex, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _docs_tool():
    spec = importlib.util.spec_from_file_location("haba_docs_tool", ROOT/"tools"/"docs.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def _readme() -> str: return (ROOT/"README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", _readme(), flags=re.MULTILINE | re.DOTALL)


def _commands() -> list[list[str]]:
    "Every command of the README's bash blocks, continuation lines joined, comments dropped, split as the shell would."
    cmds = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words: cmds.append(words)
    return cmds


def _tracked_top() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {p.split("/")[0] for p in out.splitlines()}


def test_readme_is_what_index_generates():
    problem = _docs_tool().check_readme()
    assert problem is None, problem


def test_readme_cites_only_what_the_repository_holds():
    text = _readme()
    links = [u for u in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"^[a-z][a-z0-9+.-]*:|^#", u)]
    top = _tracked_top()
    paths = [t for t in re.findall(r"`([^`\s]+)`", text)
             if "/" in t and t.split("/")[0] in top and not t.startswith("haba_nb.")] + \
            [t for t in re.findall(r"`([^`\s/]+\.(?:md|ipynb|py|json|ini|toml))`", text) if t in top]
    assert links, "README.md links nothing in the repository"
    missing = [p for p in links + paths if not (ROOT/p.split("#")[0]).exists()]
    assert not missing, f"README.md cites paths the repository does not hold: {missing}"


def test_readme_commands_are_valid():
    cmds = _commands()
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT/"Makefile").read_text(), flags=re.MULTILINE))
    scripts = dict(entry.split("=", 1) for entry in _console_scripts())
    seen = set()
    for words in cmds:
        prog = words[0]
        if prog == "make":
            assert set(words[1:]) <= targets, (words, sorted(targets)); seen.add("make"); continue
        assert prog.startswith(".venv/bin/"), f"README command not run from the venv: {words}"
        name = prog.removeprefix(".venv/bin/")
        assert (BIN/name).exists(), f"README names {prog}, which this environment lacks"
        seen.add(name)
        if name in ("papermill", "haba-run"):
            if name == "papermill": assert words[1] == "nbs/run_distill.ipynb" and (ROOT/words[1]).exists(), words
            _check_parameters(words)
        elif name in scripts:
            _check_flags(name, scripts[name], [w for w in words[1:] if w.startswith("--")])
    assert {"make", "papermill", "haba-run", "haba-sweep", "haba-experts", "jupyter"} <= seen, seen
    named = set(re.findall(r"`make ([\w-]+)`", _readme()))
    assert "docs" in named and named <= targets, (sorted(named - targets), "README must say how to build the docs: `make docs`")


def _console_scripts() -> list[str]:
    cfg = configparser.ConfigParser(); cfg.read(ROOT/"settings.ini")
    return cfg["DEFAULT"]["console_scripts"].split()


def _check_parameters(words: list[str]):
    "papermill / haba-run `-p NAME VALUE` pairs: accepted by experiment_config (names and values)."
    from haba_nb.experiment import experiment_config
    params = {words[i + 1]: words[i + 2] for i, w in enumerate(words) if w == "-p"}
    assert params, words
    experiment_config(**params)   # raises a ConfigError naming the bad parameter


def _check_flags(name: str, entry: str, flags: list[str]):
    "Every `--flag` used is in the console script's --help."
    mod, func = entry.split(":")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        getattr(importlib.import_module(mod), func)(["--help"])
    unknown = [f for f in flags if not re.search(rf"(^|[\s,\[]){re.escape(f)}\b", out.getvalue())]
    assert not unknown, f"{name} has no option(s) {unknown}"


def test_readme_python_example_imports_resolve():
    (src,) = _blocks("python")
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = importlib.import_module(node.module)
            missing = [a.name for a in node.names if not hasattr(mod, a.name)]
            assert not missing, f"README imports {missing} from {node.module}, which has no such names"
