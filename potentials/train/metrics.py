"""Training losses and error metrics (energy per atom, forces, stress)."""
from __future__ import annotations

from typing import Dict

import torch
from torch import Tensor

from ..graph import AtomicGraph

__all__ = ["Targets", "loss_terms", "ErrorAccumulator"]


class Targets:
    """Labels of a batch: energy (B,) eV, forces (N, 3) eV/A, stress (B, 3, 3) eV/A^3 and
    a (B,) mask of structures that have a stress label."""

    def __init__(self, energy: Tensor, forces: Tensor, stress: Tensor, has_stress: Tensor) -> None:
        self.energy, self.forces, self.stress, self.has_stress = energy, forces, stress, has_stress


def loss_terms(out: Dict[str, Tensor], targets: Targets, graph: AtomicGraph) -> Dict[str, Tensor]:
    """Mean squared errors: energy per atom, force components, stress components."""
    atoms_per_graph = torch.bincount(graph.batch, minlength=graph.num_graphs).to(out["energy"].dtype)
    energy = ((out["energy"] - targets.energy) / atoms_per_graph).pow(2).mean()
    forces = (out["forces"] - targets.forces).pow(2).mean()
    if bool(targets.has_stress.any()):
        mask = targets.has_stress
        stress = (out["stress"][mask] - targets.stress[mask]).pow(2).mean()
    else:
        stress = torch.zeros((), dtype=energy.dtype, device=energy.device)
    return {"energy": energy, "forces": forces, "stress": stress}


class ErrorAccumulator:
    """MAE and RMSE over many batches: energy in meV/atom, forces in meV/A, stress in meV/A^3."""

    def __init__(self) -> None:
        self._sums: Dict[str, list[float]] = {}

    def add(self, out: Dict[str, Tensor], targets: Targets, graph: AtomicGraph) -> None:
        atoms = torch.bincount(graph.batch, minlength=graph.num_graphs).to(out["energy"].dtype)
        self._add("energy", (out["energy"].detach() - targets.energy) / atoms)
        self._add("forces", out["forces"].detach() - targets.forces)
        mask = targets.has_stress
        if bool(mask.any()):
            self._add("stress", out["stress"].detach()[mask] - targets.stress[mask])

    def _add(self, name: str, error: Tensor) -> None:
        entry = self._sums.setdefault(name, [0.0, 0.0, 0])
        entry[0] += float(error.abs().sum())
        entry[1] += float(error.pow(2).sum())
        entry[2] += error.numel()

    def result(self) -> Dict[str, float]:
        """``{quantity}_mae`` and ``{quantity}_rmse`` in meV-based units."""
        metrics = {}
        for name, (abs_sum, sq_sum, count) in self._sums.items():
            metrics[f"{name}_mae"] = 1e3 * abs_sum / count
            metrics[f"{name}_rmse"] = 1e3 * (sq_sum / count) ** 0.5
        return metrics
