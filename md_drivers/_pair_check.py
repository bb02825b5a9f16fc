"""Atoms too close: an error when two coincide, a warning (once) when a pair is closer
than the potential's training data ever brought that element pair."""
from __future__ import annotations

import logging

import torch
from torch import Tensor

from potentials import DeployedPotential
from potentials.closest_pairs import pair_key

__all__ = ["PairDistanceGuard", "COINCIDENT_A"]

COINCIDENT_A = 1e-4          # A: closer than this, two atoms are "at the same position"

log = logging.getLogger("equiforce")


class PairDistanceGuard:
    """Checks every edge of a neighbour list.

    The floors are the potential's ``provenance["closest_pairs_A"]`` (written by
    ``equiforce train``); a file without them is checked for coincident atoms only, and
    element pairs absent from the training data are not checked against a floor.
    """

    def __init__(self, potential: DeployedPotential) -> None:
        provenance = potential.metadata.get("provenance") or {}
        self.floors = dict(provenance.get("closest_pairs_A") or {})
        self.name = potential.path.stem if potential.path else "this potential"
        self.warned = not self.floors
        self._table = _floor_table(self.floors)

    def __call__(self, positions: Tensor, numbers: Tensor, edge_index: Tensor,
                 shifts: Tensor, cell: Tensor) -> None:
        """Raise ValueError on coincident atoms; warn once below a training floor.

        positions (N, 3) A, numbers (N,), edge_index (2, E), shifts (E, 3) in cell
        vectors, cell (3, 3) A.
        """
        summary = self.summary(positions, numbers, edge_index, shifts, cell)
        self.report(summary.cpu(), numbers, edge_index)

    def summary(self, positions: Tensor, numbers: Tensor, edge_index: Tensor,
                shifts: Tensor, cell: Tensor) -> Tensor:
        """What :meth:`report` needs, computed on the device without a host
        synchronisation: (4,) float64 ``[shortest length (A), its edge, first edge below
        a floor or -1, that edge's length]`` (``[inf, -1, -1, 0]`` without edges)."""
        if edge_index.shape[1] == 0:
            return torch.tensor([float("inf"), -1.0, -1.0, 0.0], dtype=torch.float64,
                                device=positions.device)
        first, second = edge_index[0], edge_index[1]
        vectors = positions[second] - positions[first] + shifts.to(positions.dtype) @ cell
        lengths = vectors.norm(dim=1)
        shortest = torch.argmin(lengths)
        if self.warned:
            below = torch.full_like(shortest, -1)
        else:
            if self._table.device != lengths.device or self._table.dtype != lengths.dtype:
                self._table = self._table.to(lengths.device, lengths.dtype)  # once per run
            z_first, z_second = numbers[first].clamp_max(118), numbers[second].clamp_max(118)
            is_below = lengths < self._table[z_first, z_second]
            index = torch.arange(lengths.shape[0], device=lengths.device)
            below = torch.where(is_below, index, lengths.shape[0]).min()
            below = torch.where(below < lengths.shape[0], below, -1)
        return torch.stack([lengths[shortest].to(torch.float64), shortest.to(torch.float64),
                            below.to(torch.float64),
                            lengths[below.clamp_min(0)].to(torch.float64)])

    def report(self, summary: Tensor, numbers: Tensor, edge_index: Tensor) -> None:
        """Raise or warn from a :meth:`summary` already on the host (the device is only
        read again when there is something to report)."""
        shortest_length, shortest, below, below_length = summary.tolist()
        if shortest_length < COINCIDENT_A:
            i, j = (int(k) for k in edge_index[:, int(shortest)].tolist())
            raise ValueError(f"atoms {i} and {j} are at the same position (distance "
                             f"{shortest_length:.2g} A): a duplicated atom or a broken "
                             "structure; the potential is undefined there")
        if self.warned or below < 0:
            return
        i, j = (int(k) for k in edge_index[:, int(below)].tolist())
        key = pair_key(int(numbers[i]), int(numbers[j]))
        log.warning("atoms %d and %d (%s) are %.3f A apart, closer than any %s pair in the "
                    "training data of %s (%.3f A): forces there are an extrapolation (warned "
                    "once per run)", i, j, key, below_length, key, self.name, self.floors[key])
        self.warned = True


def _floor_table(floors: dict[str, float]) -> Tensor:
    """(119, 119) closest training distance per element pair, A; 0 where unknown."""
    from ase.data import atomic_numbers

    table = torch.zeros(119, 119, dtype=torch.float64)
    for key, floor in floors.items():
        z_a, z_b = (atomic_numbers[symbol] for symbol in key.split("-"))
        table[z_a, z_b] = table[z_b, z_a] = float(floor)
    return table
