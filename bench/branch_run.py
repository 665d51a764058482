"""Branch a distillation run from one of its checkpoints, with some resumable settings changed, into a new folder.

The branch starts from the checkpoint's exact state (set, optimisers, RNGs, history), so it draws the same expert
segments, batches and augmentations as the source run did after that iteration until the changed setting makes the
two differ: a controlled comparison that the large run-to-run spread of MTT + HaBa does not blur. Only the fields
`haba_nb.config.RESUMABLE_CHANGES` names may change (e.g. spike_clip, grad_clip, lr_img, iterations); the source
folder is only read.

    .venv/bin/python bench/branch_run.py --source bench/results/checkpoints/RUN --at 100 --out /work/runs/RUN_spike3 \\
        --iterations 500 --set spike_clip=3.0 --threads 1

Resuming a stopped branch: the same command (it continues from the branch's newest checkpoint).
It writes what `distill` writes in --out: config.json, history.json (every iteration's record, `gnorm_step_*` and
`spike_scale_*` included), ckpt-*.json / .safetensors every --checkpoint-every iterations, and final/; those checkpoints
are what bench/select_iteration.py evaluates.
"""
import argparse, json, shutil, sys
from pathlib import Path
from harness import literal


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--source', required=True, type=Path, help='the run folder to branch from (read only)')
    ap.add_argument('--at', required=True, type=int, help='iteration of the source checkpoint to start from')
    ap.add_argument('--out', required=True, type=Path, help='the new run folder')
    ap.add_argument('--iterations', required=True, type=int, help='total iterations of the branch (counted from 0)')
    ap.add_argument('--set', action='append', default=[], metavar='FIELD=VALUE', help='a resumable DistillConfig field to change')
    ap.add_argument('--checkpoint-every', type=int, default=100)
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    a = ap.parse_args(argv)
    import torch
    torch.set_num_threads(a.threads)
    from haba_nb.config import DistillConfig, RESUMABLE_CHANGES
    from haba_nb.distill import distill
    from haba_nb.runs import newest_checkpoint_it
    stem = f"ckpt-{a.at:06d}"
    if not (a.source / f"{stem}.json").exists():
        have = sorted(p.stem for p in a.source.glob('ckpt-*.json'))
        sys.exit(f"no checkpoint {stem} in {a.source}; it has {', '.join(have) or 'none'} — pass one of those iterations as --at")
    changes = dict(s.split('=', 1) for s in a.set)
    if (bad := [k for k in changes if k not in RESUMABLE_CHANGES]):
        sys.exit(f"--set {', '.join(bad)}: not a setting a resumed run may change (those are: {', '.join(RESUMABLE_CHANGES)})")
    cfg_d = json.loads((a.source / 'config.json').read_text())
    cfg_d.update({k: literal(v) for k, v in changes.items()}, iterations=a.iterations, out_dir=str(a.out),
                 checkpoint_every=a.checkpoint_every, keep_checkpoints=1000, progress=False)
    cfg = DistillConfig(**cfg_d)                      # its contrastive dict becomes a ContrastiveConfig
    if not newest_checkpoint_it(a.out):              # a new branch: its first checkpoint is the source's
        a.out.mkdir(parents=True, exist_ok=True)
        for ext in ('json', 'safetensors'): shutil.copy2(a.source / f"{stem}.{ext}", a.out / f"{stem}.{ext}")
    res = distill(cfg, resume=True)
    print(f"{a.out}: iterations {res.meta.get('resumed_from')} -> {len(res.history)}; changed: {changes or 'nothing'}")


if __name__ == '__main__':
    main()
