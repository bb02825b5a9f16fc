"""Training losses and error metrics (energy per atom, forces, stress)."""
from __future__ import annotations

from typing import Dict, Optional, Sequence

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
    """MAE, RMSE and mean signed error (ME, predicted minus reference) over many batches,
    overall and per configuration kind: energy in meV/atom, forces in meV/A, stress in
    meV/A^3."""

    def __init__(self) -> None:
        self._sums: Dict[str, Dict[str, list[float]]] = {}

    def add(self, out: Dict[str, Tensor], targets: Targets, graph: AtomicGraph,
            kinds: Optional[Sequence[Optional[str]]] = None) -> None:
        """Add a batch; ``kinds`` gives each structure's configuration kind (or None)."""
        atoms = torch.bincount(graph.batch, minlength=graph.num_graphs).to(out["energy"].dtype)
        energy = (out["energy"].detach() - targets.energy) / atoms
        forces = out["forces"].detach() - targets.forces
        stress = out["stress"].detach() - targets.stress
        groups = [None] if kinds is None else [None, *sorted({k for k in kinds if k})]
        for group in groups:
            graphs = (torch.ones(graph.num_graphs, dtype=torch.bool) if group is None else
                      torch.tensor([k == group for k in kinds]))
            self._add(group, "energy", energy[graphs])
            self._add(group, "forces", forces[graphs.index_select(0, graph.batch)])
            mask = graphs & targets.has_stress
            if bool(mask.any()):
                self._add(group, "stress", stress[mask])

    def _add(self, group: Optional[str], name: str, error: Tensor) -> None:
        entry = self._sums.setdefault(group or "", {}).setdefault(name, [0.0, 0.0, 0.0, 0])
        entry[0] += float(error.abs().sum())
        entry[1] += float(error.pow(2).sum())
        entry[2] += float(error.sum())
        entry[3] += error.numel()

    def result(self) -> Dict[str, float]:
        """``{quantity}_mae``, ``{quantity}_rmse`` and ``{quantity}_me`` over all frames."""
        return _metrics(self._sums.get("", {}))

    def result_by_kind(self) -> Dict[str, Dict[str, float]]:
        """The same metrics for each configuration kind seen (empty if none was named)."""
        return {group: _metrics(sums) for group, sums in sorted(self._sums.items()) if group}


def _metrics(sums: Dict[str, list[float]]) -> Dict[str, float]:
    metrics = {}
    for name, (abs_sum, sq_sum, signed_sum, count) in sums.items():
        metrics[f"{name}_mae"] = 1e3 * abs_sum / count
        metrics[f"{name}_rmse"] = 1e3 * (sq_sum / count) ** 0.5
        metrics[f"{name}_me"] = 1e3 * signed_sum / count
    return metrics
