"""JupyterLab in headless Chromium: the widgets of haba_nb.widgets really render in a browser.

Starts `jupyter lab` on loopback (free port, random token, a temp root_dir holding a small
notebook that builds a `BasisExplorer` and a live `DiversityMonitor` on digits), opens the
notebook with Playwright driving the system Chromium, runs all cells from the Run menu and
checks the DOM: one `.haba-view` image per hallucinator, plotly plots with data, and new
images after moving the basis slider. The server (and its kernels) is stopped whatever
happens. Skips, saying why, when Chromium or Playwright is missing and cannot be installed.
"""
from __future__ import annotations
import json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
N_HAL = 4                      # hallucinators in the test notebook (distinct from every other count on the page)
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]

NB_CELLS = [
    "import torch\n"
    "from haba_nb.data import load_dataset\n"
    "from haba_nb.basis import FactorizedSet\n"
    "from haba_nb.widgets import BasisExplorer\n"
    "from haba_nb.monitor import DiversityMonitor\n"
    "real = load_dataset('digits')\n"
    f"param = FactorizedSet.from_real(real, bpc=3, n_hallucinators={N_HAL}, generator=torch.Generator().manual_seed(0))",
    "explorer = BasisExplorer(param, real=real)\n"
    "explorer",
    "monitor = DiversityMonitor(every=2, headless=False, auto_display=False)\n"
    "display(monitor)\n"
    "for it in range(6):\n"
    "    monitor({'it': it, 'loss': 1.0 / (it + 1), 'l_cos': 0.05, 'sim_pixel': 0.9 - 0.05 * it, 'n_eff': 1.0 + it})\n"
    "monitor.update()\n"
    "print('HABA-CELLS-DONE')",
]


def _notebook(cells: list[str]) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}},
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": src} for i, src in enumerate(cells)]}


def _chromium() -> str | None:
    "Path of a system Chromium; tries apt-get once when we are root and it is missing."
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"): return found
    for cmd in (["apt-get", "install", "-y", "-q", "chromium"], ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "chromium"]):
        try: subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        except (OSError, subprocess.TimeoutExpired): break
        if shutil.which("chromium"): break
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    "Process ids below `pid` (kernels run in their own session, so a process-group kill misses them)."
    kids: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try: ppid = int((d/"stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError): continue
            kids.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []): out.append(k); todo.append(k)
    return out


def _stop(proc: subprocess.Popen):
    "Stop the server's process group and every process it started, by id; SIGKILL what survives 15 s."
    pids = _descendants(proc.pid)
    with_signal = lambda sig, ps: [os.kill(p, sig) for p in ps if _alive(p)]
    try: os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError: pass
    with_signal(signal.SIGTERM, pids)
    try: proc.wait(15)
    except subprocess.TimeoutExpired: pass
    try: os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError: pass
    with_signal(signal.SIGKILL, pids)
    proc.wait(5)


def _alive(pid: int) -> bool:
    try: os.kill(pid, 0); return True
    except (ProcessLookupError, PermissionError): return False


@pytest.fixture
def lab(tmp_path):
    "A JupyterLab server on loopback with a fresh token and a temp root holding the test notebook."
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    chromium = _chromium()
    if not chromium:
        pytest.skip("chromium is not installed and cannot be installed here (needs root + apt-get): "
                    "run `make system-deps` or `apt-get install chromium chromium-driver`")
    root, home = tmp_path/"lab", tmp_path/"home"
    root.mkdir(); home.mkdir()
    (root/"explorer.ipynb").write_text(json.dumps(_notebook(NB_CELLS)))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               JUPYTER_CONFIG_DIR=str(home/"config"), JUPYTERLAB_SETTINGS_DIR=str(home/"settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home/"workspaces"), JUPYTER_RUNTIME_DIR=str(home/"runtime"),
               HABA_HEADLESS="0")
    log = open(tmp_path/"jupyter.log", "wb")
    proc = subprocess.Popen([str(BIN/"jupyter"), "lab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
                             f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                             "--ServerApp.port_retries=0", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
                             "jupyterlab.NeverCheckForUpdate"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200: break
            except OSError: pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"jupyter lab did not start (exit {proc.poll()}): "
                                   + (tmp_path/"jupyter.log").read_text()[-2000:])
            time.sleep(0.5)
        yield {"base": base, "token": token, "nb": "explorer.ipynb", "chromium": chromium, "tmp": tmp_path}
    finally:
        _stop(proc); log.close()


def _img_srcs(page) -> list[str]:
    return page.eval_on_selector_all(".haba-explorer img.haba-view", "els => els.map(e => e.src)")


def test_explorer_renders_in_chromium(lab):
    from playwright.sync_api import sync_playwright, expect, TimeoutError as PlaywrightTimeout
    t0 = time.time()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=lab["chromium"], headless=True, args=CHROME_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.goto(f"{lab['base']}/lab/tree/{lab['nb']}?token={lab['token']}", timeout=90_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            # JupyterLab may ask which kernel to use (fresh settings dir): accept the default python3
            accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
            try: accept.wait_for(timeout=15_000); accept.click()
            except PlaywrightTimeout: pass
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            # one image per hallucinator, each with a PNG loaded
            page.wait_for_function(f"""() => {{
                const v = [...document.querySelectorAll('.haba-explorer img.haba-view')];
                return v.length === {N_HAL} && v.every(e => e.src && e.complete && e.naturalWidth > 0); }}""",
                timeout=120_000)
            assert page.locator(".haba-explorer .haba-view").count() == N_HAL
            widths = page.eval_on_selector_all(".haba-explorer img.haba-view", "els => els.map(e => e.naturalWidth)")
            assert min(widths) >= 64, f"views too small to read: {widths}"   # 8x8 digits are upscaled

            # plotly: the explorer's heat map has an H x H matrix; the monitor's curves have points
            page.wait_for_selector(".haba-explorer .js-plotly-plot", timeout=60_000)
            z = page.evaluate("() => document.querySelector('.haba-explorer .js-plotly-plot').data[0].z")
            assert len(z) == N_HAL and all(len(r) == N_HAL for r in z)
            assert all(abs(z[i][i] - 1) < 1e-3 for i in range(N_HAL))
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=60_000)
            page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
                .filter(d => !d.closest('.haba-explorer'))
                .some(d => (d.data || []).some(t => t.x && t.x.length === 6))""", timeout=60_000)
            page.locator(".jp-OutputArea-output pre", has_text="HABA-CELLS-DONE").first.wait_for(timeout=60_000)

            # move the basis slider one step with the keyboard: the views must change
            before = _img_srcs(page)
            caption_before = page.locator(".haba-explorer .widget-html").first.inner_text()
            handle = page.locator(".haba-explorer .haba-basis-select .noUi-handle")
            handle.focus(); page.keyboard.press("ArrowRight")
            page.wait_for_function("""(before) => {
                const now = [...document.querySelectorAll('.haba-explorer img.haba-view')].map(e => e.src);
                return now.length === before.length && now.some((s, i) => s !== before[i]); }""",
                arg=before, timeout=60_000)
            after = _img_srcs(page)
            assert len(after) == N_HAL and after != before
            # the caption is a separate widget message: wait for it (asserting right away failed under load)
            caption = page.locator(".haba-explorer .widget-html").first
            expect(caption).to_contain_text("basis 1", timeout=60_000)
            expect(caption).not_to_have_text(caption_before, timeout=60_000)

            shot = lab["tmp"]/"explore.png"
            page.locator(".haba-explorer").first.scroll_into_view_if_needed()
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            try:
                (ROOT/"runs"/"browser").mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, ROOT/"runs"/"browser"/"explore.png")
            except OSError: pass
        except Exception:
            try:
                page.screenshot(path=str(lab["tmp"]/"failure.png"), full_page=True)
                print("page text at failure:\n", page.locator(".jp-Notebook").inner_text()[-3000:])
            except Exception: pass
            raise
        finally:
            browser.close()
    print(f"browser test body: {time.time() - t0:.1f}s")
