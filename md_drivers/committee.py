"""Committee of potentials as one ASE calculator, with the spread as an uncertainty."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from ase.calculators.calculator import Calculator, all_changes

from .ase import EquiforceCalculator, ModelLike

__all__ = ["CommitteeCalculator"]


class CommitteeCalculator(Calculator):
    """Mean and spread of several potentials (for example trained with different seeds).

    Results: ``energy``/``free_energy`` (eV), ``energies`` (N,) eV, ``forces`` (N, 3) eV/A
    and ``stress`` (6,) eV/A^3 are the members' means. The uncertainty:

    - ``energy_std``: standard deviation of the members' energies, eV;
    - ``forces_std``: (N,) per-atom force spread ``sqrt(mean_m |F_m,i - <F_i>|^2)``, eV/A;
    - ``max_forces_std``: its maximum over atoms, eV/A.

    Identical members give zero spread. Members must share species, cutoff and dtype.

    Args:
        models: two or more models, files or shipped names.
        device, dtype, skin, neighbor_backend: as for :class:`EquiforceCalculator`.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress",
                              "energy_std", "forces_std", "max_forces_std"]

    def __init__(self, models: Sequence[ModelLike], device: str | torch.device = "cpu",
                 dtype: Optional[torch.dtype] = None, skin: float = 0.5,
                 neighbor_backend: str = "vesin", **kwargs) -> None:
        super().__init__(**kwargs)
        if len(models) < 2:
            raise ValueError(f"a committee needs at least two members, got {len(models)}")
        self.members = [EquiforceCalculator(m, device, dtype, skin, neighbor_backend)
                        for m in models]
        first = self.members[0].potential
        for index, member in enumerate(self.members[1:], start=1):
            other = member.potential
            if (other.species, other.cutoff, other.dtype) != (first.species, first.cutoff, first.dtype):
                raise ValueError(f"committee member {index} ({other}) differs from member 0 "
                                 f"({first}) in species, cutoff or dtype")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        wanted = [p for p in properties if p in ("energy", "forces", "stress", "energies")]
        wanted = sorted(set(wanted) | {"energy", "forces"})
        outputs = []
        for member in self.members:
            member.calculate(self.atoms, wanted, system_changes)
            outputs.append(dict(member.results))
        energies = np.array([out["energy"] for out in outputs])
        forces = np.stack([out["forces"] for out in outputs])          # (M, N, 3)
        mean_forces = forces.mean(axis=0)
        forces_std = np.sqrt(((forces - mean_forces) ** 2).sum(axis=2).mean(axis=0))
        self.results = {
            "energy": float(energies.mean()), "free_energy": float(energies.mean()),
            "energies": np.mean([out["energies"] for out in outputs], axis=0),
            "forces": mean_forces,
            "energy_std": float(energies.std()),
            "forces_std": forces_std,
            "max_forces_std": float(forces_std.max()) if len(forces_std) else 0.0,
        }
        if all("stress" in out for out in outputs):
            self.results["stress"] = np.mean([out["stress"] for out in outputs], axis=0)
