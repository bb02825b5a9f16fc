"""How good a committee is: errors of its mean on labelled frames, and how well its spread
predicts its true error (calibration)."""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

import numpy as np
from ase import Atoms
from scipy.stats import spearmanr

from ..committee import CommitteeCalculator

__all__ = ["committee_errors", "calibration"]


def committee_errors(potentials: Sequence[str], frames: Sequence[Atoms], device: str = "cpu"
                     ) -> dict:
    """Errors of the committee mean on labelled ``frames``: ``energy_mae`` (meV/atom),
    ``forces_mae`` / ``forces_rmse`` (meV/A) overall and per ``info["config_type"]``
    (``by_kind``), and ``frames``."""
    committee = CommitteeCalculator(list(potentials), device=device)
    rows = []
    for atoms in frames:
        reference_energy = atoms.get_potential_energy()
        reference_forces = atoms.get_forces()
        probe = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        committee.calculate(probe, ["energy", "forces"])
        rows.append((str(atoms.info.get("config_type", "unlabelled")),
                     abs(committee.results["energy"] - reference_energy) / len(atoms),
                     np.abs(committee.results["forces"] - reference_forces).ravel()))
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row[0]].append(row)
    return {**_errors(rows), "by_kind": {kind: _errors(group) for kind, group in
                                         sorted(by_kind.items())}}


def _errors(rows) -> dict:
    forces = np.concatenate([row[2] for row in rows])
    return {"frames": len(rows), "energy_mae": 1e3 * float(np.mean([row[1] for row in rows])),
            "forces_mae": 1e3 * float(forces.mean()),
            "forces_rmse": 1e3 * float(np.sqrt(np.mean(forces ** 2)))}


def calibration(scored: Sequence[Atoms], labelled: Sequence[Atoms]) -> dict:
    """Spread against true error on freshly labelled frames.

    ``scored[k]`` carries the committee's verdict before labelling
    (``arrays["committee_forces"]``, ``arrays["forces_std"]``) and ``labelled[k]`` the
    reference forces of the same frame. Per frame: the mean per-atom spread against the
    RMS force error of the committee mean, and the largest per-atom spread against the
    largest per-atom error (all eV/A); their Spearman rank correlations
    (``spearman_mean``, ``spearman_max``; None with fewer than 3 frames), and per atom
    (``spearman_atoms``).
    """
    points = {"mean_spread": [], "rmse": [], "max_spread": [], "max_error": []}
    atom_spread, atom_error = [], []
    for before, after in zip(scored, labelled):
        spread = np.asarray(before.arrays["forces_std"])
        error = np.linalg.norm(before.arrays["committee_forces"] - after.get_forces(), axis=1)
        points["mean_spread"].append(float(spread.mean()))
        points["rmse"].append(float(np.sqrt(np.mean(error ** 2) / 3.0)))
        points["max_spread"].append(float(spread.max()))
        points["max_error"].append(float(error.max()))
        atom_spread.append(spread)
        atom_error.append(error)
    enough = len(points["rmse"]) >= 3
    return {**points,
            "spearman_mean": _rank(points["mean_spread"], points["rmse"]) if enough else None,
            "spearman_max": _rank(points["max_spread"], points["max_error"]) if enough else None,
            "spearman_atoms": (_rank(np.concatenate(atom_spread), np.concatenate(atom_error))
                               if enough else None)}


def _rank(first, second) -> float:
    value = spearmanr(first, second).statistic
    return None if not np.isfinite(value) else float(value)
