"""How soon must spike_clip start guarding? MTT + HaBa at ipc 2 on digits (quick tier: 30 iterations, one basis a class),
distilled from --seeds seeds once per warm-up (haba_nb.distill.SPIKE_MIN_HISTORY: the norms the median needs before
the cap acts), scored on the VALIDATION split. A set "left the data's scale" when its views' std is over 1.5x the real
images' (tests/test_haba_learns.py's bound). Prints a table and saves bench/results/spike_warmup.json: per warm-up the
sets' accuracies, std ratios and how many left the scale.

The early spikes that slip through an unguarded warm-up depend on float rounding, so the count differs between CPU
kernels: run it under each (the variables must be set before torch loads), e.g.

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 PYTHONPATH=. .venv/bin/python bench/spike_warmup.py --warmups 10 3
       [--seeds 16] [--eval-seeds 2] [--out bench/results/spike_warmup.json]"""
import argparse, os, statistics as st, time
from harness import add_common_args, append_record, md_header, md_row
import torch
import haba_nb.distill as distill_module
from haba_nb.data import load_dataset
from haba_optimisation import cell

SCALE_BOUND = 1.5

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--warmups', type=int, nargs='+', default=[10, 3], help='values of SPIKE_MIN_HISTORY to compare')
    ap.add_argument('--seeds', type=int, default=16); ap.add_argument('--eval-seeds', type=int, default=2)
    add_common_args(ap, threads=1, out=os.path.join(os.path.dirname(__file__), 'results', 'spike_warmup.json'))
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    real = load_dataset('digits'); pool, val = real.split_validation(None, seed=0)
    kernels = {'cpu_capability': torch.backends.cpu.get_cpu_capability(), 'onednn_max_isa': os.environ.get('ONEDNN_MAX_CPU_ISA', 'default')}
    print(f"kernels: {kernels}")
    print(md_header(['warm-up (norms before the cap acts)', 'validation accuracy (%)', f'sets over {SCALE_BOUND}x the std', 'max std ratio', 's']))
    rows = []
    for w in a.warmups:
        distill_module.SPIKE_MIN_HISTORY = w
        t, accs, stds = time.time(), [], []
        for s in range(a.seeds):
            acc, _, extra = cell(real, pool, val, 'mtt', 'haba', 2, s, {}, a.eval_seeds)
            if acc: accs.append(st.mean(acc))                       # a set the divergence guard stopped has no accuracy
            stds.append(extra.get('std_ratio', float('inf')))      # and counts as off the scale
        nan = float('nan')                                         # every set (or all but one) stopped: no mean / std
        row = dict(warmup=w, mean=st.mean(accs) if accs else nan, std=st.stdev(accs) if len(accs) > 1 else nan, accs=accs, std_ratios=stds, diverged=a.seeds - len(accs),
                   left_scale=sum(x > SCALE_BOUND for x in stds), seconds=time.time() - t)
        rows.append(row)
        print(md_row([w, f"{row['mean']:.1f} ± {row['std']:.1f}", f"{row['left_scale']} of {a.seeds}", f"{max(stds):.2f}",
                      f"{row['seconds']:.0f}"]), flush=True)
    record = dict(dataset='digits', tier='quick', objective='mtt + haba', ipc=2, split='validation', seeds=a.seeds,
                  eval_seeds=a.eval_seeds, threads=a.threads, kernels=kernels, rows=rows)
    append_record(a.out, record)

if __name__ == '__main__': main()
