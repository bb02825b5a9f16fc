"""The training loop: AdamW, cosine decay, clipping, EMA, checkpoints, exact resume."""
from __future__ import annotations

import csv
import logging
import time
from dataclasses import dataclass, field
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
from ..model import EquivariantPotential
from ._batches import Batches, evaluate
from ._ema import ParameterEMA
from ._energy_refit import energy_refit, with_energy_shifts
from ._schedule import Budget, cosine_lr, energy_weight
from .config import TrainConfig
from .data import (Frame, average_num_neighbors, data_hash, fit_reference_energies, force_rms,
                   read_frames, split_indices)
from .metrics import loss_terms
from .reference import ReferenceEnergies, is_isolated_atom, reference_energies
from ._warm_start import warm_start_model as _warm_start
from .report import parity_plot

__all__ = ["TrainResult", "train", "fitted_model_config"]

log = logging.getLogger(__name__)
CSV_FIELDS = ("epoch", "lr", "train_loss", "valid_energy_mae", "valid_energy_rmse",
              "valid_forces_mae", "valid_forces_rmse", "valid_stress_mae", "valid_stress_rmse")


@dataclass
class TrainResult:
    """What a finished training run produced (metrics in meV/atom, meV/A, meV/A^3).

    ``test_metrics`` is empty when the split has no test frames; ``valid_metrics`` are
    the best epoch's errors on the validation frames. The ``*_by_kind`` metrics split them
    by configuration kind (empty when the data names no kinds)."""

    output: Path
    deployed_path: Path
    test_metrics: dict[str, float]
    valid_metrics: dict[str, float]
    epochs: int
    wall_seconds: float
    history: list[dict[str, float]]
    test_metrics_by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    valid_metrics_by_kind: dict[str, dict[str, float]] = field(default_factory=dict)


def fitted_model_config(config: PotentialConfig, frames: Sequence[Frame],
                        reference: Optional[ReferenceEnergies] = None) -> PotentialConfig:
    """``config`` with reference energies, neighbour count and energy scale from ``frames``.

    ``reference`` gives the per-species energies; without it they are fitted to ``frames``
    by least squares."""
    shifts = (reference.energies if reference is not None
              else fit_reference_energies(frames, config.species))
    return config.replace(atomic_energy_shifts=tuple(float(s) for s in shifts),
                          avg_num_neighbors=average_num_neighbors(frames, config.cutoff),
                          energy_scale=max(force_rms(frames), 1e-3))


def _train_epoch(model, optimizer, ema, data: Batches, config: TrainConfig, epoch: int,
                 budget: Budget) -> float:
    """One pass over the data (cut short when the time budget ends); the mean batch loss."""
    settings = config.training
    order = np.random.default_rng([settings.seed, epoch]).permutation(len(data))
    model.train()
    total, batches = 0.0, 0
    for start in range(0, len(order), settings.batch_size):
        if settings.max_time is not None:
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(budget.progress(), settings.lr,
                                        settings.lr * settings.final_lr_fraction)
        graph, targets = data.batch(order[start:start + settings.batch_size])
        terms = loss_terms(model(*graph.model_inputs()), targets, graph)
        loss = (energy_weight(settings, budget.progress()) * terms["energy"]
                + settings.forces_weight * terms["forces"]
                + settings.stress_weight * terms["stress"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.clip_grad_norm)
        optimizer.step()
        ema.update(model)
        total += float(loss.detach())
        batches += 1
        budget.batches_done += 1
        if budget.out_of_time():
            break
    return total / max(1, batches)


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
    all_frames = read_frames(config.data.path, config.data.keys, config.model.species)
    # isolated atoms give reference energies; they carry nothing else to learn or test
    frames = [f for f in all_frames if not is_isolated_atom(f.atoms, config.model.cutoff)]
    train_idx, valid_idx, test_idx = split_indices(len(frames), config.data.split, settings.seed)
    if len(train_idx) == 0 or len(valid_idx) == 0:
        raise ValueError(f"{config.data.path}: {len(frames)} frames leave no training or "
                         f"validation frames with split {config.data.split}")
    train_frames = [frames[i] for i in train_idx]
    start = _warm_start(config) if config.init_from else None
    if start is not None:
        model_config = start.config
        reference = ReferenceEnergies(np.array(model_config.atomic_energy_shifts),
                                      f"from {config.init_from}")
    else:
        reference = reference_energies(all_frames, config.model.species, config.model.cutoff,
                                       config.data.reference_energies, fit_frames=train_frames)
        model_config = fitted_model_config(config.model, train_frames, reference)
    log.info("reference energies (%s): %s", reference.method, _by_symbol(
        config.model.symbols, reference.energies))
    torch.manual_seed(settings.seed)
    model = EquivariantPotential(model_config, dtype=dtype)
    if start is not None:
        model.load_state_dict(start.to(dtype).state_dict())
    ema = ParameterEMA(model, settings.ema_decay)
    averaged = EquivariantPotential(model_config, dtype=dtype)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr,
                                  weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=settings.epochs, eta_min=settings.lr * settings.final_lr_fraction)
    state = {"epoch": 0, "best_valid": float("inf"), "history": [], "loop_seconds": 0.0}
    if resume:
        state = _restore(out / "last.pt", model, ema, optimizer, scheduler, config)
    train_data = Batches(train_frames, model_config, dtype)
    valid_data = Batches([frames[i] for i in valid_idx], model_config, dtype)
    log.info("training on %d frames, validating on %d, testing on %d", len(train_idx),
             len(valid_idx), len(test_idx))
    batches_per_epoch = -(-len(train_data) // settings.batch_size)
    budget = Budget(settings.epochs, batches_per_epoch, settings.max_time,
                    spent_before=state.get("loop_seconds", 0.0))
    budget.batches_done = state["epoch"] * batches_per_epoch
    epochs = tqdm(range(state["epoch"] + 1, settings.epochs + 1), desc="train", unit="epoch",
                  disable=not progress, initial=state["epoch"], total=settings.epochs)
    for epoch in epochs:
        if budget.out_of_time():
            log.info("time budget of %.0f s used up after %d epochs", settings.max_time,
                     state["epoch"])
            break
        lr = optimizer.param_groups[0]["lr"]
        train_loss = _train_epoch(model, optimizer, ema, train_data, config, epoch, budget)
        if settings.max_time is None:
            scheduler.step()
        ema_model = ema.averaged_into(model, averaged).eval()
        valid, _ = evaluate(ema_model, valid_data, settings.batch_size)
        row = {"epoch": epoch, "lr": lr, "train_loss": train_loss,
               **{f"valid_{k}": v for k, v in valid.items()}}
        state["history"].append(row)
        score = valid["energy_rmse"] + valid["forces_rmse"]
        if score < state["best_valid"]:
            state["best_valid"] = score
            save_checkpoint(out / "best.pt", ema_model, epoch=epoch, valid_metrics=valid)
        state["epoch"] = epoch
        state["loop_seconds"] = budget.seconds()
        _save_last(out / "last.pt", model, ema, optimizer, scheduler, state, config)
        _write_csv(out / "log.csv", state["history"])
        epochs.set_postfix(loss=f"{train_loss:.3g}", F_rmse=f"{valid['forces_rmse']:.1f}meV/A")
    return _finish(config, out, (all_frames, frames), (train_idx, valid_idx, test_idx),
                   model_config, reference, (train_data, valid_data), state,
                   time.perf_counter() - started)


def _refit_best(path: Path, data: tuple[Batches, Batches], batch_size: int):
    """Add the closing energy refit (``_energy_refit``) to the best checkpoint, once: a
    resumed run whose ``best.pt`` already has it keeps it. Returns the model and payload."""
    from ..checkpoint import load_checkpoint

    best, payload = load_checkpoint(path)
    best.eval()
    if "energy_refit_eV" in payload:
        return best, payload
    species = best.config.species
    correction = energy_refit(best, data[0], species, batch_size)
    best = with_energy_shifts(best, np.array(best.config.atomic_energy_shifts) + correction)
    best.eval()
    log.info("closing energy refit on the training frames: %s meV/atom added to the "
             "reference energies", ", ".join(f"{s} {1e3 * c:+.2f}" for s, c in zip(
                 best.config.symbols, correction)))
    valid, _ = evaluate(best, data[1], batch_size)
    payload = {**payload, "valid_metrics": valid,
               "energy_refit_eV": _by_symbol(best.config.symbols, correction)}
    save_checkpoint(path, best, epoch=payload["epoch"], valid_metrics=valid,
                    energy_refit_eV=payload["energy_refit_eV"])
    return best, payload


def _finish(config, out, frames, splits, model_config, reference, data: tuple[Batches, Batches],
            state, seconds) -> TrainResult:
    from ..checkpoint import load_checkpoint

    all_frames, frames = frames
    size = config.training.batch_size
    valid_data = data[1]
    if config.training.energy_refit:
        best, payload = _refit_best(out / "best.pt", data, size)
    else:
        best, payload = load_checkpoint(out / "best.pt")
        best.eval()
    _, valid_by_kind = evaluate(best, valid_data, size)
    test_frames = [frames[i] for i in splits[2]]
    if config.data.test_path is not None:
        test_frames = [f for f in read_frames(config.data.test_path, config.data.keys,
                                              config.model.species)
                       if not is_isolated_atom(f.atoms, config.model.cutoff)]
    if test_frames:
        test_data = Batches(test_frames, model_config, valid_data.dtype)
        test, test_by_kind = evaluate(best, test_data, size)
        parity_plot(best, test_data, out / "parity_test.png")
    else:
        log.warning("no test split (split %s): only validation errors are reported, and "
                    "they are labelled as such", list(config.data.split))
        test, test_by_kind = {}, {}
        parity_plot(best, valid_data, out / "parity_valid.png")
    _log_by_kind("test" if test else "validation", test_by_kind if test else valid_by_kind)
    provenance = {"data_path": str(config.data.path), "data_sha256": data_hash(all_frames),
                  "num_frames": {"train": len(splits[0]), "valid": len(splits[1]),
                                 "test": len(test_frames)},
                  "test_metrics": test or None, "valid_metrics": payload["valid_metrics"],
                  "test_metrics_by_kind": test_by_kind or None,
                  "valid_metrics_by_kind": valid_by_kind or None,
                  "reference_energies": {"method": reference.method, "eV": _by_symbol(
                      model_config.symbols, reference.energies),
                      "refit_eV": payload.get("energy_refit_eV")},
                  "best_epoch": payload["epoch"], "epochs": state["epoch"],
                  "train_config": config.to_dict(), "training_seconds": seconds,
                  "closest_pairs_A": closest_pairs((frames[i].atoms for i in splits[0]),
                                                   model_config.cutoff)}
    deployed = export(best, out / "deployed.pt", provenance=provenance)
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(strict_json({"test": test or None, "valid": payload["valid_metrics"],
                                    "test_by_kind": test_by_kind or None,
                                    "valid_by_kind": valid_by_kind or None,
                                    "best_epoch": payload["epoch"]}))
    return TrainResult(out, deployed, test, payload["valid_metrics"], state["epoch"], seconds,
                       state["history"], test_by_kind, valid_by_kind)


def _by_symbol(symbols: Sequence[str], energies) -> dict[str, float]:
    return {symbol: float(e) for symbol, e in zip(symbols, energies)}


def _log_by_kind(split: str, by_kind: dict[str, dict[str, float]]) -> None:
    """One line per configuration kind: energy MAE and mean signed error, force MAE."""
    for kind, m in by_kind.items():
        log.info("%s %s: energy MAE %.2f meV/atom (mean signed %+.2f), forces MAE %.1f meV/A%s",
                 split, kind, m["energy_mae"], m["energy_me"], m["forces_mae"],
                 f", stress MAE {m['stress_mae']:.2f} meV/A^3" if "stress_mae" in m else "")


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


# settings a resume may change: more epochs or time extend the run; the output is where it is
_RESUMABLE = ("training.epochs", "training.max_time", "output")


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
