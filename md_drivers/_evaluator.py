"""One structure through a deployed potential, with a Verlet-skin neighbour list.

Shared by the ASE calculator and the OpenMM PythonForce: both hand over positions in
Angstrom and get eV-based results back; unit conversion stays in each driver.
"""
from __future__ import annotations

import numpy as np
import torch

from potentials import DeployedPotential, VerletNeighborList

from ._pair_check import PairDistanceGuard

__all__ = ["StructureEvaluator"]


class StructureEvaluator:
    """Evaluate one structure at a time, reusing neighbour lists across calls.

    Args:
        potential: the deployed potential.
        skin: Verlet skin in Angstrom (0 rebuilds the list every call).
        neighbor_backend: ``"vesin"`` or ``"torch"``.
    """

    def __init__(self, potential: DeployedPotential, skin: float = 0.5,
                 neighbor_backend: str = "vesin") -> None:
        self.potential = potential
        self.neighbors = VerletNeighborList(potential.cutoff, skin=skin, backend=neighbor_backend)
        self.check_pairs = PairDistanceGuard(potential)

    def __call__(self, positions: np.ndarray, numbers: np.ndarray, cell: np.ndarray,
                 pbc: np.ndarray) -> dict[str, torch.Tensor]:
        """Outputs of the potential as CPU float64 tensors.

        Args:
            positions: (N, 3) Angstrom. numbers: (N,) atomic numbers.
            cell: (3, 3) lattice vectors as rows, Angstrom (zeros for a molecule).
            pbc: (3,) bool.

        Raises:
            ValueError: two atoms at the same position (a warning, once, when a pair is
                closer than the potential's training data allows).

        On a GPU a call synchronises with the host twice: once for the neighbour list's
        rebuild decision, once to copy all results to the host in one transfer.

        Returns:
            ``energy`` (1,) eV, ``atomic_energies`` (N,) eV, ``forces`` (N, 3) eV/A,
            ``virial`` (1, 3, 3) eV, ``stress`` (1, 3, 3) eV/A^3.
        """
        dtype, device = self.potential.dtype, self.potential.device
        pos = torch.as_tensor(positions, dtype=dtype, device=device)
        z = torch.as_tensor(numbers, dtype=torch.long, device=device)
        cell_t = torch.as_tensor(cell, dtype=dtype, device=device)
        edge_index, shifts = self.neighbors(pos, cell_t, torch.as_tensor(pbc, device=device), z)
        batch = torch.zeros(len(z), dtype=torch.long, device=device)
        out = self.potential(pos, z, edge_index, shifts.to(dtype), cell_t.unsqueeze(0), batch)
        pairs = self.check_pairs.summary(pos, z, edge_index, shifts, cell_t)
        host = _to_host([*out.values(), pairs])     # the one copy to the host per call
        self.check_pairs.report(host[-1], z, edge_index)
        return dict(zip(out.keys(), host[:-1]))


def _to_host(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """CPU float64 copies of ``tensors`` in one device-to-host transfer (one buffer)."""
    if all(t.device.type == "cpu" for t in tensors):
        return [t.detach().to(torch.float64) for t in tensors]
    flat = torch.cat([t.detach().reshape(-1).to(torch.float64) for t in tensors]).cpu()
    return [part.view(t.shape) for part, t in zip(flat.split([t.numel() for t in tensors]), tensors)]
