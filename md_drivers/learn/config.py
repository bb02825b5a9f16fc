"""``equiforce learn``'s configuration: one validated dataclass per stage, read from YAML."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from potentials.train import TrainConfig

from .explore import ExploreRun
from .label import LabelSettings
from .select import SelectSettings

__all__ = ["CommitteeSettings", "LearnConfig"]


@dataclass(frozen=True)
class CommitteeSettings:
    """The committee: one member per seed, all trained from one training config.

    Attributes:
        train_config: an ``equiforce train`` YAML file. Its ``data.path`` is the starting
            data set; its model, optimiser settings and ``epochs`` make round 0's members
            (trained from scratch; ``output`` and ``data.test_path`` are set by the loop).
        seeds: one member per seed (``training.seed``: initial weights, split, batch
            order). Two or more.
        retrain_epochs: epochs of each later round's warm-started retraining.
        retrain_lr: learning rate of the retraining (None: the config's).
        retrain_max_time: seconds per member and round (None: no limit).
    """

    train_config: str
    seeds: tuple[int, ...] = (0, 1, 2)
    retrain_epochs: int = 20
    retrain_lr: Optional[float] = None
    retrain_max_time: Optional[float] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        if len(set(self.seeds)) < 2:
            raise ValueError(f"committee.seeds: a committee needs two or more different "
                             f"seeds, got {list(self.seeds)}")
        if not isinstance(self.retrain_epochs, int) or self.retrain_epochs < 1:
            raise ValueError(f"committee.retrain_epochs must be an integer >= 1, got "
                             f"{self.retrain_epochs!r}")
        for name in ("retrain_lr", "retrain_max_time"):
            value = getattr(self, name)
            if value is not None and not 0 < value < math.inf:
                raise ValueError(f"committee.{name} must be positive or null, got {value}")

    def base(self) -> TrainConfig:
        return TrainConfig.from_yaml(self.train_config)


@dataclass(frozen=True)
class LearnConfig:
    """An active-learning run.

    Attributes:
        workdir: where every round's runs, data, members and reports go.
        rounds: explore-select-label-retrain rounds after round 0 (the first committee).
        committee: how members are trained (:class:`CommitteeSettings`).
        explore: exploration runs (:class:`ExploreRun`), all run in every round.
        select: which frames are labelled (:class:`SelectSettings`).
        label: the reference calculator (:class:`LabelSettings`).
        test_path: the user's held-out labelled frames (extxyz), scored every round.
        seed: seeds the exploration MD (each round and run gets its own).
        device: where the committee runs during exploration and scoring.
    """

    workdir: str
    committee: CommitteeSettings
    explore: tuple[ExploreRun, ...]
    test_path: str
    rounds: int = 3
    select: SelectSettings = field(default_factory=SelectSettings)
    label: LabelSettings = field(default_factory=LabelSettings)
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not isinstance(self.rounds, int) or self.rounds < 0:
            raise ValueError(f"rounds must be an integer >= 0, got {self.rounds!r}")
        if not self.explore:
            raise ValueError("explore: give at least one exploration run")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "LearnConfig":
        _only(raw, {f.name for f in dataclasses.fields(cls)}, "top level")
        for key in ("workdir", "committee", "explore", "test_path"):
            if key not in raw:
                raise ValueError(f"missing setting {key!r}")
        explore = raw["explore"]
        if not isinstance(explore, list):
            raise ValueError("explore must be a list of runs")
        return cls(
            workdir=str(raw["workdir"]),
            committee=_section(CommitteeSettings, raw["committee"], "committee"),
            explore=tuple(_section(ExploreRun, run, f"explore[{k}]")
                          for k, run in enumerate(explore)),
            test_path=str(raw["test_path"]), rounds=raw.get("rounds", 3),
            select=_section(SelectSettings, raw.get("select") or {}, "select"),
            label=_section(LabelSettings, raw.get("label") or {}, "label"),
            seed=int(raw.get("seed", 0)), device=str(raw.get("device", "cpu")))

    @classmethod
    def from_yaml(cls, path: str | Path) -> "LearnConfig":
        """Read a YAML file (relative paths in it are relative to the working directory)."""
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            raise ValueError(f"{path}: not valid YAML ({error})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping of learn settings")
        try:
            return cls.from_dict(raw)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _section(kind, raw: Any, where: str):
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be a mapping of settings, got {raw!r}")
    _only(raw, {f.name for f in dataclasses.fields(kind)}, where)
    try:
        return kind(**raw)
    except TypeError as error:
        raise ValueError(f"{where}: {error}") from None


def _only(mapping: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise ValueError(f"unknown key(s) in {where}: {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(allowed))}")
