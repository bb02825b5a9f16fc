"""Typed, validated training configuration (YAML file or Python)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config import PotentialConfig
from ._config_checks import check_types, key_lines, line_of_error
from .data import LabelKeys
from .reference import REFERENCE_METHODS

__all__ = ["DataSettings", "OptimSettings", "TrainConfig"]


@dataclass(frozen=True)
class DataSettings:
    """Training data: an extxyz file or ASE database, label keys, split fractions, and
    where the per-species reference energies come from (``"auto"``: the data's
    isolated-atom frames when every species has one, else a least-squares fit; or
    ``"isolated"`` / ``"fit"`` to insist; see :mod:`potentials.train.reference`).

    ``test_path``: a second file whose frames are the test set (held-out frames made
    apart from the training data, e.g. with other seeds); the split's test fraction must
    then be 0."""

    path: str
    keys: LabelKeys = LabelKeys()
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    reference_energies: str = "auto"
    test_path: str | None = None

    def __post_init__(self) -> None:
        if self.test_path is not None and self.split[2] != 0:
            raise ValueError(f"data.test_path gives the test frames, so the split's test "
                             f"fraction must be 0, got split {list(self.split)}")
        if self.reference_energies not in REFERENCE_METHODS:
            raise ValueError(f"data.reference_energies must be one of "
                             f"{', '.join(REFERENCE_METHODS)}, got {self.reference_energies!r}")


@dataclass(frozen=True)
class OptimSettings:
    """Optimisation: loss weights, AdamW, cosine learning-rate decay, clipping, EMA.

    ``max_time`` (seconds of wall clock in the training loop, ``None`` for no limit) ends
    the run when it is used up, after the batch in progress; the learning rate then
    decays over the time budget (per batch) instead of over ``epochs``, and ``epochs``
    remains an upper limit. A resumed run continues with the time left.

    ``stage_two_fraction``: the last fraction of the budget (epochs or time) trains with
    the energy weight ``stage_two_energy_weight`` instead of ``energy_weight`` (MACE's
    "stage two"): forces are learnt first, then the energies are pinned; 0 switches it
    off. The defaults (forces 100 x energy, lr 0.01, a stage two of the last 20% at
    energy weight 300) are the measured recipe of docs/training.md#the-default-recipe.

    ``energy_refit``: after training, add to each species' reference energy (eV) the
    least-squares constant that removes the best model's mean per-atom energy error on
    the training frames (``_energy_refit``); forces and stress do not change, the
    correction is stored in ``best.pt`` and the provenance (``refit_eV``).
    """

    epochs: int = 50
    batch_size: int = 4
    lr: float = 1e-2
    final_lr_fraction: float = 0.05
    weight_decay: float = 0.0
    energy_weight: float = 1.0     # on energy per atom, (eV/atom)^2
    forces_weight: float = 100.0   # on force components, (eV/A)^2
    stress_weight: float = 1.0     # on stress components, (eV/A^3)^2
    clip_grad_norm: float = 10.0
    ema_decay: float = 0.99
    seed: int = 0
    dtype: str = "float64"
    max_time: float | None = None
    stage_two_fraction: float = 0.2
    stage_two_energy_weight: float = 300.0
    energy_refit: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.stage_two_fraction < 1 or self.stage_two_energy_weight < 0:
            raise ValueError("training.stage_two_fraction must be in [0, 1) and "
                             "stage_two_energy_weight >= 0")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"training.max_time must be a positive number of seconds, got "
                             f"{self.max_time!r}")
        for name in ("epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"training.{name} must be an integer >= 1")
        for name in ("lr", "clip_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"training.{name} must be positive")
        for name in ("energy_weight", "forces_weight", "stress_weight", "weight_decay"):
            if getattr(self, name) < 0:
                raise ValueError(f"training.{name} must be >= 0")
        if not 0 <= self.ema_decay < 1 or not 0 < self.final_lr_fraction <= 1:
            raise ValueError("training.ema_decay must be in [0, 1) and final_lr_fraction in (0, 1]")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"training.dtype must be float32 or float64, got {self.dtype!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything ``equiforce train`` needs: data, model hyper-parameters, optimisation,
    and the output folder. ``model`` fields set from data (``avg_num_neighbors``,
    ``atomic_energy_shifts``, ``energy_scale``) are overwritten by training.

    ``init_from``: a checkpoint (``best.pt`` or ``last.pt`` of an earlier run) whose
    weights start the training (a warm start, e.g. a committee member retrained on a
    grown data set). Its architecture must be ``model``'s; its data-set statistics and
    reference energies are kept (so the weights keep their meaning), and the optimizer,
    schedule and EMA start afresh from its weights."""

    data: DataSettings
    model: PotentialConfig
    training: OptimSettings = field(default_factory=OptimSettings)
    output: str = "runs/train"
    init_from: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "TrainConfig":
        _only(raw, {"data", "model", "training", "output", "init_from"}, "top level")
        for section in ("data", "model"):
            if not isinstance(raw.get(section), dict):
                raise ValueError(f"{section} must be a mapping of settings, got "
                                 f"{raw.get(section)!r}")
        data = dict(raw["data"])
        _only(data, {f.name for f in dataclasses.fields(DataSettings)}, "data")
        check_types("data", DataSettings, data)
        keys = data.pop("keys", {}) or {}
        _only(keys, {f.name for f in dataclasses.fields(LabelKeys)}, "data.keys")
        path = data.pop("path")
        split = tuple(data.pop("split", (0.8, 0.1, 0.1)))
        reference = data.pop("reference_energies", "auto")
        test_path = data.pop("test_path", None)
        training = dict(raw.get("training", {}) or {})
        _only(training, {f.name for f in dataclasses.fields(OptimSettings)}, "training")
        check_types("training", OptimSettings, training)
        check_types("model", PotentialConfig, raw["model"])
        try:
            model = PotentialConfig.from_dict(raw["model"])
        except ValueError as error:
            raise ValueError(f"model.{str(error).removeprefix('PotentialConfig: ')}") from None
        return cls(data=DataSettings(str(path), LabelKeys(**keys), split, reference,
                                     None if test_path is None else str(test_path)),
                   model=model,
                   training=OptimSettings(**training),
                   output=str(raw.get("output", "runs/train")),
                   init_from=None if raw.get("init_from") is None else str(raw["init_from"]))

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        """Read a YAML file; relative paths in it are relative to the working directory."""
        path = Path(path)
        text = path.read_text()
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(error, "problem", None) or str(error)
            raise ValueError(f"{path}: not valid YAML: {where}{problem}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping with data, model, training, output")
        try:
            return cls.from_dict(raw)
        except (ValueError, TypeError, KeyError) as error:
            message = f"missing key {error}" if isinstance(error, KeyError) else str(error)
            line = line_of_error(message, key_lines(text))
            raise ValueError(f"{path}{f', line {line}' if line else ''}: {message}") from None

    def to_dict(self) -> dict[str, Any]:
        return {"data": {"path": str(self.data.path), "keys": dataclasses.asdict(self.data.keys),
                         "split": list(self.data.split),
                         "reference_energies": self.data.reference_energies,
                         "test_path": self.data.test_path},
                "model": self.model.to_dict(), "training": dataclasses.asdict(self.training),
                "output": self.output, "init_from": self.init_from}


def _only(mapping: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise ValueError(f"unknown key(s) in {where}: {', '.join(unknown)}; "
                         f"allowed: {', '.join(sorted(allowed))}")
