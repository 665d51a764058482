"""README.md from nbs/index.ipynb, and the docs site in _docs/, offline and without Quarto.

    python tools/docs.py readme           # write README.md from nbs/index.ipynb     (make readme)
    python tools/docs.py readme --check   # exit 1 when README.md is not what index.ipynb gives (make check)
    python tools/docs.py site             # build the HTML site into _docs/          (make docs)

Why not nbdev_readme / nbdev_docs: both render with Quarto, and Quarto cannot be installed here (PyPI's `quarto-cli` is
a small sdist that downloads the binary from GitHub, which these machines cannot reach). What replaces Quarto:

- README: nbconvert's MarkdownExporter on nbs/index.ipynb (its markdown cells as they are: links stay relative to the
  repository root, where README.md lives), under a one-line note saying where it comes from.
- Site: nbdev's own notebook processing (`nbdev.processors.FilterDefaults`, what `nbdev_proc_nbs` runs: frontmatter,
  show_doc cells for every exported symbol with their output, hidden and exported cells dropped, doc links) writes
  _proc/, then nbconvert's HTMLExporter (its `lab` template, extended below with a sidebar listing the pages in order)
  renders each page. Written by hand, because Quarto did it: hiding show_doc inputs (`#| echo: false`), dropping
  Quarto's `{target=...}` link attributes, lower-case heading ids (nbdev's doc links point at `#name.lower()`), and the
  link rewrite (nbdev's doc_host links and `.ipynb` links to the page files; links to other files in the repository
  to `../path`, since _docs/ sits in the checkout).
- One nbdev default is narrowed: nbdev also runs test cells that mix imports with other code (it warns "Found cells
  containing imports and other code"), and those fail out of their notebook's context; here only exported cells,
  show_doc cells and import-only cells run, which is all show_doc needs.
"""
from __future__ import annotations
import argparse, html, os, re, shutil, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # document this checkout's haba_nb (and let the worker processes import it)
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
NBS = ROOT/"nbs"
INDEX = NBS/"index.ipynb"
README = ROOT/"README.md"
README_NOTE = "<!-- Generated from nbs/index.ipynb by `make readme` (tools/docs.py): edit the notebook, not this file. -->\n"
MD_PAGES = {"results/README.md": ("results.html", "Results", "Every table, the budget and the command behind it"),
            "results/NOTES.md": ("notes.html", "Design notes", "The measurements behind the defaults, by notebook"),
            "DEVELOPING.md": ("developing.html", "Developing", "Workflow, tests and module contracts")}


# --- README ------------------------------------------------------------------------------------------------------

def readme_text(index: Path = INDEX) -> str:
    "README.md's text: index.ipynb through nbconvert's MarkdownExporter, under a note naming its source."
    import nbformat
    from nbconvert import MarkdownExporter
    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(index, as_version=4))
    return README_NOTE + "\n" + re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


def check_readme(readme: Path = README, index: Path = INDEX) -> str | None:
    "None when `readme` is what `index` generates, else the problem and the command that fixes it."
    want = readme_text(index)
    if readme.exists() and readme.read_text(encoding="utf-8") == want: return None
    return (f"FAIL: {readme.name} is not what {index.relative_to(ROOT)} generates (README.md is generated: edit "
            f"nbs/index.ipynb) — run `make readme` (= .venv/bin/python tools/docs.py readme) and commit README.md")


# --- site: nbdev's processing ------------------------------------------------------------------------------------

def _only_imports(cell) -> bool:
    trees = cell.parsed_()
    import ast
    return bool(trees) and all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees)


def _filter():
    "nbdev's FilterDefaults with exec_show_docs narrowed to exported, show_doc and import-only cells (see the docstring)."
    from nbdev.processors import FilterDefaults, exec_show_docs, _show_docs
    show_dirs = {"export", "exports", "exporti", "exec_doc"}

    class exec_show_docs_offline(exec_show_docs):
        def __call__(self, cell):
            if (cell.cell_type == "code" and cell.get("source") and not cell.directives_.keys() & show_dirs
                    and not _only_imports(cell) and not _show_docs(cell.parsed_() or [])): return
            super().__call__(cell)

    class OfflineFilter(FilterDefaults):
        def base_procs(self):
            return [exec_show_docs_offline if p is exec_show_docs else p for p in super().base_procs()]
    return OfflineFilter()


def process_notebook(src: str, dst: str) -> str:
    "One notebook through nbdev's docs processing (as nbdev.serve_drv does), written to `dst`."
    from execnb.nbio import read_nb, write_nb
    os.environ["IN_TEST"] = "1"
    main = sys.modules["__main__"]   # show_doc's IPython shell installs its own __main__; put ours back, or a worker
    try:                             # process cannot unpickle its next task (a function of this script)
        nb = read_nb(src)
        _filter()(nb)
        write_nb(nb, dst)
    finally: sys.modules["__main__"] = main
    return dst


def notebooks() -> list[Path]:
    "The site's notebooks, index first, then in file order (nbdev's order)."
    return [INDEX] + sorted(p for p in NBS.glob("*.ipynb") if p.name != "index.ipynb")


def page_name(nb: Path) -> str:
    "The page a notebook becomes: nbdev's naming (10_hallucinator.ipynb -> hallucinator.html)."
    from nbdev.doclinks import _nbpath2html
    return _nbpath2html(Path(nb.name)).name


def proc_all(nbs: list[Path], proc: Path, n_workers: int = 2) -> list[Path]:
    "nbdev-process `nbs` into `proc` in worker processes (errors propagate, unlike fastcore's parallel)."
    proc.mkdir(parents=True, exist_ok=True)
    jobs = [(str(p), str(proc/p.name)) for p in nbs]
    if n_workers <= 1: return [Path(process_notebook(*j)) for j in jobs]
    import multiprocessing
    with ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        return [Path(d) for d in ex.map(process_notebook, *zip(*jobs))]


# --- site: HTML --------------------------------------------------------------------------------------------------

TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock -%}
{%- block html_head_js_mathjax -%}{%- endblock -%}
{%- block html_head_js_mermaidjs -%}{%- endblock -%}
{%- block jupyter_widgets -%}{%- endblock -%}
{% block html_head_css %}<style type="text/css">
body { margin: 0; display: flex; align-items: flex-start; }
nav.haba-nav { position: sticky; top: 0; height: 100vh; flex: 0 0 15rem; overflow-y: auto; padding: 1rem;
  box-sizing: border-box; border-right: 1px solid #ddd; background: #fafafa; font: 14px/1.4 sans-serif; }
nav.haba-nav a { display: block; padding: 0.15rem 0; color: #0b5394; text-decoration: none; }
nav.haba-nav a.current { font-weight: bold; color: #000; }
nav.haba-nav .site { font-size: 1.2rem; font-weight: bold; margin-bottom: 0.6rem; }
main { flex: 1 1 auto; min-width: 0; padding: 1rem 2rem; max-width: 70rem; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
.jp-RenderedHTMLCommon pre { background: #f5f5f5; padding: 0.5rem; overflow-x: auto; }
p.haba-description { font-size: 1.1rem; color: #555; }
p.haba-source { font-size: 0.9rem; color: #555; }
</style>{% endblock html_head_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<nav class="haba-nav"><a class="site" href="index.html">{{ resources.site_title }}</a>
{%- for href, title in resources.nav %}
<a href="{{ href }}"{% if href == resources.page %} class="current"{% endif %}>{{ title }}</a>
{%- endfor %}
</nav>
<main>
{%- if resources.page_title %}<h1 id="{{ resources.page_id }}">{{ resources.page_title }}</h1>{% endif %}
{%- if resources.page_description %}<p class="haba-description">{{ resources.page_description }}</p>{% endif %}
{%- if resources.page_source %}<p class="haba-source">Source: <code>{{ resources.page_source }}</code>, stored without outputs:
run <code>.venv/bin/jupyter lab {{ resources.page_source }}</code> to see them.</p>{% endif %}
{%- endblock body_header -%}
"""


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.remove_input_tags = {"haba-hide-input"}
    c.TagRemovePreprocessor.enabled = True
    return HTMLExporter(config=c, template_name="lab", extra_loaders=[DictLoader({"haba_site.html.j2": TEMPLATE})],
                        template_file="haba_site.html.j2", anchor_link_text="")


def _frontmatter(nb) -> dict:
    "The YAML frontmatter nbdev's processing wrote as the first raw cell (title, description, output-file)."
    import yaml
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "raw":
        m = re.match(r"^---\s*\n(.*?)\n---\s*$", first.source.strip(), flags=re.DOTALL)
        if m: return yaml.safe_load(m.group(1)) or {}
    return {}


_QUARTO_ATTRS = re.compile(r"(\]\([^)\s]*\))\{[^}\n]*\}")   # [source](url){target="_blank" ...}
_DIRECTIVE = re.compile(r"^\s*#\|.*(\n|$)", flags=re.MULTILINE)


def _for_html(nb):
    "What Quarto would show of a processed notebook: no frontmatter or source-less cells, show_doc inputs hidden."
    cells = []
    for cell in nb.cells[1:] if _frontmatter(nb) else nb.cells:
        if "source" not in cell or cell.source is None: continue
        cell.pop("has_sd", None)
        if cell.cell_type == "code":
            if re.search(r"^#\|\s*echo:\s*false", cell.source, flags=re.MULTILINE):
                cell.metadata.setdefault("tags", []).append("haba-hide-input")
            cell.source = _DIRECTIVE.sub("", cell.source)
            for o in cell.get("outputs", []):
                md = o.get("data", {}).get("text/markdown")
                if md is not None: o["data"]["text/markdown"] = _QUARTO_ATTRS.sub(r"\1", "".join(md))
        elif cell.cell_type == "markdown": cell.source = _QUARTO_ATTRS.sub(r"\1", cell.source)
        cells.append(cell)
    nb.cells = cells
    return nb


def _slug_ids(page: str) -> str:
    "Heading ids (and their anchor links) in lower case: nbdev's doc links (and Quarto) point at #name.lower()."
    low = lambda m: m.group(1) + m.group(2).lower() + m.group(3)
    page = re.sub(r'(<h[1-6][^>]*\bid=")([^"]*)(")', low, page)
    return re.sub(r'(<a class="anchor-link" href="#)([^"]*)(")', low, page)


def _rewrite_links(page: str, base: Path, pages: dict[str, str], doc_url: str, src_url: str, out: Path) -> str:
    """Links that work in `out`: nbdev's doc_host links and links to a page's source become the page; other relative
    links, resolved from `base` (the folder the source's links are relative to), point into the checkout (`../path`
    from _docs/)."""
    def fix(m):
        attr, url = m.group(1), html.unescape(m.group(2))
        if url.startswith(doc_url): url = url[len(doc_url):]
        elif url.startswith(src_url):    # show_doc's [source] link: the file in this checkout
            path, _, frag = url[len(src_url):].partition("#")
            url = Path(os.path.relpath(ROOT/path, out)).as_posix() + (f"#{frag}" if frag else "")
        elif re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", url): return m.group(0)
        else:
            path, _, frag = url.partition("#")
            target = (base/path).resolve()
            try: rel = target.relative_to(ROOT).as_posix()
            except ValueError: return m.group(0)
            if rel in pages: url = pages[rel] + (f"#{frag}" if frag else "")
            elif target.exists(): url = Path(os.path.relpath(target, out)).as_posix() + ("/" if target.is_dir() else "") + (f"#{frag}" if frag else "")
            else: return m.group(0)    # missing: left as written (tests/test_docs_site.py reports it)
        return f'{attr}="{html.escape(url, quote=True)}"'
    return re.sub(r'\b(href|src)="([^"]*)"', fix, page)


def _has_code(nb) -> bool:
    "Whether a page shows code cells of its own (not just show_doc's)."
    return any(c.cell_type == "code" and "haba-hide-input" not in c.metadata.get("tags", []) for c in nb.cells)


def _drop_dead_fragments(bodies: dict[str, str]) -> dict[str, str]:
    """`page.html#name` -> `page.html` where the page has no such id: nbdev links every symbol a notebook defines (private
    helpers and methods too) to `#name`, but show_doc documents only the public top-level ones (Quarto's site has the
    same dead fragments); the link still leads to the notebook that defines the name."""
    ids = {page: set(re.findall(r'\bid="([^"]*)"', body)) for page, body in bodies.items()}
    def fix(m):
        page, frag = m.group(2), m.group(3)
        return m.group(0) if frag in ids[page] else f'{m.group(1)}"{page}"'
    pat = re.compile(r'(\bhref=)"(' + "|".join(map(re.escape, bodies)) + r')#([^"]*)"')
    return {page: pat.sub(fix, body) for page, body in bodies.items()}


def _md_notebook(path: Path):
    import nbformat
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(path.read_text(encoding="utf-8"))])


def build_site(out: Path = ROOT/"_docs", proc: Path = ROOT/"_proc", n_workers: int = 2, log=print) -> dict:
    "Process every notebook with nbdev, render each page with nbconvert, write `out`; returns {page: title}."
    from nbdev.config import get_config
    import nbformat
    t0, out, proc = time.time(), Path(out).resolve(), Path(proc).resolve()
    foreign = [q.name for q in out.iterdir() if q.suffix != ".html"] if out.exists() else []
    if foreign:        # a previous build is replaced; anything else is refused rather than deleted
        raise SystemExit(f"{out} holds files that no docs build wrote ({', '.join(foreign[:3])}): give an empty or new --out")
    cfg = get_config(path=ROOT)
    doc_url = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip("/") + "/"
    src_url = f"{cfg.git_url.rstrip('/')}/blob/{cfg.branch}/"
    nbs = notebooks()
    processed = proc_all(nbs, proc, n_workers)
    log(f"docs: nbdev processed {len(processed)} notebooks into {proc} in {time.time() - t0:.0f} s")
    sources = []   # (source path in the repo, page file, title, description, notebook node, link base)
    for src, p in zip(nbs, processed):
        nb = nbformat.read(p, as_version=4)
        fm = _frontmatter(nb)
        base = ROOT if src == INDEX else src.parent     # index.ipynb's links are README's: relative to the root
        sources.append((src, page_name(src), fm.get("title", src.stem), fm.get("description", ""), nb, base))
    for md, (page, title, desc) in MD_PAGES.items():
        sources.append((ROOT/md, page, title, desc, _md_notebook(ROOT/md), (ROOT/md).parent))
    pages = {s[0].relative_to(ROOT).as_posix(): s[1] for s in sources}
    nav = [(s[1], s[2]) for s in sources]
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    exporter, bodies = _exporter(), {}
    for src, page, title, desc, nb, base in sources:
        if src == INDEX:   # the home page ends with the contents: every page, in order, with its description
            lines = [f"- [{t}]({p})" + (f": {d}" if d else "") for s2, p, t, d, *_ in sources if s2 != INDEX]
            nb.cells.append(nbformat.v4.new_markdown_cell("## Contents\n\n" + "\n".join(lines)))
        nb = _for_html(nb) if src.suffix == ".ipynb" else nb
        body, _ = exporter.from_notebook_node(nb, resources={
            "metadata": {"name": title, "path": str(src.parent)}, "site_title": cfg.title, "nav": nav, "page": page,
            "page_title": title if src.suffix == ".ipynb" else "", "page_id": title.lower().replace(" ", "-"),
            "page_description": desc,
            "page_source": src.relative_to(ROOT).as_posix() if src != INDEX and _has_code(nb) else ""})
        bodies[page] = _rewrite_links(_slug_ids(body), base, pages, doc_url, src_url, out)
    for page, body in _drop_dead_fragments(bodies).items(): (out/page).write_text(body, encoding="utf-8")
    log(f"docs: {len(sources)} pages in {out} ({time.time() - t0:.0f} s); open {out/'index.html'}")
    return {s[1]: s[2] for s in sources}


def main(argv=None):
    p = argparse.ArgumentParser(prog="tools/docs.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("readme", help="write README.md from nbs/index.ipynb")
    r.add_argument("--check", action="store_true", help="only check that README.md is up to date (exit 1 if not)")
    s = sub.add_parser("site", help="build the HTML docs into _docs/")
    s.add_argument("--out", default=str(ROOT/"_docs"), help="output folder (default: _docs)")
    s.add_argument("--proc", default=str(ROOT/"_proc"), help="nbdev's processed notebooks (default: _proc)")
    s.add_argument("--workers", type=int, default=2, help="processes for nbdev's processing (default: 2)")
    a = p.parse_args(argv)
    out, proc = (Path(a.out).resolve(), Path(a.proc).resolve()) if a.cmd == "site" else (None, None)
    os.chdir(ROOT)   # nbdev reads settings.ini from the working directory (here and in the worker processes)
    if a.cmd == "readme":
        if a.check:
            problem = check_readme()
            if problem: print(problem, file=sys.stderr); return 1
            print("check: README.md == tools/docs.py readme (nbs/index.ipynb)"); return 0
        README.write_text(readme_text(), encoding="utf-8"); print(f"wrote {README} from {INDEX}"); return 0
    build_site(out, proc, a.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
