"""Long runs keep bounded memory (issue 7).

Each cell runs in a fresh subprocess and reports its peak RSS plus RSS sampled along the run:
- DM + HaBa for 1,000 iterations on digits: RSS at iteration 100 vs 1,000 shows whether
  anything (history, snapshots, autograd graphs) grows with the iteration count;
- MTT + HaBa with 2 and with 20 expert trajectories: experts are read lazily, one file per
  iteration, so peak memory must not grow with the number of experts.
Prints a table and saves bench/results/bench_memory.json (--out): command, rows (cell, peak_rss_mb, rss_mb at the
probed iterations, seconds), dm_growth_mb, note and 'meta' (commit, machine, date: bench/harness.py).

    .venv/bin/python bench/bench_memory.py [--iterations 1000] [--mtt-iterations 40]
    .venv/bin/python bench/bench_memory.py --iterations 4 --mtt-iterations 2 --width 8 --out /tmp/bench_memory.json   # a check
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
from harness import add_common_args, command, md_header, md_row, save_json

HERE = Path(__file__).resolve().parent

CHILD = r'''
import json, sys, time, os, psutil, torch
torch.set_num_threads(2)
from haba_nb.data import load_dataset
from haba_nb.config import DistillConfig
from haba_nb.distill import distill
from haba_nb.experts import train_experts
a = json.loads(sys.argv[1]); proc = psutil.Process()
real = load_dataset('digits')
extra = {}
if a['objective'] == 'mtt':
    train_experts(real, a['experts'], n_experts=a['n_experts'], epochs=4, net_kw=dict(width=a['width'], depth=3), progress=False)
    extra = dict(objective_kwargs=dict(expert_dir=a['experts'], syn_steps=10, expert_epochs=2, max_start_epoch=2))
rss = {}
def cb(rec):
    if rec['it'] in a['probe']: rss[rec['it']] = proc.memory_info().rss
cfg = DistillConfig(dataset='digits', objective=a['objective'], parameterisation='haba', ipc=10, iterations=a['iterations'],
                    width=a['width'], adversary_width=a['width'], n_eval=0, diversity_every=50, checkpoint_every=100,
                    out_dir=a['out'], progress=False, **extra)
t = time.time(); distill(cfg, callback=cb, real=real)
print(json.dumps(dict(rss=rss, seconds=time.time() - t)))
'''

def run_cell_peak(args: dict) -> dict:
    "Run a cell and get its own peak RSS via os.wait4."
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, '-c', CHILD + "\nopen(sys.argv[2],'w').write(json.dumps(dict(rss=rss)))", json.dumps(args), args['result']])
    _, status, usage = os.wait4(pid, 0)
    if status: raise SystemExit(f"cell failed: {args}")
    res = json.loads(Path(args['result']).read_text())
    res['peak_rss_mb'] = usage.ru_maxrss / 1024
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--iterations', type=int, default=1000)
    ap.add_argument('--mtt-iterations', type=int, default=40)
    ap.add_argument('--width', type=int, default=32)
    add_common_args(ap, out=HERE/'results'/'bench_memory.json')
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        n = a.iterations
        probe = sorted({min(100, n), n // 2, n})
        cells = [dict(name=f'dm+haba {n} it', objective='dm', iterations=n, probe=probe),
                 dict(name='mtt+haba 2 experts', objective='mtt', iterations=a.mtt_iterations, n_experts=2, probe=[a.mtt_iterations]),
                 dict(name='mtt+haba 20 experts', objective='mtt', iterations=a.mtt_iterations, n_experts=20, probe=[a.mtt_iterations])]
        for i, c in enumerate(cells):
            c.update(width=a.width, out=f"{tmp}/run{i}", experts=f"{tmp}/experts{c.get('n_experts', 0)}", result=f"{tmp}/r{i}.json")
            t = time.time(); r = run_cell_peak(c); r['seconds'] = time.time() - t
            rows.append(dict(cell=c['name'], peak_rss_mb=round(r['peak_rss_mb'], 1),
                             rss_mb={int(k): round(v / 2**20, 1) for k, v in r['rss'].items()}, seconds=round(r['seconds'], 1)))
            print(rows[-1], flush=True)
    print('\n' + md_header(['cell', 'peak RSS (MB)', 'RSS at iterations (MB)', 'wall s']))
    for r in rows: print(md_row([r['cell'], r['peak_rss_mb'], r['rss_mb'], r['seconds']]))
    dm = rows[0]['rss_mb']; its = sorted(dm)
    growth = dm[its[-1]] - dm[its[0]]
    print(f"\nDM RSS growth from iteration {its[0]} to {its[-1]}: {growth:+.1f} MB")
    print(f"MTT peak RSS, 20 vs 2 experts: {rows[2]['peak_rss_mb'] - rows[1]['peak_rss_mb']:+.1f} MB")
    save_json(a.out, dict(command=command(), rows=rows, dm_growth_mb=growth, note=
        'CPU, 2 threads, digits, ConvNet/adversary width %d; peak RSS per child via os.wait4' % a.width))

if __name__ == '__main__':
    main()
