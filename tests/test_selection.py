"Selection on validation, reporting on test: the in-loop choice never reads the test split; storage is labelled honestly."
import dataclasses, json
import pytest, torch
from haba_nb.core import BudgetError, ConfigError
from haba_nb.data import load_dataset
from haba_nb.config import DistillConfig
from haba_nb.distill import distill
from haba_nb.artifacts import load_artifact
from haba_nb.experiment import experiment_config, run_experiment

torch.set_num_threads(1)
TINY = dict(ipc=2, n_hallucinators=3, width=16, adversary_width=16, iterations=6, eval_every=2, n_eval=1, eval_epochs=40,
            diversity_every=0, progress=False, seed=1, objective_kwargs={"batch_real": 16})

def poisoned(real):
    "The test split replaced by NaN images with shuffled labels: any score computed on it changes (to chance)."
    g = torch.Generator().manual_seed(0)
    return dataclasses.replace(real, x_test=torch.full_like(real.x_test, float("nan")),
                               y_test=real.y_test[torch.randperm(len(real.y_test), generator=g)])

def test_distill_selects_on_validation_not_test(tmp_path):
    real = load_dataset("digits")
    kw = {**TINY, "eval_epochs": 100}   # 40 epochs leave a 10-image set's networks at one score whatever the set (13.8 % each time)
    a = distill(DistillConfig(out_dir=str(tmp_path/"a"), **kw), real=real)
    b = distill(DistillConfig(out_dir=str(tmp_path/"b"), **kw), real=poisoned(real))
    accs = lambda r: [(h["it"], h["acc_mean"]) for h in r.history if "acc_mean" in h]
    assert accs(a) == accs(b) and len(accs(a)) == 3            # every in-loop score is the same: none came from the test split
    assert len({v for _, v in accs(a)}) > 1   # the scores inform the choice (on the poisoned split all would be 10.0)
    assert a.best == b.best and a.best["split"] == "validation"
    pa, _ = load_artifact(tmp_path/"a"/"best"); pb, mb = load_artifact(tmp_path/"b"/"best")
    for k, v in pa.state_dict().items(): assert torch.equal(v, pb.state_dict()[k]), k   # the same set was saved
    v = mb["validation"]; assert (v["n_per_class"], v["size"], v["n_train"]) == (13, 130, real.n_train - 130)
    # the poison is real: scoring the chosen set on the poisoned test split gives chance, not the validation score
    from haba_nb.evaluate import EvalConfig, evaluate_synset
    bad = evaluate_synset(pb, poisoned(real), EvalConfig(epochs=40, width=16, device="cpu"), n_seeds=1)
    assert bad["mean"] != a.best["acc_mean"] and bad["mean"] < 20

def test_objective_never_sees_validation_images(tmp_path):
    "The pool the objective samples is the training split minus the validation images."
    real = load_dataset("digits"); seen = []
    from haba_nb.objectives import get_objective
    class Spy:
        def __init__(self, inner): self.inner = inner
        def __getattr__(self, k): return getattr(self.inner, k)
        def loss(self, param, r, step): seen.append(r); return self.inner.loss(param, r, step)
    obj = Spy(get_objective("dm", real, model="ConvNet", ipc=2, width=16, depth=3, batch_real=16))
    distill(DistillConfig(out_dir=str(tmp_path/"s"), **{**TINY, "iterations": 2, "n_eval": 0}), real=real, objective=obj)
    _, val = real.split_validation(13, seed=0)
    pool = seen[0].x_train.flatten(1)
    assert seen[0].n_train == real.n_train - 130
    held = val.x_test.flatten(1)
    # digits has exact duplicate images; count only held-out images that occur once in the whole training split
    uniq = [x for x in held if int((real.x_train.flatten(1) == x).all(1).sum()) == 1]
    assert len(uniq) > 100 and not any(bool((pool == x).all(1).any()) for x in uniq)

def test_experiment_reports_fresh_seeds_and_provenance(tmp_path):
    real = load_dataset("digits")
    kw = dict(objective="dm", iterations=4, eval_every=2, eval_epochs=3, n_eval=2, width=16, tier="cpu", seed=1)
    ra = run_experiment(experiment_config(out_dir=str(tmp_path/"a"), **kw), real=real, figures=False)
    rb = run_experiment(experiment_config(out_dir=str(tmp_path/"b"), **kw), real=poisoned(real), figures=False)
    assert ra["best_iteration"] == rb["best_iteration"] and ra["selection"]["best"] == rb["selection"]["best"]
    assert ra["selection"]["split"] == "validation" and ra["selection"]["reported"] == "best"
    assert ra["evaluation"] == dict(split="test", seeds=[1002, 1003], epochs=3)     # disjoint from the selecting seed (1)
    assert ra["validation"]["size"] == 130 and ra["tier"] == "cpu" and ra["resumed_from"] is None
    assert ra["data_source"] == "bundled with scikit-learn" and ra["label"] == "dm+haba, ipc 10"
    assert ra["storage"]["within_budget"] and ra["storage"]["budget_floats"] == 6400
    meta = json.loads((tmp_path/"a"/"artifact"/"meta.json").read_text())
    assert meta["experiment"]["seed"] == 1 and meta["experiment"]["tier"] == "cpu"      # the experiment's config survives ...
    assert meta["config"]["kind"] == "factorized" and meta["config"]["n_hallucinators"] == 5   # ... beside the set's shape config
    assert meta["distill_config"]["objective"] == "dm" and meta["validation"]["size"] == 130

def test_storage_over_budget_refused_unless_asked_and_labelled(tmp_path):
    with pytest.raises(BudgetError) as e: experiment_config(bpc=20)
    assert "-p strict_budget False" in str(e.value)
    c = experiment_config(bpc=20, strict_budget=False, iterations=2, eval_epochs=2, n_eval=1, width=16, out_dir=str(tmp_path/"o"))
    r = run_experiment(c, figures=False)
    assert not r["storage"]["within_budget"] and r["storage"]["ratio_percent"] > 2 * r["storage"]["budget_ratio_percent"]
    over = r['storage']['stored_floats'] / r['storage']['budget_floats']
    assert r["label"] == f"dm+haba, {r['storage']['ratio_percent']:.3g} % storage ({over:.2g}× ipc 10's floats)"
    from haba_nb.sweep import results_table
    t = results_table([r])
    # in its ipc column, saying how far over the budget it is
    assert t["markdown"].split("\n")[0] == "| method | digits ipc 10 |" and f"({over:.2g}× the floats)" in t["markdown"], t["markdown"]
