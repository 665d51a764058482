# haba_nb — the two commands:  `make demo`  (main job, offline, CPU)  and  `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= runs/demo
# The demo's budget, chosen on the validation split (bench/demo_default.py --ipc N --seeds 3, bench/results/demo_default.json,
# quick tier, digits): ipc 10, the paper's accounting (9 bases + 5 hallucinators in 10 images' floats), where DM + HaBa
# scored highest of random, DM, DM + HaBa and IDC's control; at ipc 2 the hallucinators take 36 % of an 8x8 budget and leave
# one basis per class (HaBa -7.5 points from DM there), at ipc 5 no distilled set beat random real images.
DEMO_PARAMS ?= -p ipc 10

.PHONY: demo test venv system-deps export check clean-nbs nbtest pytest readme docs bench-bank bench-coreset bench-objectives

# The environment: torch + torchvision from the registry (see ENVIRONMENT.md), the package
# in editable mode with its dev and ray extras, and a Jupyter kernel for papermill / nbdev_test.
$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel "setuptools<81"
	$(BIN)/pip install -q "torch==2.14.1" "torchvision==0.29.2"
	$(BIN)/pip install -q -e ".[dev,ray]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# Real data nobody here wrote (Fashion-MNIST) and a browser for the widget test.
# Best effort: skipped where apt-get is missing or not root.
system-deps:
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  need=""; \
	  dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || need="$$need dataset-fashion-mnist"; \
	  dpkg -s chromium >/dev/null 2>&1 || need="$$need chromium chromium-driver"; \
	  if [ -n "$$need" ]; then \
	    (apt-get install -y -q $$need >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$need >/dev/null 2>&1)) \
	      && echo "system-deps: installed$$need" || echo "system-deps: could not install$$need (tests that need them will say so)"; \
	  fi; \
	else echo "system-deps: apt-get unavailable or not root; Fashion-MNIST/Chromium tests will report why they skip"; fi

# Command one: the main job on the embedded default dataset (digits), headless.
# `-p overwrite True`: `make demo` again replaces the previous demo's run (a user's own runs keep the lock's protection)
demo: $(STAMP)
	mkdir -p $(DEMO_OUT)
	$(BIN)/papermill nbs/run_distill.ipynb $(DEMO_OUT)/run_distill.ipynb -p out_dir $(abspath $(DEMO_OUT)) -p overwrite True $(DEMO_PARAMS) --cwd nbs
	@cat $(DEMO_OUT)/comparison.md
	@echo "results: $(DEMO_OUT)/results.json; executed notebook (tables, printed numbers): $(DEMO_OUT)/run_distill.ipynb; figures: $(DEMO_OUT)/figures.html"

# Command two: notebooks as tests + pytest + the notebooks-are-the-source-of-truth checks.
test: $(STAMP) system-deps check nbtest pytest

# nbdev's test_nb on every notebook nbdev_test would test, each in a fresh interpreter (two at a time): a notebook
# that dies in native code costs only itself, and the log ends with its name, how it failed and its threads' stacks.
nbtest: $(STAMP)
	$(BIN)/python tools/nbtest.py --n-workers 2

pytest: $(STAMP)
	$(BIN)/python -m pytest -q tests

# The package must equal nbdev_export of the notebooks, and notebooks carry no outputs.
check: $(STAMP)
	$(BIN)/nbdev_export
	@if [ -n "$$(git status --porcelain -- haba_nb)" ]; then \
	  git status --porcelain -- haba_nb; echo "FAIL: haba_nb differs from nbdev_export of nbs/ — run nbdev_export and commit both"; exit 1; fi
	$(BIN)/nbdev_clean
	@if [ -n "$$(git status --porcelain -- nbs)" ]; then \
	  git status --porcelain -- nbs; echo "FAIL: notebooks are not clean — run nbdev_clean and commit"; exit 1; fi
	@if grep -l '"output_type"' nbs/*.ipynb; then echo "FAIL: notebooks carry outputs — run nbdev_clean"; exit 1; fi
	$(BIN)/python tools/docs.py readme --check
	@echo "check: package == nbdev_export(nbs), notebooks clean, README.md == nbs/index.ipynb"

# README.md is generated from nbs/index.ipynb (nbconvert; nbdev_readme needs Quarto, which cannot be installed here).
readme: $(STAMP)
	$(BIN)/python tools/docs.py readme

# The docs site, offline, into _docs/: nbdev's notebook processing (show_doc for every export) + nbconvert's HTML.
docs: $(STAMP)
	$(BIN)/python tools/docs.py site

export: $(STAMP)
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

bench-bank: $(STAMP)
	$(BIN)/python bench/bench_bank.py
bench-coreset: $(STAMP)
	$(BIN)/python bench/bench_coreset.py
bench-objectives: $(STAMP)
	$(BIN)/python bench/bench_objectives.py
