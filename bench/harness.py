"""What every bench script repeats, written once: rounds of timed calls and their medians, the facts a timing needs
beside it (commit, machine, date, command), JSON written atomically (haba_nb.core's writer) with those facts under "meta", markdown tables,
and the flags most scripts take. Standard library at import; torch is looked at only if a script already imported it.

    from harness import median, timed, interleave, meta, save_json, md_table, add_common_args

A script in bench/ runs as `python bench/NAME.py`, so bench/ is on sys.path and `import harness` finds this file.
"""
from __future__ import annotations
import functools, json, os, platform, socket, statistics, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_RAISE = object()


def median(values, default=_RAISE):
    "statistics.median of `values`; `default` (when given) instead of the ValueError for none."
    values = list(values)
    if not values and default is not _RAISE: return default
    return statistics.median(values)


def literal(s: str):
    "A FIELD=VALUE value from the command line as the Python literal it spells (3.0, True, None, [1, 2]), else the string."
    import ast
    try: return ast.literal_eval(s)
    except (ValueError, SyntaxError): return s


def timed(fn, rounds: int, warmup: int = 0, sync=None) -> list[float]:
    "Seconds of each of `rounds` calls of `fn()` after `warmup` untimed ones; `sync()` (e.g. CUDA's) before each clock read."
    return interleave({'fn': lambda _: fn()}, rounds, warmup=warmup, sync=sync)['fn']


def interleave(fns: dict, rounds: int, warmup: int = 0, block: int = 1, between=None, sync=None,
               own_clock: bool = False) -> dict[str, list]:
    """Variants measured round by round (A B C, A B C, ...) so that a shared, drifting CPU slows all of them alike.

    `fns` maps a name to `fn(i)`; `i` is the call's index: 0 .. warmup-1 for the untimed warm-up rounds, then
    warmup .. warmup+rounds-1 (seed a round's draw with it). Returns name -> one value per timed round: the seconds
    per call (the mean of `block` consecutive calls, `between()` run untimed before each sample) or, with
    `own_clock=True`, what `fn` returns (a function that times itself: a training run's seconds, per-phase times)."""
    sync = sync or (lambda: None)
    for i in range(warmup):
        for f in fns.values(): f(i)
    out = {k: [] for k in fns}
    for i in range(warmup, warmup + rounds):
        for k, f in fns.items():
            if own_clock: out[k].append(f(i)); continue
            if between is not None: between()
            sync(); t0 = time.perf_counter()
            for _ in range(block): f(i)
            sync(); out[k].append((time.perf_counter() - t0) / block)
    return out


@functools.lru_cache(maxsize=None)
def _git(*args) -> str | None:
    try: r = subprocess.run(['git', *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError): return None
    return r.stdout.strip() if r.returncode == 0 else None


def commit() -> str | None:
    "This checkout's short commit (None outside git); the first call's answer is kept for the process."
    return _git('rev-parse', '--short', 'HEAD')


def dirty() -> bool | None:
    "Whether tracked files differ from the commit (the measured code is not exactly `commit()`); None outside git."
    s = _git('status', '--porcelain', '--untracked-files=no')
    return None if s is None else bool(s)


def command() -> str:
    "The command line as the scripts record it: 'python bench/NAME.py ARGS'."
    return ' '.join(['python'] + sys.argv)


def machine() -> dict:
    "CPU model, cores, torch's threads and version (when the script imported torch), host name, load average."
    cpu = 'unknown'
    try: cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                     if l.startswith('model name')), cpu)
    except OSError: pass
    torch = sys.modules.get('torch')
    return {'cpu': cpu or platform.processor(), 'cores': os.cpu_count(),
            'torch_threads': torch.get_num_threads() if torch else None, 'torch': getattr(torch, '__version__', None),
            'python': platform.python_version(), 'hostname': socket.gethostname(), 'load_average': list(os.getloadavg())}


def meta() -> dict:
    "What a saved measurement needs beside it: commit (+ dirty), machine, UTC date, command."
    return {'commit': commit(), 'dirty': dirty(), 'machine': machine(),
            'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'command': command()}


def write_json(path, obj, indent: int = 2) -> Path:
    "Write `obj` as JSON atomically (haba_nb.core.atomic_write_json: a temporary file beside `path`, then os.replace)."
    from haba_nb.core import atomic_write_json   # imported here: the harness itself stays light to import
    atomic_write_json(path, obj, indent=indent)
    return Path(path)


def save_json(path, payload: dict, indent: int = 2) -> Path:
    "`payload` (its own keys unchanged) plus 'meta' (see `meta()`), written atomically."
    if 'meta' in payload: raise ValueError("save_json adds 'meta' itself; the payload has one already")
    return write_json(path, {**payload, 'meta': meta()}, indent)


def load_records(path) -> list:
    "The list of records a results file holds ([] when there is none yet)."
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else []


def append_record(path, rec: dict, with_meta: bool = True) -> list:
    "Append `rec` (+ 'meta') to the records file, re-read first (another process may have appended); returns the list."
    records = load_records(path) + [{**rec, 'meta': meta()} if with_meta else rec]
    write_json(path, records)
    return records


def md_row(cells) -> str:
    return '| ' + ' | '.join(map(str, cells)) + ' |'


def md_header(cols) -> str:
    "A markdown table's header and rule (print it first, then `md_row` per row as results come)."
    return md_row(cols) + '\n|' + '---|' * len(cols)


def md_table(cols, rows) -> str:
    return '\n'.join([md_header(cols), *map(md_row, rows)])


def add_common_args(ap, threads=None, rounds=None, out=None, threads_help='torch CPU threads',
                    rounds_help='timed rounds (variants interleaved round by round; medians kept)', out_help='the JSON written'):
    "Add --threads / --rounds / --out (each only when given a default; a list default makes --threads take several)."
    if threads is not None:
        ap.add_argument('--threads', type=int, default=threads, help=threads_help,
                        **({'nargs': '+'} if isinstance(threads, list) else {}))
    if rounds is not None: ap.add_argument('--rounds', type=int, default=rounds, help=rounds_help)
    if out is not None: ap.add_argument('--out', default=str(out), help=out_help)
    return ap
