"""bench/harness.py, and the bench scripts on it (issue 40, item 6): one median, one JSON writer with the commit and the
machine, every script's --help, and docstrings that say how to run a script rather than what it measured on a day."""
import ast, json, os, re, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / 'bench'
sys.path.insert(0, str(BENCH))
import harness  # noqa: E402

SCRIPTS = sorted(p for p in BENCH.glob('*.py') if p.name != 'harness.py')
# scripts that need nothing of the harness, and why (the test checks that they still write no JSON)
NO_HARNESS = {'plot_balance.py': "draws a figure from a run's history.json: times nothing, writes no JSON"}


def test_median():
    assert harness.median([3, 1, 2]) == 2 and harness.median([4, 1, 2, 3]) == 2.5 and harness.median(iter([5.0])) == 5.0
    assert harness.median([], default=None) is None
    with pytest.raises(ValueError): harness.median([])


def test_interleave_rounds():
    calls = []
    out = harness.interleave({'a': lambda i: calls.append(('a', i)), 'b': lambda i: calls.append(('b', i))}, 2, warmup=1, block=2)
    assert calls == [('a', 0), ('b', 0), ('a', 1), ('a', 1), ('b', 1), ('b', 1), ('a', 2), ('a', 2), ('b', 2), ('b', 2)]
    assert list(out) == ['a', 'b'] and all(len(v) == 2 and min(v) >= 0 for v in out.values())
    assert harness.interleave({'x': lambda i: i * 10}, 3, warmup=1, own_clock=True) == {'x': [10, 20, 30]}
    between = []
    harness.interleave({'a': lambda i: None}, 3, between=lambda: between.append(1))
    assert len(between) == 3
    ts = harness.timed(lambda: time.sleep(0.01), 2, warmup=1)
    assert len(ts) == 2 and min(ts) >= 0.009


def test_save_json_meta_and_atomic(tmp_path, monkeypatch):
    p = tmp_path / 'sub' / 'r.json'
    harness.save_json(p, {'commit': 'abc', 'rows': [1, 2], 'path': Path('x')})
    d = json.loads(p.read_text())
    assert (d['commit'], d['rows'], d['path']) == ('abc', [1, 2], 'x')          # the script's own keys, as given
    m = d['meta']
    assert set(m) == {'commit', 'dirty', 'machine', 'date', 'command'}
    git = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert m['commit'] == (git or None) and isinstance(m['dirty'], (bool, type(None)))
    assert set(m['machine']) >= {'cpu', 'cores', 'torch_threads', 'torch', 'hostname', 'load_average'}
    assert m['machine']['cores'] == os.cpu_count() and re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', m['date'])
    with pytest.raises(ValueError): harness.save_json(p, {'meta': 1})
    # a write that fails (unserialisable payload, or the rename) leaves the old file whole and no temporary file behind
    with pytest.raises(TypeError): harness.save_json(p, {'bad': object()})
    def fail(*a): raise OSError('disk full')
    monkeypatch.setattr(harness.os, 'replace', fail)
    with pytest.raises(OSError): harness.save_json(p, {'rows': [3]})
    assert json.loads(p.read_text()) == d and [f.name for f in p.parent.iterdir()] == ['r.json']


def test_records(tmp_path):
    p = tmp_path / 'records.json'
    assert harness.load_records(p) == []
    harness.append_record(p, {'a': 1})
    recs = harness.append_record(p, {'a': 2}, with_meta=False)
    assert recs == json.loads(p.read_text()) and [r['a'] for r in recs] == [1, 2]
    assert 'meta' in recs[0] and 'meta' not in recs[1]


def test_table_and_args():
    import argparse
    assert harness.md_table(['a', 'b'], [[1, 'x'], [2.5, None]]) == '| a | b |\n|---|---|\n| 1 | x |\n| 2.5 | None |'
    ap = harness.add_common_args(argparse.ArgumentParser(), threads=[1, 2], rounds=3, out='o.json')
    a = ap.parse_args([])
    assert (a.threads, a.rounds, a.out) == ([1, 2], 3, 'o.json')
    assert ap.parse_args(['--threads', '4', '1', '--rounds', '1']).threads == [4, 1]
    assert not hasattr(harness.add_common_args(argparse.ArgumentParser(), threads=2).parse_args([]), 'rounds')


def _calls(tree):
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            yield n, (f.attr if isinstance(f, ast.Attribute) else getattr(f, 'id', None)), \
                (f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None)


@pytest.mark.parametrize('script', SCRIPTS, ids=lambda p: p.name)
def test_script_uses_the_harness(script):
    src = script.read_text()
    tree = ast.parse(src)
    imports = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
              {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    problems = []
    if script.name in NO_HARNESS:
        if any(name in ('dump', 'dumps', 'save_json', 'atomic_write_json') for _, name, _ in _calls(tree)):
            problems.append("writes JSON: take bench/harness.py and leave NO_HARNESS")
    elif 'harness' not in imports:
        problems.append("does not import bench/harness.py")
    problems += [f"defines its own median ({n.name})" for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and 'median' in n.name]
    stats = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names if a.name == 'statistics'}
    if any(isinstance(n, ast.ImportFrom) and n.module == 'statistics' and any(a.name == 'median' for a in n.names) for n in ast.walk(tree)):
        problems.append("imports statistics.median (use harness.median)")
    for call, name, owner in _calls(tree):
        if name == 'median' and owner in stats:
            problems.append(f"line {call.lineno}: statistics.median (use harness.median)")
        if name == 'write_text' and call.args and any(c[1] == 'dumps' for c in _calls(call.args[0])):
            problems.append(f"line {call.lineno}: write_text(json.dumps(...)) (use harness.save_json: atomic, with meta)")
        if name == 'atomic_write_json' and not any(isinstance(c, ast.Constant) and 'trajector' in str(c.value)
                                                   for c in ast.walk(call.args[0])):
            problems.append(f"line {call.lineno}: atomic_write_json of a result (use harness.save_json: with meta)")
    if 'rev-parse' in src and script.name not in ('bench_official.py',):   # bench_official: the official checkout's commit
        problems.append("asks git for the commit itself (use harness.commit / meta)")
    assert not problems, f"{script.name}: " + '; '.join(problems)


@pytest.mark.parametrize('script', SCRIPTS, ids=lambda p: p.name)
def test_docstring_says_how_to_run(script):
    doc = ast.get_docstring(ast.parse(script.read_text())) or ''
    assert f'bench/{script.name}' in doc, f"{script.name}: the docstring gives no command (python bench/{script.name} ...)"
    if script.name not in NO_HARNESS:
        assert 'JSON' in doc or '.json' in doc, f"{script.name}: the docstring does not say what its JSON holds"
    dated = re.findall(r'.{0,40}(?:\b20\d\d-\d\d-\d\d\b|\bsessions?\b|this week|today|yesterday).{0,40}', doc, flags=re.I)
    assert not dated, f"{script.name}: a dated measurement belongs in results/NOTES.md (## bench), not the docstring: {dated}"


@pytest.mark.parametrize('script', SCRIPTS, ids=lambda p: p.name)
def test_help(script):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    r = subprocess.run([sys.executable, str(script), '--help'], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'usage:' in r.stdout, f"{script.name} --help:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
