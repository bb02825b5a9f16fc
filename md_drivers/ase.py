"""ASE calculator for equiforce potentials."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from potentials import (DeployedPotential, EquivariantPotential, ModelFileError, load,
                        validate_structure)

from ._evaluator import StructureEvaluator

__all__ = ["EquiforceCalculator", "as_deployed"]

ModelLike = Union[EquivariantPotential, DeployedPotential, str, Path]


class EquiforceCalculator(Calculator):
    """ASE calculator for an equiforce potential (in memory, TorchScript or AOTInductor).

    Results: ``energy``/``free_energy`` (eV), ``energies`` (N,) eV, ``forces`` (N, 3)
    eV/A, ``stress`` (6,) eV/A^3 in Voigt order (xx, yy, zz, yz, xz, xy) with ASE's sign.
    Stress of a structure without a periodic 3D cell raises ``PropertyNotImplementedError``.

    Neighbour lists are reused across MD steps through a Verlet skin (Angstrom); the
    results equal a fresh list's exactly. The calculator never changes torch's global
    default dtype or thread settings.

    Args:
        model: an :class:`EquivariantPotential` (the calculator evaluates its own fast
            copy, :class:`potentials.FastPotential`), a :class:`DeployedPotential`, the
            path of an exported file or the name of a shipped potential (``"cu-emt"``).
        device: torch device for the computation.
        dtype: computation dtype (default: the model's or the file's).
        skin: Verlet skin in Angstrom (0 rebuilds the list every call).
        neighbor_backend: ``"vesin"`` or ``"torch"``.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, model: ModelLike, device: str | torch.device = "cpu",
                 dtype: Optional[torch.dtype] = None, skin: float = 0.5,
                 neighbor_backend: str = "vesin", **kwargs) -> None:
        super().__init__(**kwargs)
        self.potential = as_deployed(model, device, dtype)
        self.device = self.potential.device
        self._evaluate = StructureEvaluator(self.potential, skin, neighbor_backend)
        self.neighbors = self._evaluate.neighbors

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        positions = np.asarray(self.atoms.positions, dtype=np.float64)
        cell = np.asarray(self.atoms.cell.array, dtype=np.float64)
        pbc = np.asarray(self.atoms.pbc, dtype=bool)
        validate_structure(positions, self.atoms.numbers, cell, pbc, self.potential.species)
        has_stress = bool(pbc.any()) and abs(np.linalg.det(cell)) > 1e-12
        if "stress" in properties and not has_stress:
            raise PropertyNotImplementedError("stress needs a periodic structure with a 3D cell")
        out = self._evaluate(positions, self.atoms.numbers, cell, pbc)
        energy = float(out["energy"][0])
        self.results = {"energy": energy, "free_energy": energy,
                        "energies": out["atomic_energies"].numpy(),
                        "forces": out["forces"].numpy()}
        if has_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(out["stress"][0].numpy())


def as_deployed(model: ModelLike, device: str | torch.device = "cpu",
                dtype: Optional[torch.dtype] = None) -> DeployedPotential:
    """A :class:`DeployedPotential` from a model, a deployed potential or a file path.

    Models and TorchScript files run with the device's default backend (``load``'s
    ``ops=None``): on the fast path (:class:`potentials.FastPotential`) with e3nn ops, the
    CPU default; as a cuEquivariance model on a CUDA device with its kernels. They run in
    ``dtype`` (default: the model's or the file's); an already deployed potential is used
    as it is and must match ``dtype``.
    """
    if isinstance(model, EquivariantPotential):
        return DeployedPotential.from_model(model, dtype, device)
    if not isinstance(model, DeployedPotential):
        return load(model, device, dtype=dtype)
    if dtype is not None and dtype != model.dtype:
        raise ModelFileError(
            f"{model.path}: this potential computes in {model.metadata['dtype']}, not "
            f"{dtype}; load it with potentials.load(path, dtype=...)")
    return model
