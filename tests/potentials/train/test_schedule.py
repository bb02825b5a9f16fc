"""``training.max_time``: the run stops within the budget plus one batch, with valid outputs."""
import importlib
import time

import pytest
import torch

from potentials import load
from potentials.train import OptimSettings
from potentials.train._schedule import Budget, cosine_lr, energy_weight

from ._bulk_slab import bulk_slab_config, write_bulk_slab


def test_cosine_lr_runs_from_lr_to_final_lr():
    assert cosine_lr(0.0, 1.0, 0.1) == 1.0 and cosine_lr(1.0, 1.0, 0.1) == pytest.approx(0.1)
    assert cosine_lr(0.5, 1.0, 0.1) == pytest.approx(0.55) and cosine_lr(2.0, 1.0, 0.1) == 0.1


def test_stage_two_weighs_energies_only_in_the_last_fraction():
    settings = OptimSettings(energy_weight=1.0, stage_two_fraction=0.25,
                             stage_two_energy_weight=100.0)
    assert [energy_weight(settings, p) for p in (0.0, 0.74, 0.75, 1.0)] == [1, 1, 100, 100]
    off = OptimSettings(energy_weight=2.0, stage_two_fraction=0.0)
    assert energy_weight(off, 1.0) == 2.0
    default = OptimSettings()      # the default recipe: the last 20% at weight 300
    assert [energy_weight(default, p) for p in (0.79, 0.8)] == [1.0, 300.0]


def test_budget_progress_is_the_binding_limit():
    budget = Budget(epochs=10, batches_per_epoch=5, max_time=None)
    budget.batches_done = 25
    assert budget.progress() == 0.5 and not budget.out_of_time()
    timed = Budget(epochs=10, batches_per_epoch=5, max_time=100.0, spent_before=80.0)
    assert 0.8 <= timed.progress() < 0.81 and not timed.out_of_time()
    assert Budget(epochs=1, batches_per_epoch=1, max_time=1.0, spent_before=1.0).out_of_time()


def test_max_time_stops_within_the_budget_plus_one_batch(tmp_path, monkeypatch):
    loop = importlib.import_module("potentials.train.loop")
    budgets, batch_ends = [], []
    original_budget, original_loss = loop.Budget, loop.loss_terms

    def recording_budget(*args, **kwargs):
        budgets.append(original_budget(*args, **kwargs))
        return budgets[-1]

    def timed_loss(*args):
        batch_ends.append(time.perf_counter())
        return original_loss(*args)

    monkeypatch.setattr(loop, "Budget", recording_budget)
    monkeypatch.setattr(loop, "loss_terms", timed_loss)
    data = write_bulk_slab(tmp_path / "data.extxyz")
    max_time = 2.0
    config = bulk_slab_config(data, tmp_path / "run", epochs=10_000, max_time=max_time)
    result = loop.train(config, progress=False)
    budget = budgets[0]
    longest_batch = max(b - a for a, b in zip(batch_ends, batch_ends[1:]))
    last_batch_started = batch_ends[-1] - budget.started
    assert max_time - longest_batch <= last_batch_started <= max_time + longest_batch
    assert result.epochs < 10_000
    # the schedule ran to its end: the last learning rate is near the final one
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    lr = last["optimizer"]["param_groups"][0]["lr"]
    assert lr <= 0.05e-2 + 0.1 * (1e-2 - 0.05e-2), lr
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert best["epoch"] >= 1 and load(result.deployed_path).config.species == (29, 79)
