"""README.md from nbs/index.ipynb, offline and without Quarto.

    python tools/docs.py readme           # write README.md from nbs/index.ipynb     (make readme)
    python tools/docs.py readme --check   # exit 1 when README.md is not what index.ipynb gives (make check)

Why not nbdev_readme: it renders with Quarto, and Quarto cannot be installed here (PyPI's `quarto-cli` is a small sdist
that downloads the binary from GitHub, which these machines cannot reach). Instead nbconvert's MarkdownExporter turns
nbs/index.ipynb into README.md (its markdown cells as they are: links stay relative to the repository root, where
README.md lives), under a one-line note saying where it comes from.
"""
from __future__ import annotations
import argparse, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/"nbs"
INDEX = NBS/"index.ipynb"
README = ROOT/"README.md"
README_NOTE = "<!-- Generated from nbs/index.ipynb by `make readme` (tools/docs.py): edit the notebook, not this file. -->\n"


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


def main(argv=None):
    p = argparse.ArgumentParser(prog="tools/docs.py", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("readme", help="write README.md from nbs/index.ipynb")
    r.add_argument("--check", action="store_true", help="only check that README.md is up to date (exit 1 if not)")
    a = p.parse_args(argv)
    if a.check:
        problem = check_readme()
        if problem: print(problem, file=sys.stderr); return 1
        print("check: README.md == tools/docs.py readme (nbs/index.ipynb)"); return 0
    README.write_text(readme_text(), encoding="utf-8"); print(f"wrote {README} from {INDEX}"); return 0


if __name__ == "__main__":
    sys.exit(main())
