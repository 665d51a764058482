"""Run under `torchrun --nproc_per_node 2`: a whole tiny DM + HaBa distillation with the classes split across two gloo ranks
(argv[1]: out_dir, argv[2]: iterations, argv[3]: 'resume' or 'fresh'). Rank 0 writes the run; every rank computes it."""
import sys, torch
from haba_nb.config import DistillConfig
from haba_nb.distill import distill
from haba_nb.distributed import leave
torch.set_num_threads(1)
cfg = DistillConfig(dataset='digits', objective='dm', parameterisation='haba', ipc=2, n_hallucinators=3, width=16,
                    adversary_width=16, iterations=int(sys.argv[2]), n_eval=0, diversity_every=0, progress=False, seed=1,
                    objective_kwargs={'batch_real': 16}, out_dir=sys.argv[1])
distill(cfg, resume=sys.argv[3] == 'resume')
leave(sync=True)
