"""ASE calculator for equiforce potentials."""
from __future__ import annotations

import copy
from typing import Optional

import numpy as np
import torch
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from potentials import EquivariantPotential, VerletNeighborList, validate_structure

__all__ = ["EquiforceCalculator"]


class EquiforceCalculator(Calculator):
    """ASE calculator driving an :class:`~potentials.EquivariantPotential`.

    Results: ``energy``/``free_energy`` (eV), ``energies`` (N,) eV, ``forces`` (N, 3)
    eV/A, ``stress`` (6,) eV/A^3 in Voigt order with ASE's sign. Stress of a structure
    without periodic directions raises ``PropertyNotImplementedError``.

    Neighbour lists are reused across MD steps through a Verlet skin (Angstrom); the
    results equal a fresh list's exactly.

    Args:
        model: the potential; the calculator works on its own copy (in eval mode), so
            later changes to ``model`` do not reach it.
        device: torch device for the computation.
        dtype: computation dtype (default: the model's).
        skin: Verlet skin in Angstrom (0 rebuilds the list every call).
        neighbor_backend: ``"vesin"`` or ``"torch"``.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, model: EquivariantPotential, device: str | torch.device = "cpu",
                 dtype: Optional[torch.dtype] = None, skin: float = 0.5,
                 neighbor_backend: str = "vesin", **kwargs) -> None:
        super().__init__(**kwargs)
        self.device = torch.device(device)
        self.dtype = dtype or next(model.parameters()).dtype
        self.model = _prepared(model, self.device, self.dtype)
        self.species = tuple(int(z) for z in model.config.species)
        self.neighbors = VerletNeighborList(model.cutoff, skin=skin, backend=neighbor_backend)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        positions = np.asarray(atoms.positions, dtype=np.float64)
        cell = np.asarray(atoms.cell.array, dtype=np.float64)
        pbc = np.asarray(atoms.pbc, dtype=bool)
        validate_structure(positions, atoms.numbers, cell, pbc, self.species)
        if "stress" in properties and not _has_volume(cell, pbc):
            raise PropertyNotImplementedError("stress needs a periodic structure with a 3D cell")
        out = self._evaluate(positions, atoms.numbers, cell, pbc)
        self.results = {
            "energy": float(out["energy"][0]),
            "free_energy": float(out["energy"][0]),
            "energies": out["atomic_energies"].numpy(),
            "forces": out["forces"].numpy(),
        }
        if _has_volume(cell, pbc):
            self.results["stress"] = full_3x3_to_voigt_6_stress(out["stress"][0].numpy())

    def _evaluate(self, positions, numbers, cell, pbc) -> dict[str, torch.Tensor]:
        pos = torch.as_tensor(positions, dtype=self.dtype, device=self.device)
        z = torch.as_tensor(numbers, dtype=torch.long, device=self.device)
        cell_t = torch.as_tensor(cell, dtype=self.dtype, device=self.device)
        pbc_t = torch.as_tensor(pbc, device=self.device)
        edge_index, shifts = self.neighbors(pos, cell_t, pbc_t, z)
        batch = torch.zeros(len(z), dtype=torch.long, device=self.device)
        out = self.model(pos, z, edge_index, shifts.to(self.dtype), cell_t.unsqueeze(0), batch)
        return {key: value.detach().to("cpu", torch.float64) for key, value in out.items()}


def _prepared(model: EquivariantPotential, device: torch.device,
              dtype: torch.dtype) -> EquivariantPotential:
    return copy.deepcopy(model).to(device=device, dtype=dtype).eval()


def _has_volume(cell: np.ndarray, pbc: np.ndarray) -> bool:
    return bool(pbc.any()) and abs(np.linalg.det(cell)) > 1e-12
