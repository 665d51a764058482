"""The package's modules form layers (issue 40): no import cycle among haba_nb's modules, counting every import
(top of the module and inside functions, relative and absolute), and no module imports one from a higher layer.
A module imports from another only what it uses (no re-exports kept for old import paths) and no private name.

`HABA_LAYERS_PKG=/path/to/haba_nb pytest tests/test_layers.py` checks another copy of the package (an older commit)."""
import ast, os
from pathlib import Path
import pytest

PKG = Path(os.environ.get('HABA_LAYERS_PKG') or Path(__file__).resolve().parent.parent/'haba_nb')

# Bottom to top: a module may import modules of its own layer (acyclic, checked below) and of lower layers only.
LAYERS = (
    ('__init__', 'names', 'core'),                                     # shared names and basics
    ('data', 'networks', 'augment', 'analytic', 'parallel'),           # data, networks, the Ray engine
    ('hallucinator', 'budget', 'basis', 'contrastive', 'evaluate', 'coreset', 'matching'),  # sets, evaluation, what objectives share
    ('experts', 'mtt', 'objectives'),                                  # the objectives (objectives: the one entry point)
    ('runs', 'artifacts', 'distributed', 'config'),                    # a run's configuration and files
    ('monitor', 'widgets', 'figures'),                                 # views of a set and its curves
    ('distill', 'experiment'),                                         # one run, one table cell
    ('compare',),                                                      # a finished cell beside its baselines
    ('sweep', 'cli'),                                                  # grids and command-line entry points
)
LAYER = {m: i for i, ms in enumerate(LAYERS) for m in ms}
SKIP = ('_modidx',)   # nbdev's index: names only, no imports


def package_imports(pkg: Path, name: str = 'haba_nb') -> dict:
    "{module: {module it imports: first line}} for every intra-package import in `pkg`/*.py, wherever it stands in the file."
    mods = {p.stem for p in pkg.glob('*.py') if p.stem not in SKIP}
    def target(parts: list) -> str | None:
        "The package module `parts` (a dotted name below the package) refers to; '__init__' for the package itself."
        return '__init__' if not parts else parts[0] if parts[0] in mods else None
    graph = {}
    for m in sorted(mods):
        edges = graph.setdefault(m, {})
        def add(t, line):
            if t is not None and t != m: edges.setdefault(t, line)
        for node in ast.walk(ast.parse((pkg/f'{m}.py').read_text(), f'{m}.py')):
            if isinstance(node, ast.ImportFrom):
                if node.level > 1: raise AssertionError(f"{m}.py:{node.lineno}: an import above the package")
                if node.level == 1: parts = node.module.split('.') if node.module else []
                elif node.module and node.module.split('.')[0] == name: parts = node.module.split('.')[1:]
                else: continue
                if parts: add(target(parts), node.lineno)
                else:   # `from . import x` / `from haba_nb import x`: x is a module, or a name of __init__
                    for a in node.names: add(a.name if a.name in mods else '__init__', node.lineno)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split('.')[0] == name: add(target(a.name.split('.')[1:]), node.lineno)
            elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                  and isinstance(node.args[0].value, str) and node.args[0].value.split('.')[0] == name
                  and (getattr(node.func, 'attr', None) or getattr(node.func, 'id', None)) in ('import_module', '__import__')):
                add(target(node.args[0].value.split('.')[1:]), node.lineno)
    return graph


def find_cycle(graph: dict, within: set | None = None) -> list | None:
    "One cycle of `graph` (among the modules `within`, default all) as [a, b, ..., a], or None."
    nodes = set(graph) if within is None else within
    state, stack = {}, []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for t in sorted(t for t in graph.get(m, ()) if t in nodes):
            if state.get(t) == 'open': return stack[stack.index(t):] + [t]
            if t not in state and (c := visit(t)): return c
        state[m] = 'done'; stack.pop()
        return None
    for m in sorted(nodes):
        if m not in state and (c := visit(m)): return c
    return None


def tangles(graph: dict) -> list:
    "The groups of modules that import each other, directly or around a cycle (strongly connected components of 2+), sorted."
    reach = {m: set() for m in graph}
    for m in graph:
        todo = list(graph[m])
        while todo:
            t = todo.pop()
            if t in graph and t not in reach[m]: reach[m].add(t); todo += list(graph[t])
    groups = {frozenset({m} | {t for t in reach[m] if m in reach[t]}) for m in graph if m in reach[m]}
    return sorted((sorted(g) for g in groups), key=lambda g: (-len(g), g))


def describe(graph: dict, path: list) -> str:
    return ' -> '.join(f"{a} (line {graph[a][b]})" for a, b in zip(path, path[1:])) + f" -> {path[-1]}"


# ------------------------------------------------------------------ the detector itself, on small made-up packages
def _pkg(tmp_path, files: dict) -> Path:
    for n, src in files.items(): (tmp_path/f'{n}.py').write_text(src)
    return tmp_path

@pytest.mark.parametrize('a_src', ["from .b import f\n", "def g():\n    from haba_nb.b import f\n",
                                   "def g():\n    import haba_nb.b\n", "from . import b\n",
                                   "def g():\n    import importlib; importlib.import_module('haba_nb.b')\n"])
def test_detector_sees_every_form_of_import(tmp_path, a_src):
    "A cycle closed through a function-level, absolute, `from . import` or importlib import is a cycle."
    g = package_imports(_pkg(tmp_path, {'a': a_src, 'b': "def f():\n    from .a import g\n", 'c': "import os\n"}))
    assert set(g['a']) == {'b'} and set(g['b']) == {'a'} and g['c'] == {}
    assert find_cycle(g) in (['a', 'b', 'a'], ['b', 'a', 'b']) and tangles(g) == [['a', 'b']]

def test_detector_passes_a_chain(tmp_path):
    g = package_imports(_pkg(tmp_path, {'a': "from .b import f\nfrom . import __version__\n", 'b': "from haba_nb.c import h\n",
                                        'c': "import haba_nb_other\nfrom os import path\n", '__init__': "__version__ = '0'\n"}))
    assert g == {'__init__': {}, 'a': {'b': 1, '__init__': 2}, 'b': {'c': 1}, 'c': {}} and find_cycle(g) is None and tangles(g) == []

# ------------------------------------------------------------------ the package
def test_no_import_cycle():
    g = package_imports(PKG)
    assert len(g) > 20, f"no package modules found in {PKG}"
    groups = tangles(g)
    assert not groups, f"import cycles in {PKG}:\n" + "\n".join(
        f"{', '.join(grp)} import each other, e.g. {describe(g, find_cycle(g, set(grp)))}" for grp in groups)

def test_every_module_has_a_layer():
    missing = sorted(set(package_imports(PKG)) - set(LAYER))
    assert not missing, f"modules without a layer: {missing}; add each to LAYERS in {__file__}"

def test_no_module_imports_a_higher_layer():
    g = package_imports(PKG)
    up = [f"{m} (layer {LAYER[m]}, line {line}) imports {t} (layer {LAYER[t]})"
          for m, ts in g.items() for t, line in ts.items() if m in LAYER and t in LAYER and LAYER[t] > LAYER[m]]
    assert not up, "imports against the layering:\n" + "\n".join(up)



def package_names_imported(pkg: Path, name: str = 'haba_nb') -> list:
    "(module, line, bound name, imported name) of every name a module binds by importing from the package."
    mods, out = sorted(p.stem for p in pkg.glob('*.py') if p.stem not in SKIP), []
    for m in mods:
        for node in ast.walk(ast.parse((pkg/f'{m}.py').read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or '').split('.')[0] == name):
                out += [(m, node.lineno, a.asname or a.name, a.name) for a in node.names]
            elif isinstance(node, ast.Import):
                out += [(m, node.lineno, (a.asname or a.name).split('.')[0], a.name) for a in node.names if a.name.split('.')[0] == name]
    return out

def reexports(pkg: Path) -> list:
    "Names a module imports from the package and never uses: re-exports kept for someone else's import path (a star import always is one)."
    used = {}
    def uses(m):
        if m not in used: used[m] = {n.id for n in ast.walk(ast.parse((pkg/f'{m}.py').read_text())) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        return used[m]
    return [f"{m}.py:{line}: " + ("import * (import what the module uses, by name)" if src == '*' else
                                   f"{src} is imported but never used (its importers should import it from where it is defined)")
            for m, line, bound, src in package_names_imported(pkg) if src == '*' or bound not in uses(m)]

def private_imports(pkg: Path) -> list:
    "Private names (`_name`, not dunders) one module imports from another."
    return [f"{m}.py:{line}: imports {src}" for m, line, _, src in package_names_imported(pkg) if src.startswith('_') and not src.startswith('__')]

def test_the_import_checks_see_reexports_and_private_names(tmp_path):
    pkg = _pkg(tmp_path, {'a': "X = 1\n_y = 2\n", 'b': "from .a import X, _y\nfrom haba_nb.a import *\nfrom . import __version__\nZ = _y + len(__version__)\n"})
    assert reexports(pkg) == ["b.py:1: X is imported but never used (its importers should import it from where it is defined)",
                              "b.py:2: import * (import what the module uses, by name)"]
    assert private_imports(pkg) == ["b.py:1: imports _y"]

def test_every_imported_package_name_is_used():
    assert not (r := reexports(PKG)), "\n".join(r)

def test_no_private_name_crosses_modules():
    assert not (p := private_imports(PKG)), "\n".join(p)
