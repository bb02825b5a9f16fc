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
        if edge_index.shape[1] == 0:
            return
        first, second = edge_index[0], edge_index[1]
        vectors = positions[second] - positions[first] + shifts.to(positions.dtype) @ cell
        lengths = vectors.norm(dim=1)
        shortest = int(torch.argmin(lengths))
        if float(lengths[shortest]) < COINCIDENT_A:
            raise ValueError(f"atoms {int(first[shortest])} and {int(second[shortest])} are at "
                             f"the same position (distance {float(lengths[shortest]):.2g} A): "
                             "a duplicated atom or a broken structure; the potential is "
                             "undefined there")
        if not self.warned:
            self._warn_below_floor(lengths, numbers, first, second)

    def _warn_below_floor(self, lengths: Tensor, numbers: Tensor, first: Tensor,
                          second: Tensor) -> None:
        if self._table.device != lengths.device or self._table.dtype != lengths.dtype:
            self._table = self._table.to(lengths.device, lengths.dtype)  # once per run
        table = self._table
        z_first, z_second = numbers[first].clamp_max(118), numbers[second].clamp_max(118)
        below = torch.nonzero(lengths < table[z_first, z_second])
        if len(below) == 0:
            return
        index = int(below[0])
        i, j = int(first[index]), int(second[index])
        key = pair_key(int(numbers[i]), int(numbers[j]))
        log.warning("atoms %d and %d (%s) are %.3f A apart, closer than any %s pair in the "
                    "training data of %s (%.3f A): forces there are an extrapolation (warned "
                    "once per run)", i, j, key, float(lengths[index]), key, self.name,
                    self.floors[key])
        self.warned = True


def _floor_table(floors: dict[str, float]) -> Tensor:
    """(119, 119) closest training distance per element pair, A; 0 where unknown."""
    from ase.data import atomic_numbers

    table = torch.zeros(119, 119, dtype=torch.float64)
    for key, floor in floors.items():
        z_a, z_b = (atomic_numbers[symbol] for symbol in key.split("-"))
        table[z_a, z_b] = table[z_b, z_a] = float(floor)
    return table
