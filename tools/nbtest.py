"""The notebooks as tests, each in a fresh Python process: what `make nbtest` (and so `make test` and CI) runs.

    python tools/nbtest.py                  # every notebook nbdev_test would run, two at a time
    python tools/nbtest.py nbs/10_*.ipynb   # some of them
    python tools/nbtest.py --n-workers 1
    python tools/nbtest.py --flags slow     # also the cells tagged `#| slow` (as `nbdev_test --flags slow`)

Each notebook runs through nbdev's own `nbdev.test.test_nb`, with the project's skip flags, as `nbdev_test` runs it:
same cells, same results. What differs is the process around it. `nbdev_test` runs every notebook inside a few forked
worker processes that it reuses; when native code aborts in one of them (a heap error, a signal), the whole pool
breaks, the other notebooks in flight are killed with it, and the log names neither the notebook that died nor where.
Here every notebook gets its own interpreter (`python -X faulthandler`), so one notebook's state never reaches
another, a crash costs only the notebook it happened in, and the end of the output says which notebook failed, how
(a failed cell or a signal), the innermost Python frames of every thread at a crash, and the CPU the run was on. A
notebook that died of a signal runs once more, alone, and the summary says whether it crashed again; the run fails
either way.
Written here because nbdev has no per-notebook process mode; the price is one Python start-up (torch's import) per
notebook. `nbdev_test` itself still works as the design card says.
"""
from __future__ import annotations
import argparse, os, platform, re, signal, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN_ONE = """
import sys
from pathlib import Path
from nbdev.test import test_nb
ok, secs = test_nb(Path(sys.argv[1]), skip_flags=sys.argv[2].split(), force_flags=sys.argv[4].split(), basepath=sys.argv[3])
sys.exit(0 if ok else 1)
"""


def notebooks(paths: list[str]) -> tuple[list[Path], list[str], Path]:
    "The notebooks nbdev_test would test (or those given), the project's skip flags, and the notebooks' folder."
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    from nbdev.test import _keep_file
    cfg = get_config(path=ROOT)
    if paths:
        files = [Path(p).resolve() for p in paths]
        missing = [str(f) for f in files if not f.is_file()]
        if missing: sys.exit(f"nbtest: no such notebook: {', '.join(missing)} (give paths like nbs/10_hallucinator.ipynb)")
    else:
        files = [f.resolve() for f in sorted(nbglob(cfg.nbs_path, as_path=True)) if _keep_file(f, '.notest')]
    return files, cfg.tst_flags.split(), cfg.config_path


def crash_summary(log: str, frames: int = 8, current: int = 30) -> str:
    "faulthandler's dump cut to the innermost `frames` frames of each thread (`current` of the crashed one), without its list of extension modules."
    start = log.find("Fatal Python error")
    if start < 0: return ""
    out, kept, limit = [], 0, frames
    for line in log[start:].splitlines():
        if line.startswith("Extension modules"): continue
        if line.startswith(("Thread 0x", "Current thread 0x", "Fatal Python error")) or not line.strip():
            kept, limit = 0, current if line.startswith("Current thread") else frames
            out.append(line); continue
        if line.startswith("  File ") and kept >= limit:
            if kept == limit: out.append("  ..."); kept += 1
            continue
        kept += line.startswith("  File "); out.append(line)
    return "\n".join(out)


def cpu() -> str:
    "The CPU's model and the vector extensions native kernels pick from (a crash in one may depend on them)."
    model, flags = platform.processor() or platform.machine(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.*)", text).group(1)
        flags = set(re.search(r"flags\s*:\s*(.*)", text).group(1).split())
    except (OSError, AttributeError): pass
    vec = sorted(f for f in flags if f.startswith(("avx", "amx", "fma")))
    return f"{model}, {os.cpu_count()} CPUs; {' '.join(vec) or 'no AVX'}"


def run(nb: Path, flags: list[str], basepath: Path, logdir: Path, force: str = "") -> tuple[Path, int, float, str]:
    "Test one notebook in its own interpreter; (notebook, return code, seconds, its output)."
    t0, log = time.time(), logdir / f"{nb.stem}.log"
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    with open(log, "w") as fh:
        rc = subprocess.call([sys.executable, "-X", "faulthandler", "-c", RUN_ONE, str(nb), " ".join(flags), str(basepath), force],
                             stdout=fh, stderr=subprocess.STDOUT, cwd=nb.parent, env=env)
    return nb, rc, time.time() - t0, log.read_text(errors="replace")


def how(rc: int) -> str:
    if rc == 1: return "a cell failed"
    if rc < 0:
        try: return f"died of {signal.Signals(-rc).name}"
        except ValueError: return f"died of signal {-rc}"
    return f"exit code {rc}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", help="notebooks to test (default: all that nbdev_test would test)")
    ap.add_argument("--n-workers", type=int, default=2, help="notebooks run at once (default 2)")
    ap.add_argument("--flags", default="", help="space-separated test flags to run that are skipped by default (e.g. slow)")
    args = ap.parse_args(argv)
    if args.n_workers < 1: ap.error(f"--n-workers must be at least 1, got {args.n_workers}")
    files, flags, basepath = notebooks(args.paths)
    t0, results = time.time(), []
    with tempfile.TemporaryDirectory(prefix="nbtest-") as tmp, ThreadPoolExecutor(args.n_workers) as pool:
        for fut in as_completed([pool.submit(run, f, flags, basepath, Path(tmp), args.flags) for f in files]):
            nb, rc, secs, log = fut.result()
            print(f"{'ok  ' if rc == 0 else 'FAIL'} {nb.name} ({secs:.0f} s){'' if rc == 0 else ': ' + how(rc)}", flush=True)
            if rc: print(log, flush=True)
            results.append((nb, rc, secs, log))
    failed = [r for r in results if r[1]]
    again = {}   # a notebook that died of a signal runs once more, alone: does it crash every time, or only beside another?
    for nb, rc, _, _ in failed:
        if rc < 0:
            with tempfile.TemporaryDirectory(prefix="nbtest-") as tmp: again[nb] = run(nb, flags, basepath, Path(tmp), args.flags)[1]
    print(f"\n{len(files) - len(failed)} of {len(files)} notebooks passed in {time.time() - t0:.0f} s; slowest: "
          + ", ".join(f"{nb.name} {secs:.0f} s" for nb, _, secs, _ in sorted(results, key=lambda r: -r[2])[:5]))
    print(f"on {cpu()}; torch {_torch_version()}")
    if not failed: return 0
    # Again at the very end, compact, so that a log cut to its tail still names what failed and where.
    print(f"\nnbtest: {len(failed)} notebook(s) failed (on {cpu()})")
    for nb, rc, _, log in failed:
        print(f"--- {nb.name}: {how(rc)}" + ("" if nb not in again else "; run again alone: "
              + ("passed" if again[nb] == 0 else how(again[nb]))))
        print(crash_summary(log) if rc < 0 else "\n".join(log.splitlines()[-25:]))
    return 1


def _torch_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try: return version("torch")
    except PackageNotFoundError: return "not installed"


if __name__ == "__main__":
    sys.exit(main())
