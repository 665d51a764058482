"""The offline docs site (`make docs` = tools/docs.py site): every notebook a page, no broken internal link, and the
pages render in headless Chromium.

The site is built once for the module into a temporary folder (the whole site: every page links every other page, so
a partial build could not be checked for broken links; ~40 s on 2 busy cores). Checked without a browser: one page per
notebook (nbdev's names) plus the results and developing pages, every relative <a href>, <img src>, <link href> and
<script src> of every page points at a file that exists (and a #fragment into a site page at an id there), no link is
left pointing at an .ipynb. In Chromium (skipped, saying why, without Playwright or Chromium): the home page (the user
guide and the contents; its doc link for `DistillConfig` lands on show_doc's entry in config.html), an API page
(hallucinator.html: show_doc's heading and signature for `HallucinatorBank`) and the tour (explore.html) render,
with the sidebar listing every page and no script error. Screenshots go to $HABA_TEST_ARTIFACTS/docs (default: test-artifacts/docs, git-ignored).
"""
from __future__ import annotations
import os, re, subprocess, sys, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]


class _Refs(HTMLParser):
    "The relative references (tag, url) and the element ids of one page."
    ATTRS = {"a": "href", "img": "src", "link": "href", "script": "src"}

    def __init__(self):
        super().__init__(); self.refs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if d.get("id"): self.ids.add(d["id"])
        url = d.get(self.ATTRS.get(tag, ""), None)
        if url and not re.match(r"^[a-z][a-z0-9+.-]*:|^//", url, flags=re.I): self.refs.append((tag, url))


def _parse(page: Path) -> _Refs:
    p = _Refs(); p.feed(page.read_text(encoding="utf-8")); return p


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "The site built by `tools/docs.py site` into a temporary folder; the build's seconds are printed."
    tmp = tmp_path_factory.mktemp("docs")
    t0 = time.time()
    r = subprocess.run([sys.executable, "-W", "ignore", str(ROOT/"tools"/"docs.py"), "site", "--out", str(tmp/"_docs"),
                        "--proc", str(tmp/"_proc")], cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(f"\ndocs site built in {time.time() - t0:.0f} s: {tmp/'_docs'}")
    return tmp/"_docs"


def test_every_notebook_is_a_page_and_no_internal_link_is_broken(site):
    from nbdev.doclinks import _nbpath2html
    want = {_nbpath2html(Path(p.name)).name for p in (ROOT/"nbs").glob("*.ipynb")} | {"results.html", "notes.html", "developing.html"}
    pages = {p.name: p for p in site.glob("*.html")}
    assert set(pages) == want, (sorted(set(pages) ^ want))
    parsed = {name: _parse(p) for name, p in pages.items()}
    broken, n = [], 0
    for name, refs in parsed.items():
        for tag, url in refs.refs:
            n += 1
            path, _, frag = url.partition("#")
            path = unquote(path)
            assert not path.endswith(".ipynb"), f"{name}: a link to a notebook was not rewritten to its page: {url}"
            target = (site/name).parent/path if path else site/name
            if not target.exists(): broken.append((name, tag, url)); continue
            if frag and target.suffix == ".html" and target.parent == site and not {frag, unquote(frag)} & parsed[target.name].ids:
                broken.append((name, tag, url, "no such id"))
    assert not broken, f"{len(broken)} broken internal links: {broken[:20]}"
    assert n > 30 * len(pages), n     # the sidebar alone links every page from every page


def test_home_api_and_tour_pages_render_in_chromium(site):
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright")
    from test_browser import _chromium
    from test_browser_figures import _artifacts, _browser, _page
    chromium = _chromium()
    if not chromium: pytest.skip("chromium is not installed: apt-get install chromium")
    shots = _artifacts("docs")
    n_pages = len(list(site.glob("*.html")))
    with _browser(chromium) as browser:
        page, errors = _page(browser)
        page.goto((site/"index.html").as_uri())
        page.screenshot(path=str(shots/"index.png"), full_page=True)
        assert page.locator("main h1").first.inner_text().strip() == "haba_nb"
        assert page.locator("nav.haba-nav a").count() == n_pages + 1           # the site's name, then every page
        assert page.locator("main table").count() >= 1                        # the results table
        assert page.locator("main h2#contents + ul li").count() == n_pages - 1  # the contents: every other page
        assert "make demo" in page.locator("main").inner_text()
        page.click("main a[href='config.html#distillconfig']")                  # nbdev's doc link for `DistillConfig`
        page.wait_for_url("**/config.html#distillconfig")
        assert page.locator("h3#distillconfig").is_visible()

        page.click("nav.haba-nav >> text=hallucinator")                         # an API page, from the sidebar
        page.wait_for_url("**/hallucinator.html")
        page.screenshot(path=str(shots/"hallucinator.png"), full_page=True)
        head = page.locator("h3#hallucinatorbank")
        head.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea')][1]").screenshot(path=str(shots/"hallucinator-show_doc.png"))
        assert head.is_visible() and head.inner_text().strip() == "HallucinatorBank"
        sig = head.locator("xpath=following-sibling::div[contains(@class,'highlight')][1]").inner_text()
        assert "HallucinatorBank(" in sig and "n:int" in sig, sig               # show_doc's signature with docments
        assert page.locator("main .jp-CodeCell").count() >= 1                   # the notebook's examples

        page.goto((site/"explore.html").as_uri())                               # the visual tour
        page.screenshot(path=str(shots/"explore.png"), full_page=True)
        assert page.locator("main h1").first.inner_text().strip() == "explore"
        assert page.locator("main h2").count() >= 3 and page.locator("main .jp-CodeCell").count() >= 5
        assert "BasisExplorer" in page.locator("main").inner_text()
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"explore.html overflows horizontally: {width}"
        assert not errors, errors
