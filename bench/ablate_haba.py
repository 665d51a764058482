"""HaBa ablation at equal storage: objective × variant × IPC on one dataset, one table (issue 15).

Each variant is one `distill` run (DistillConfig overrides given as FIELD=VALUE) at a stated CPU
budget, then the final set (no in-loop model selection: nothing is chosen, so nothing can peek at
the test split) is evaluated by training fresh ConvNets of --eval-width (default 128, the paper's)
for --eval-epochs with DSA, on evaluation seeds 1000.. (disjoint from the distillation seed).
Besides accuracy (mean ± std) each row records what the issue asks to see next to it:
- same-basis view similarity, pixel and adversary-feature cosine (`diversity_summary`),
- the run's adversary accuracy on every view of the final set (chance = 1/classes),
- image std relative to the real data's, stored floats, seconds per distillation iteration,
- the median gradient-norm ratio objective : contrastive term on bases and hallucinators
  (where the run records it).

    .venv/bin/python bench/ablate_haba.py --objective dm --ipc 10 --variant plain parameterisation=plain \\
        --variant haba_new                       # new defaults
    .venv/bin/python bench/ablate_haba.py --table-only   # print the table of every record

Records are appended to --out (default bench/results/ablate_haba_v2.json), one per variant: its key (dataset, split,
objective, ipc, budget, variant, overrides, code commit), the measurements above, accs, distill_s / eval_s, the command
and 'meta' (machine, date: bench/harness.py); a variant with the same key is skipped when re-run.
--keep-sets DIR copies each final set (safetensors + meta.json, ~0.3 MB at Fashion-MNIST IPC 10) into DIR/<run name>:
run folders live outside the repository and do not outlive the machine they ran on, so a set another bench needs later
(bench/cross_arch.py) must be kept in the repository.
"""
import argparse, json, sys, time
from pathlib import Path
from harness import add_common_args, append_record, command, commit, literal, load_records, md_header, md_row, median

HERE = Path(__file__).resolve().parent


def run_variant(a, real, name, over):
    import torch
    from haba_nb.config import DistillConfig
    from haba_nb.runs import load_checkpoint
    from haba_nb.distill import distill
    from haba_nb.evaluate import EvalConfig, evaluate_synset
    from haba_nb.contrastive import Adversary, diversity_summary
    base = dict(dataset=a.dataset, objective=a.objective, parameterisation='haba', ipc=a.ipc, iterations=a.iterations,
                width=a.width, n_eval=0, progress=False, diversity_every=max(1, a.iterations // 10), seed=a.seed,
                out_dir=str(Path(a.runs) / f"{a.dataset}-{a.objective}-ipc{a.ipc}-{name}"))
    if a.objective == 'mtt':   # the cpu tier's student settings over the objective's per-IPC row; the variant may override them
        base['objective_kwargs'] = {**mtt_student(a), 'expert_dir': str(a.expert_dir)}
    okw = {**base.get('objective_kwargs', {}), **over.get('objective_kwargs', {})}   # a variant's objective settings add to the base's
    cfg = DistillConfig(**{**base, **over, 'objective_kwargs': okw})
    from haba_nb.runs import newest_checkpoint_it
    done_before = (newest_checkpoint_it(cfg.out_dir) or 0) if a.resume else 0
    t0 = time.time()
    # a variant re-run (new commit) replaces its old folder; --resume continues it (e.g. 300 -> 1000 iterations, or 0 more: re-evaluate)
    res = distill(cfg, real=real, resume=True) if a.resume else distill(cfg, real=real, overwrite=True)
    t1 = time.time()
    param, hist = res.param.eval(), res.history
    hist_median = lambda key: median((r[key] for r in hist if key in r and r[key] == r[key]), default=None)   # NaN left out
    with torch.no_grad(): x, y = (t.detach() for t in param.materialize())
    # --eval-views all: each evaluation epoch trains on every image the set holds (all bases × all hallucinators),
    # instead of the reference protocol's one random view per basis
    ev = evaluate_synset((x, y) if a.eval_views == 'all' else param, real, EvalConfig(model='ConvNet', epochs=a.eval_epochs,
                         width=a.eval_width), n_seeds=a.seeds, seed=1000, lr=res.syn_lr)
    rec = dict(mean=float(ev['mean']), std=float(ev['std']), accs=[float(v) for v in ev['accs']],
               items=len(param), stored_floats=int(param.stored_floats()),
               image_std_rel=float(x.detach().std() / real.x_train.std()), image_absmax_rel=float(x.detach().abs().max() / real.x_train.abs().max()),
               s_per_it=(t1 - t0) / (cfg.iterations - done_before) if cfg.iterations > done_before else None,
               distill_s=t1 - t0, resumed_from=done_before or None, eval_s=time.time() - t1,
               grad_ratio_bases=hist_median('gratio_bases'), grad_ratio_hallucinators=hist_median('gratio_hallucinators'),
               adv_cls_last=hist[-1].get('adv_cls') if hist else None)
    if a.keep_sets:   # the final artifact, kept where a later session finds it (see the module docstring)
        import shutil
        kept = (Path(a.keep_sets) / Path(cfg.out_dir).name).resolve()
        shutil.copytree(Path(cfg.out_dir) / 'final', kept, dirs_exist_ok=True)
        rec['set_dir'] = str(kept.relative_to(HERE.parent) if kept.is_relative_to(HERE.parent) else kept)
    if cfg.parameterisation == 'haba':
        st, _ = load_checkpoint(cfg.out_dir)
        adv = None
        if st is not None and st['run'].get('adversary') is not None:
            adv = Adversary(real.channels, real.num_classes, real.im_size, width=cfg.adversary_width, depth=cfg.adversary_depth)
            adv.load_state_dict(st['run']['adversary']); adv.eval()
        with torch.no_grad():
            d = diversity_summary(param, adv)
            rec.update(sim_pixel=d['sim_pixel'], sim_feature=d.get('sim_feature'), n_eff=d['n_eff'])
            if adv is not None: rec['adv_acc'] = float((adv(x)[1].argmax(1) == y).float().mean() * 100)
    return rec


def mtt_student(a) -> dict:
    "MTT's student settings at this budget: the cpu tier's (syn_steps, expert_epochs, max_start_epoch) at this IPC."
    from haba_nb.experiment import tier_objective_options
    t = tier_objective_options('cpu', 'mtt', a.ipc)
    return {k: t[k] for k in ('syn_steps', 'expert_epochs', 'max_start_epoch')}


def find_expert_dir(a, real):
    "The cached cpu-tier trajectories for the distillation network, else exit with the `haba-experts` command that makes them."
    from haba_nb.core import TrajectoryError
    from haba_nb.experts import ensure_experts
    from haba_nb.experiment import tier_experts
    try: return ensure_experts(real, 'ConvNet', {'width': a.width}, a.n_experts, tier_experts('cpu')['expert_train_epochs'])
    except TrajectoryError as e: sys.exit(str(e))


def _fmt(v, f='{:.2f}'):
    return '–' if v is None else f.format(v)


def print_table(records, dataset):
    print(f"\n{dataset}: final set evaluated (no selection), ConvNet eval, DSA; accuracy over fresh evaluation seeds\n")
    print(md_header(['split', 'objective', 'ipc', 'variant', 'iterations', 'accuracy', 'pixel cos', 'feature cos', 'adversary acc',
                     'image std / real', 'grad ratio obj:cos (bases / hal.)', 's/it', 'stored floats', 'commit']))
    for r in sorted((r for r in records if r['dataset'] == dataset), key=lambda r: (r.get('split', 'test'), r['objective'], r['ipc'], r['variant'])):
        gr = f"{_fmt(r.get('grad_ratio_bases'), '{:.3g}')} / {_fmt(r.get('grad_ratio_hallucinators'), '{:.3g}')}"
        print(md_row([r.get('split', 'test'), r['objective'], r['ipc'], r['variant'], r['iterations'],
                      f"{r['mean']:.1f} ± {r['std']:.1f} (n={len(r['accs'])})", _fmt(r.get('sim_pixel')), _fmt(r.get('sim_feature')),
                      _fmt(r.get('adv_acc'), '{:.0f} %'), _fmt(r.get('image_std_rel')), gr, _fmt(r.get('s_per_it')),
                      r['stored_floats'], r.get('commit')]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--dataset', default='fashionmnist')
    ap.add_argument('--objective', default='dm')
    ap.add_argument('--ipc', type=int, default=10)
    ap.add_argument('--iterations', type=int, default=200)
    ap.add_argument('--width', type=int, default=32, help='distillation ConvNet width (adversary: its own default)')
    ap.add_argument('--eval-width', type=int, default=128, help='width of the evaluated ConvNets (paper: 128)')
    ap.add_argument('--seeds', type=int, default=3, help='evaluation seeds (1000, 1001, ...)')
    ap.add_argument('--eval-epochs', type=int, default=300)
    ap.add_argument('--seed', type=int, default=0, help='distillation seed')
    add_common_args(ap, threads=2)
    ap.add_argument('--variant', nargs='+', action='append', default=[], metavar=('NAME', 'FIELD=VALUE'),
                    help='a variant name followed by DistillConfig overrides')
    ap.add_argument('--validation', type=int, default=0, metavar='N_PER_CLASS',
                    help='hold out N training images per class (seeded) as the evaluation set, for choosing settings; '
                         'the distillation never sees them and the test split is not read')
    ap.add_argument('--expert-dir', default=None, help='MTT: trajectory folder (default: the cached cpu-tier experts)')
    ap.add_argument('--n-experts', type=int, default=8, help='MTT: at least this many finished experts in the cached folder')
    ap.add_argument('--resume', action='store_true',
                    help="continue each variant's run folder from its newest checkpoint up to --iterations (the same "
                         "number: only re-evaluate its final set, e.g. with another --eval-epochs)")
    ap.add_argument('--eval-views', default='epoch', choices=['epoch', 'all'],
                    help="what an evaluation epoch trains on: 'epoch' (the set's epoch_images: every basis once through a random "
                         "hallucinator, the reference protocol) or 'all' (every view of every basis); 'all' is recorded as "
                         "variant NAME@all-views")
    ap.add_argument('--keep-sets', default=None, metavar='DIR',
                    help="copy each final set into DIR/<run name> (e.g. bench/results/sets) for later benches such as cross_arch.py")
    ap.add_argument('--table-only', action='store_true')
    ap.add_argument('--runs', default=str(HERE.parent / 'runs' / 'ablate_haba'))
    add_common_args(ap, out=HERE / 'results' / 'ablate_haba_v2.json', out_help='the records file (appended to)')
    a = ap.parse_args()
    out = Path(a.out)
    records = load_records(out)
    if not a.table_only:
        import torch; torch.set_num_threads(a.threads)
        from haba_nb.data import load_dataset
        real = load_dataset(a.dataset)
        if a.validation: real = real.split_validation(a.validation, seed=0)[1]   # trains without them, tests on them
        code = commit()
        if a.objective == 'mtt' and a.expert_dir is None: a.expert_dir = find_expert_dir(a, real)
        for name, *kv in a.variant:
            over = {k: literal(v) for k, v in (s.split('=', 1) for s in kv)}
            key = dict(dataset=a.dataset, split=f'validation {a.validation}/class' if a.validation else 'test',
                       objective=a.objective, ipc=a.ipc, iterations=a.iterations, width=a.width,
                       eval_width=a.eval_width, seeds=a.seeds, eval_epochs=a.eval_epochs, seed=a.seed,
                       variant=name + ('@all-views' if a.eval_views == 'all' else ''), overrides=over, commit=code)
            if a.resume: key['resume'] = True
            if a.objective == 'mtt':
                key['mtt'] = {**mtt_student(a), 'experts': len(list(Path(a.expert_dir).glob('expert_*.safetensors')))}
            if any({k: r.get(k) for k in key} == key for r in records):
                print(f"{name}: done before, skipped"); continue
            rec = {**key, **run_variant(a, real, name, over), 'command': command()}
            records = append_record(out, rec)   # re-read first: another process may have appended
            print(json.dumps({k: rec.get(k) for k in ('objective', 'ipc', 'variant', 'mean', 'std', 'sim_pixel', 'adv_acc',
                                                       'image_std_rel', 's_per_it')}), flush=True)
    print_table(records, a.dataset)


if __name__ == '__main__':
    try: main()
    except KeyboardInterrupt as e:   # Ctrl-C, or SIGTERM inside the distillation loop (which checkpoints first)
        import shlex
        again = sys.argv + ([] if '--resume' in sys.argv else ['--resume'])
        sys.exit(f"\n{e or 'interrupted'}. Finished variants are saved (--out), "
                 f"the run folder keeps its checkpoint; continue with:\n  {shlex.join([sys.executable] + again)}")
