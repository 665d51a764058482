"""What a user looks at, in headless Chromium at 1,400 px (issue 42): a demo run's figures.html, the monitor for DM and MTT, a sweep's tables.html.

Two short real runs (the demo's DM + HaBa on digits, and MTT, its experts trained into a temporary cache) write their
figures into one output root; Playwright opens them in the system Chromium. Checked: the page has no horizontal
overflow at 1,400 px, the grid's PNG loaded, the run folders hold no plotly.js (the root's one is used), and every
plotly panel — of the saved pages and of the live monitor's FigureWidgets fed the same records — has a title, both
axes titled in words and at least one curve with points. Screenshots are kept in $HABA_TEST_ARTIFACTS/browser
(default: test-artifacts/browser in the repository, git-ignored); the test prints the folder.
"""
from __future__ import annotations
import contextlib, os, shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
WIDTH = 1400

PANELS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(d => {
    const L = d._fullLayout, titles = (L.annotations || []).map(a => a.text);
    return Object.keys(L).filter(k => /^xaxis\\d*$/.test(k)).sort().map(k => {
        const id = 'x' + k.slice(5), ya = L['yaxis' + k.slice(5)];
        const n = d._fullData.filter(t => (t.xaxis || 'x') === id && (t._length || (t.x && t.x.length) || 0) > 0).length;
        return {fig: d.id, axis: id, curves: n, x: L[k].title.text || '', y: (ya && ya.title.text) || ''};
    }).concat([{fig: d.id, titles: titles.length, axes: Object.keys(L).filter(k => /^xaxis\\d*$/.test(k)).length}]);
})"""


def _artifacts(name: str = "browser") -> Path:
    d = Path(os.environ.get("HABA_TEST_ARTIFACTS", ROOT/"test-artifacts"))/name
    d.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {d}")
    return d


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "A DM + HaBa run (the demo's defaults, shortened) and an MTT run in one output root; their monitors' records."
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium is not installed: apt-get install chromium")
    root = tmp_path_factory.mktemp("figures")
    old = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "HABA_HEADLESS")}
    os.environ.update(XDG_CACHE_HOME=str(root/"cache"), HABA_HEADLESS="1")   # MTT's experts go to a fresh cache
    try:
        import torch
        from haba_nb.experiment import experiment_config, run_experiment
        torch.set_num_threads(2)
        common = dict(eval_epochs=2, n_eval=1, compare=False)
        hist = {}
        for name, kw in (("dm", dict(iterations=12, eval_every=6)), ("mtt", dict(objective="mtt", iterations=6, train_experts=True, eval_every=3))):
            recs = []
            run_experiment(experiment_config(out_dir=str(root/name), **common, **kw), callback=recs.append)
            hist[name] = recs
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v
    return root, hist


def _check_panels(panels, where):
    for fig in panels:
        *axes, summary = fig
        assert summary["titles"] == summary["axes"] > 0, (where, summary)      # every panel titled
        for a in axes:
            assert a["curves"] >= 1, (where, "an empty panel", a)
            assert a["x"] == "iteration" and a["y"], (where, "an axis without a title", a)


@contextlib.contextmanager
def _browser(chromium: str | None = None):
    "The system Chromium, headless, through Playwright (its own browser download fails here); closed afterwards."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium or shutil.which("chromium") or shutil.which("chromium-browser"),
                                    headless=True, args=CHROME_ARGS)
        try: yield browser
        finally: browser.close()


def _page(browser):
    page = browser.new_page(viewport={"width": WIDTH, "height": 1000})
    errors = []; page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def test_demo_figures_page_fits_1400px_without_empty_panels(runs):
    root, _ = runs
    shots = _artifacts()
    assert (root/"plotly.min.js").exists() and not list(root.glob("*/plotly.min.js"))   # one plotly.js for the root
    for name in ("dm", "mtt"):
        files = [f for f in (root/name).iterdir() if f.is_file()]
        assert sum(f.stat().st_size for f in files) < 1_000_000, sorted((f.name, f.stat().st_size) for f in files)
    with _browser() as browser:
        for name in ("dm", "mtt"):
            page, errors = _page(browser)
            page.goto((root/name/"figures.html").as_uri())
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 1 && "
                                   "[...document.querySelectorAll('.js-plotly-plot')].every(d => d._fullLayout)", timeout=60_000)
            page.screenshot(path=str(shots/f"{name}-figures.png"), full_page=True)
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], f"{name}: figures.html overflows {WIDTH} px horizontally: {width}"
            assert page.evaluate("() => document.querySelectorAll('iframe').length") == 0
            n_cls = page.evaluate("() => document.querySelectorAll('.haba-class').length")
            assert n_cls == 10, n_cls
            loaded = page.evaluate("""() => new Promise(ok => { const i = new Image(); i.onload = () => ok(i.naturalWidth);
                                      i.onerror = () => ok(0); i.src = 'synthetic_grid.png'; })""")
            assert loaded > 200, "the grid's PNG did not load"
            _check_panels(page.evaluate(PANELS_JS), f"{name}/figures.html")
            assert not errors, errors
            page.close()


def test_monitor_for_dm_and_mtt_has_no_empty_or_unlabelled_panel(runs, tmp_path):
    "The live monitor (FigureWidgets fed the runs' records) and the saved monitor pages: only recorded panels, all labelled."
    from haba_nb.monitor import DiversityMonitor, save_figure
    root, hist = runs
    shots = _artifacts()
    pages = {}
    for name, recs in hist.items():
        live = DiversityMonitor(every=1, headless=False, auto_display=False, max_overhead=0.9)
        for r in recs: live(r)
        live.update()
        titles = [a.text for f in live.figures.values() if f is not None for a in f.layout.annotations]
        if name == "dm": assert "synthetic lr" not in titles, titles            # DM records no learned lr
        else: assert "synthetic lr" in titles and "contrastive: L_cos and adversary" in titles, titles   # MTT + HaBa
        (tmp_path/name).mkdir()
        for fig_name, fig in live.figures.items():
            if fig is not None:
                pages[f"{name}-live-{fig_name}"] = save_figure(fig, tmp_path/name/fig_name, png=False, include_plotlyjs=root/"plotly.min.js")["html"]
        for fig_name in ("loss_curves", "diversity"):
            if (root/name/f"{fig_name}.html").exists(): pages[f"{name}-saved-{fig_name}"] = root/name/f"{fig_name}.html"
    assert {"dm-live-loss_curves", "mtt-live-loss_curves", "dm-saved-loss_curves", "mtt-saved-loss_curves"} <= set(pages), sorted(pages)
    with _browser() as browser:
        for key, path in sorted(pages.items()):
            page, errors = _page(browser)
            page.goto(Path(path).as_uri())
            page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some(d => d._fullLayout)", timeout=60_000)
            page.screenshot(path=str(shots/f"monitor-{key}.png"), full_page=True)
            panels = page.evaluate(PANELS_JS)
            assert panels, key
            _check_panels(panels, key)
            width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], (key, width)
            assert not errors, (key, errors)
            page.close()


def test_sweep_tables_page_reads_at_1400px(tmp_path, env):
    "A small sweep's tables.html: bordered cells, a styled header, a bold best value, no horizontal overflow; one plotly.js for the sweep."
    import subprocess, sys
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium: pytest.skip("chromium is not installed: apt-get install chromium")
    out = tmp_path/"sweep"
    r = subprocess.run([str(Path(sys.executable).parent/"haba-sweep"), "--out", str(out), "--datasets", "digits", "--ipcs", "1", "2",
                        "--methods", "random", "herding", "--tier", "quick", "--param", "eval_epochs=2", "--param", "n_eval=1"],
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (out/"plotly.min.js").exists() and not list(out.glob("*/plotly.min.js"))
    shots = _artifacts()
    with _browser(chromium) as browser:
        page, errors = _page(browser)
        page.goto((out/"tables.html").as_uri())
        page.screenshot(path=str(shots/"sweep-tables.png"), full_page=True)
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        style = page.evaluate("""() => { const td = document.querySelector('td'), th = document.querySelector('th');
            return [getComputedStyle(td).borderTopWidth, getComputedStyle(th).backgroundColor, document.querySelectorAll('td b').length]; }""")
        assert style[0] != "0px" and style[1] not in ("rgba(0, 0, 0, 0)", "transparent") and style[2] >= 1, style
        assert not errors, errors
