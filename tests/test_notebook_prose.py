"""Notebooks are documentation (issue 40): their prose says what and why, in a size a reader gets through, and the
measurements and history behind a default live in results/NOTES.md, linked from the notebook, not in its markdown."""
import json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted((ROOT/'nbs').glob('*.ipynb'))
MAX_MARKDOWN = 70_000   # characters of markdown in all of nbs/ (nbdev's own 18 notebooks hold ~29k)
# a date, a work session ("this session", "the 17th session"; a Ray or process session is fine), "today", superseded defaults
DATED = (r'\b20\d\d-\d\d-\d\d\b|\b(?:this|last|previous|next|earlier|later|\w+th|first|second|third) sessions?\b|this week|\btoday\b'
         r'|the previous default|\bissue \d+ asked')

def _markdown(nb: Path) -> list[str]:
    return [''.join(c['source']) for c in json.loads(nb.read_text(encoding='utf-8'))['cells'] if c['cell_type'] == 'markdown']

def test_notebook_prose_fits_a_reader():
    sizes = {nb.name: sum(map(len, _markdown(nb))) for nb in NBS}
    total = sum(sizes.values())
    assert total <= MAX_MARKDOWN, f"nbs/ holds {total:,} characters of markdown (> {MAX_MARKDOWN:,}); largest: {sorted(sizes.items(), key=lambda kv: -kv[1])[:4]}"

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_no_dated_measurements_in_notebook_prose(nb):
    dated = [m for md in _markdown(nb) for m in re.findall(r'.{0,40}(?:' + DATED + r').{0,40}', md, flags=re.I)]
    assert not dated, f"{nb.name}: dated measurements and history belong in results/NOTES.md (#{nb.stem}), with a link: {dated[:3]}"

def test_notes_have_a_section_per_notebook():
    heads = set(re.findall(r'^## (\S+)', (ROOT/'results'/'NOTES.md').read_text(encoding='utf-8'), flags=re.M))
    missing = [nb.stem for nb in NBS if nb.stem != 'index' and nb.stem not in heads]
    assert not missing, f"results/NOTES.md has no section for {missing}"
