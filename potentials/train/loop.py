"""The training loop: AdamW, cosine decay, clipping, EMA, checkpoints, exact resume."""
from __future__ import annotations

import csv
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..closest_pairs import closest_pairs
from ..files import atomic_path, strict_json
from ..checkpoint import save_checkpoint
from ..config import PotentialConfig
from ..export import export
from ..graph import AtomicGraph, atoms_to_graph, batch_graphs
from ..model import EquivariantPotential
from ._ema import ParameterEMA
from .config import TrainConfig
from .data import (Frame, average_num_neighbors, data_hash, fit_reference_energies, force_rms,
                   read_frames, split_indices)
from .metrics import ErrorAccumulator, Targets, loss_terms
from .report import parity_plot

__all__ = ["TrainResult", "train", "fitted_model_config"]

log = logging.getLogger(__name__)
CSV_FIELDS = ("epoch", "lr", "train_loss", "valid_energy_mae", "valid_energy_rmse",
              "valid_forces_mae", "valid_forces_rmse", "valid_stress_mae", "valid_stress_rmse")


@dataclass
class TrainResult:
    """What a finished training run produced (metrics in meV/atom, meV/A, meV/A^3).

    ``test_metrics`` is empty when the split has no test frames; ``valid_metrics`` are
    the best epoch's errors on the validation frames."""

    output: Path
    deployed_path: Path
    test_metrics: dict[str, float]
    valid_metrics: dict[str, float]
    epochs: int
    wall_seconds: float
    history: list[dict[str, float]]


def fitted_model_config(config: PotentialConfig, frames: Sequence[Frame]) -> PotentialConfig:
    """``config`` with reference energies, neighbour count and energy scale from ``frames``."""
    shifts = fit_reference_energies(frames, config.species)
    return config.replace(atomic_energy_shifts=tuple(float(s) for s in shifts),
                          avg_num_neighbors=average_num_neighbors(frames, config.cutoff),
                          energy_scale=max(force_rms(frames), 1e-3))


class _Batches:
    """Graphs (neighbour lists built once) and labels for a set of frames."""

    def __init__(self, frames: Sequence[Frame], config: PotentialConfig, dtype: torch.dtype):
        self.graphs = [atoms_to_graph(f.atoms, config.cutoff, config.species, dtype=dtype)
                       for f in frames]
        self.frames = list(frames)
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.graphs)

    def batch(self, indices: Sequence[int]) -> tuple[AtomicGraph, Targets]:
        frames = [self.frames[i] for i in indices]
        zeros = np.zeros((3, 3))
        targets = Targets(
            energy=torch.tensor([f.energy for f in frames], dtype=self.dtype),
            forces=torch.tensor(np.concatenate([f.forces for f in frames]), dtype=self.dtype),
            stress=torch.tensor(np.stack([zeros if f.stress is None else f.stress for f in frames]),
                                dtype=self.dtype),
            has_stress=torch.tensor([f.stress is not None and f.atoms.pbc.all() for f in frames]))
        return batch_graphs([self.graphs[i] for i in indices]), targets


def _evaluate(model: torch.nn.Module, data: _Batches, batch_size: int) -> dict[str, float]:
    errors = ErrorAccumulator()
    for start in range(0, len(data), batch_size):
        graph, targets = data.batch(range(start, min(start + batch_size, len(data))))
        errors.add(model(*graph.model_inputs()), targets, graph)
    return errors.result()


def _train_epoch(model, optimizer, ema, data: _Batches, config: TrainConfig, epoch: int) -> float:
    settings = config.training
    order = np.random.default_rng([settings.seed, epoch]).permutation(len(data))
    model.train()
    total = 0.0
    for start in range(0, len(order), settings.batch_size):
        graph, targets = data.batch(order[start:start + settings.batch_size])
        terms = loss_terms(model(*graph.model_inputs()), targets, graph)
        loss = (settings.energy_weight * terms["energy"] + settings.forces_weight * terms["forces"]
                + settings.stress_weight * terms["stress"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip_grad_norm)
        optimizer.step()
        ema.update(model)
        total += float(loss.detach())
    return total / max(1, -(-len(order) // settings.batch_size))


# What a training run writes into its output directory.
RUN_FILES = ("last.pt", "best.pt", "deployed.pt", "log.csv", "metrics.json",
             "parity_test.png", "parity_valid.png")


def _claim_output(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to write over an earlier run unless told to resume or overwrite it."""
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    existing = [name for name in RUN_FILES if (out / name).exists()]
    if not existing or resume:
        return
    if not overwrite:
        raise FileExistsError(
            f"{out} already holds a training run ({', '.join(existing)}); continue it with "
            f"`equiforce train CONFIG --resume`, replace it with `--overwrite`, or set "
            f"another `output`")
    log.warning("overwriting the training run in %s (%s)", out, ", ".join(existing))
    for name in existing:
        (out / name).unlink()


def train(config: TrainConfig, resume: bool = False, progress: bool = True,
          overwrite: bool = False) -> TrainResult:
    """Train, checkpoint every epoch (``last.pt``) and on best validation (``best.pt``),
    then report test errors, draw parity plots and export ``deployed.pt`` (TorchScript).

    With ``resume`` the run continues from ``OUTPUT/last.pt`` exactly as if it had not
    been interrupted (same seed, data order, optimizer, schedule and EMA state).

    Raises:
        FileExistsError: ``OUTPUT`` already holds a training run and neither ``resume``
            nor ``overwrite`` was given (nothing in it is touched). ``overwrite`` deletes
            that run's files (those in ``RUN_FILES``) first.
    """
    started = time.perf_counter()
    out = Path(config.output)
    _claim_output(out, resume, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    settings = config.training
    dtype = getattr(torch, settings.dtype)
    frames = read_frames(config.data.path, config.data.keys, config.model.species)
    train_idx, valid_idx, test_idx = split_indices(len(frames), config.data.split, settings.seed)
    if len(train_idx) == 0 or len(valid_idx) == 0:
        raise ValueError(f"{config.data.path}: {len(frames)} frames leave no training or "
                         f"validation frames with split {config.data.split}")
    train_frames = [frames[i] for i in train_idx]
    model_config = fitted_model_config(config.model, train_frames)
    torch.manual_seed(settings.seed)
    model = EquivariantPotential(model_config, dtype=dtype)
    ema = ParameterEMA(model, settings.ema_decay)
    averaged = EquivariantPotential(model_config, dtype=dtype)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr,
                                  weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=settings.epochs, eta_min=settings.lr * settings.final_lr_fraction)
    state = {"epoch": 0, "best_valid": float("inf"), "history": []}
    if resume:
        state = _restore(out / "last.pt", model, ema, optimizer, scheduler, config)
    train_data = _Batches(train_frames, model_config, dtype)
    valid_data = _Batches([frames[i] for i in valid_idx], model_config, dtype)
    log.info("training on %d frames, validating on %d, testing on %d", len(train_idx),
             len(valid_idx), len(test_idx))
    epochs = tqdm(range(state["epoch"] + 1, settings.epochs + 1), desc="train", unit="epoch",
                  disable=not progress, initial=state["epoch"], total=settings.epochs)
    for epoch in epochs:
        lr = optimizer.param_groups[0]["lr"]
        train_loss = _train_epoch(model, optimizer, ema, train_data, config, epoch)
        scheduler.step()
        ema_model = ema.averaged_into(model, averaged).eval()
        valid = _evaluate(ema_model, valid_data, settings.batch_size)
        row = {"epoch": epoch, "lr": lr, "train_loss": train_loss,
               **{f"valid_{k}": v for k, v in valid.items()}}
        state["history"].append(row)
        score = valid["energy_rmse"] + valid["forces_rmse"]
        if score < state["best_valid"]:
            state["best_valid"] = score
            save_checkpoint(out / "best.pt", ema_model, epoch=epoch, valid_metrics=valid)
        state["epoch"] = epoch
        _save_last(out / "last.pt", model, ema, optimizer, scheduler, state, config)
        _write_csv(out / "log.csv", state["history"])
        epochs.set_postfix(loss=f"{train_loss:.3g}", F_rmse=f"{valid['forces_rmse']:.1f}meV/A")
    return _finish(config, out, frames, (train_idx, valid_idx, test_idx), model_config, dtype,
                   state, time.perf_counter() - started)


def _finish(config, out, frames, splits, model_config, dtype, state, seconds) -> TrainResult:
    from ..checkpoint import load_checkpoint

    best, payload = load_checkpoint(out / "best.pt")
    best.eval()
    test_frames = [frames[i] for i in splits[2]]
    if test_frames:
        test_data = _Batches(test_frames, model_config, dtype)
        test = _evaluate(best, test_data, config.training.batch_size)
        parity_plot(best, test_data, out / "parity_test.png")
    else:
        log.warning("no test split (split %s): only validation errors are reported, and "
                    "they are labelled as such", list(config.data.split))
        test = {}
        parity_plot(best, _Batches([frames[i] for i in splits[1]], model_config, dtype),
                    out / "parity_valid.png")
    provenance = {"data_path": str(config.data.path), "data_sha256": data_hash(frames),
                  "num_frames": {"train": len(splits[0]), "valid": len(splits[1]),
                                 "test": len(splits[2])},
                  "test_metrics": test or None, "valid_metrics": payload["valid_metrics"],
                  "best_epoch": payload["epoch"], "epochs": state["epoch"],
                  "train_config": config.to_dict(), "training_seconds": seconds,
                  "closest_pairs_A": closest_pairs((frames[i].atoms for i in splits[0]),
                                                   model_config.cutoff)}
    deployed = export(best, out / "deployed.pt", provenance=provenance)
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(strict_json({"test": test or None, "valid": payload["valid_metrics"],
                                    "best_epoch": payload["epoch"]}))
    return TrainResult(out, deployed, test, payload["valid_metrics"], state["epoch"], seconds,
                       state["history"])


def _save_last(path, model, ema, optimizer, scheduler, state, config) -> None:
    save_checkpoint(path, model, ema_state=ema.state_dict(), optimizer=optimizer.state_dict(),
                    scheduler=scheduler.state_dict(), train_state=state,
                    train_config=config.to_dict())


def _restore(path: Path, model, ema, optimizer, scheduler, config: TrainConfig) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    _refuse_changed_settings(path, payload.get("train_config") or {}, config.to_dict())
    model.load_state_dict(payload["model_state"])
    ema.load_state_dict(payload["ema_state"])
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    log.info("resuming after epoch %d from %s", payload["train_state"]["epoch"], path)
    return payload["train_state"]


# settings a resume may change: more epochs extend the run; the output is where it is
_RESUMABLE = ("training.epochs", "output")


def _refuse_changed_settings(path: Path, saved: dict[str, Any], now: dict[str, Any]) -> None:
    """A resume continues the same run exactly: every setting but the epoch count must be
    what the checkpoint was trained with (raise ValueError listing what changed)."""
    changes = [f"{key}: {old!r} in the checkpoint, {new!r} now"
               for key, old, new in _differences(saved, now) if key not in _RESUMABLE]
    if changes:
        raise ValueError(f"{path} was trained with other settings than the config now gives; "
                         f"a resume cannot change {'; '.join(changes)}. Restore them, or "
                         "start afresh with --overwrite (or another output)")


def _differences(old: Any, new: Any, prefix: str = ""):
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old):  # settings added to equiforce since the checkpoint: defaults
            yield from _differences(old[key], new.get(key), f"{prefix}{key}.")
    elif old != new:
        yield prefix.rstrip("."), old, new


def _write_csv(path: Path, history: list[dict[str, float]]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(history)
