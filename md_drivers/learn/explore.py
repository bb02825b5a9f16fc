"""Exploration: committee MD from start structures under a list of conditions, and the
committee's verdict (mean forces, per-atom spread) on every frame it visited."""
from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import ase.io
import numpy as np
from ase import Atoms

from potentials.files import atomic_path

from ..committee import CommitteeCalculator
from ..runner import MDConfig, load_structure, resume_md, run_md
from ..runner.watchdog import WatchdogTripped
from ._files import scalar_info

__all__ = ["ExploreRun", "explore", "score_frames"]

log = logging.getLogger(__name__)
TRIPPED = "tripped.json"


@dataclass(frozen=True)
class ExploreRun:
    """MD runs from one start structure: one run per temperature x pressure x strain.

    Attributes:
        structure: a structure file or built-in (as ``equiforce md`` reads).
        temperatures_K: K. pressures_bar: bar (used by NPT ensembles).
        strains: isotropic linear strains applied to the cell (and atoms) before the run,
            e.g. ``0.02`` stretches every cell vector by 2%.
        config_type: the kind recorded on the frames this run contributes (the key of the
            per-kind error reports); default the structure's file stem.
        md: settings of :class:`md_drivers.runner.MDConfig` (``engine``, ``ensemble``,
            ``steps``, ``timestep_fs``, ``output_interval``, ``friction_per_ps``, ...).
            With ``engine: openmm`` the first committee member drives the MD and the
            committee scores the frames afterwards; with ``ase`` the committee's mean does.
    """

    structure: str
    temperatures_K: tuple[float, ...] = (300.0,)
    pressures_bar: tuple[float, ...] = (1.0,)
    strains: tuple[float, ...] = (0.0,)
    config_type: Optional[str] = None
    md: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("temperatures_K", "pressures_bar", "strains"):
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
            if not getattr(self, name):
                raise ValueError(f"explore run {self.structure}: {name} is empty")
        if any(not -0.5 < s < 0.5 for s in self.strains):
            raise ValueError(f"explore run {self.structure}: strains must be in (-0.5, 0.5)")
        forbidden = {"structure", "potential", "temperature_K", "pressure_bar", "seed",
                     "committee_threshold"} & set(self.md)
        if forbidden:
            raise ValueError(f"explore run {self.structure}: md may not set "
                             f"{', '.join(sorted(forbidden))} (the loop sets them)")
        self.md_config(("member.pt",), 300.0, 1.0, 0)   # validates the settings now

    @property
    def kind(self) -> str:
        return self.config_type or Path(self.structure).stem.split(":")[0]

    def conditions(self) -> list[tuple[float, float, float]]:
        return list(itertools.product(self.temperatures_K, self.pressures_bar, self.strains))

    def md_config(self, potentials: Sequence[str], temperature: float, pressure: float,
                  seed: int) -> MDConfig:
        settings = {"output_interval": 10, **self.md}
        settings.setdefault("checkpoint_interval", settings["output_interval"] * 10)
        engine = settings.get("engine", "ase")
        return MDConfig.from_dict({**settings, "structure": self.structure,
                                   "potential": list(potentials if engine == "ase"
                                                     else potentials[:1]),
                                   "temperature_K": temperature, "pressure_bar": pressure,
                                   "seed": seed})


def run_name(run: ExploreRun, index: int, condition: tuple[float, float, float]) -> str:
    temperature, pressure, strain = condition
    return f"{index:02d}-{run.kind}-T{temperature:g}-p{pressure:g}-s{strain:g}"


def explore(runs: Sequence[ExploreRun], potentials: Sequence[str], root: Path,
            seed: int, progress: bool = True) -> list[Atoms]:
    """Run (or finish, after an interruption) every exploration run under ``root`` and
    return the frames they visited, each with ``info["explore_run"]`` and
    ``info["config_type"]``. A run stopped by the watchdog contributes the frames before
    the trip (it went somewhere the committee does not know: worth labelling), not the
    offending frame itself (often unphysical), and is not run again."""
    frames: list[Atoms] = []
    count = 0
    for index, run in enumerate(runs):
        for condition in run.conditions():
            name = run_name(run, index, condition)
            run_dir = root / name
            config = run.md_config(potentials, condition[0], condition[1], seed + count)
            count += 1
            _run(config, run_dir, run, condition[2], progress)
            trajectory = run_dir / "trajectory.extxyz"   # absent after a trip at step 0
            visited = ase.io.read(trajectory, index=":") if trajectory.is_file() else []
            for atoms in visited:
                atoms.info.update(explore_run=name, config_type=run.kind)
            frames += visited
            log.info("explore %s: %d frames", name, len(visited))
    return frames


def _run(config: MDConfig, run_dir: Path, run: ExploreRun, strain: float,
         progress: bool) -> None:
    if (run_dir / "summary.json").is_file() or (run_dir / TRIPPED).is_file():
        return
    try:
        if (run_dir / "config.json").is_file():
            resume_md(run_dir, progress=progress)
        else:
            atoms = load_structure(run.structure)
            atoms.set_cell(atoms.cell.array * (1.0 + strain), scale_atoms=True)
            run_md(config, run_dir, atoms=atoms, progress=progress)
    except WatchdogTripped as trip:
        log.warning("explore run %s stopped by the watchdog (%s); its frames up to then are "
                    "candidates", run_dir.name, trip)
        with atomic_path(run_dir / TRIPPED) as tmp:
            tmp.write_text(json.dumps({"rule": trip.rule, "step": trip.step,
                                       "message": str(trip)}))


def score_frames(frames: Sequence[Atoms], potentials: Sequence[str], device: str = "cpu"
                 ) -> list[Atoms]:
    """Copies of ``frames`` with the committee's mean forces (``arrays["committee_forces"]``,
    eV/A), per-atom spread (``arrays["forces_std"]``, eV/A) and its maximum and mean over
    atoms (``info["max_forces_std"]``, ``info["mean_forces_std"]``)."""
    committee = CommitteeCalculator(list(potentials), device=device)
    scored = []
    for atoms in frames:
        frame = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        frame.info.update(scalar_info(atoms))
        committee.calculate(frame, ["energy", "forces"])
        spread = np.asarray(committee.results["forces_std"], dtype=float)
        frame.arrays["committee_forces"] = np.asarray(committee.results["forces"], dtype=float)
        frame.arrays["forces_std"] = spread
        frame.info["max_forces_std"] = float(spread.max())
        frame.info["mean_forces_std"] = float(spread.mean())
        frame.info["committee_energy"] = float(committee.results["energy"])
        scored.append(frame)
    return scored
