"""haba_nb — dataset distillation via factorization (HaBa, NeurIPS 2022) as a notebook-first workbench.

A synthetic set made of per-class bases and a few shared hallucinators, trained with DC, DSA, DM or MTT, beside the
same objectives on plain images at the same storage.

Start here:
- `make demo` distils the embedded digits set headless and prints random real images, plain DM, DM + HaBa and IDC's
  control at equal storage (runs/demo/comparison.md); `make test` runs every notebook and the test suite.
- The tour: nbs/explore.ipynb in JupyterLab (`.venv/bin/jupyter lab nbs/explore.ipynb`): the basis explorer and the
  live diversity monitor. Headless runs: `haba-run -p dataset fashionmnist -p objective dm -p ipc 10` or
  `papermill nbs/run_distill.ipynb out.ipynb -p dataset svhn`; tables: `haba-sweep`.
- The documentation is the notebooks in nbs/ (each module's source, prose and examples) and README.md; measured
  results and their commands are in results/README.md.
- In code: `haba_nb.distill.distill(DistillConfig(...))` runs one distillation; `haba_nb.experiment.run_experiment`
  one table cell (distil + evaluate on fresh seeds + figures).
"""
__version__ = "0.1.0"
