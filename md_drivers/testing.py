"""Driver checks for any equiforce potential: OpenMM against the ASE calculator.

The potential-level checks (symmetry, finite differences, batching, cutoff) are in
:mod:`potentials.testing`; this one needs the drivers::

    from md_drivers.testing import assert_openmm_matches_ase
    assert_openmm_matches_ase("my_model.pt", atoms)
"""
from __future__ import annotations

import numpy as np

from potentials.testing import PotentialLike, as_potential
from potentials.units import EV_IN_KJ_PER_MOL, NM_IN_ANGSTROM

from .ase import EquiforceCalculator
from .openmm import OpenMMSystem, create_system

__all__ = ["assert_openmm_matches_ase", "evaluate_system", "openmm_energy_and_forces"]


def openmm_energy_and_forces(potential: PotentialLike, atoms, backend: str = "python",
                             platform: str = "Reference") -> tuple[float, np.ndarray]:
    """Energy (eV) and forces (N, 3) eV/A of ``atoms`` computed by OpenMM with the
    potential as the System's only force (built by :func:`md_drivers.openmm.create_system`:
    any periodic cell is brought to OpenMM's reduced form; forces come back in the
    user's frame). ``atoms`` must be periodic in all directions or none."""
    return evaluate_system(create_system(atoms, as_potential(potential), backend=backend),
                           platform)


def evaluate_system(built: OpenMMSystem, platform: str = "Reference") -> tuple[float, np.ndarray]:
    """Energy (eV) and forces (N, 3) eV/A, in the user's frame, of what
    :func:`~md_drivers.openmm.create_system` built (at its own positions and box)."""
    import openmm
    import openmm.unit as unit

    properties = {"Precision": "double"} if platform in ("CUDA", "OpenCL") else {}
    context = openmm.Context(built.system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName(platform), properties)
    if built.box is not None:
        context.setPeriodicBoxVectors(*built.box)
    context.setPositions(built.positions)
    state = context.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    forces = state.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer)
    scale = EV_IN_KJ_PER_MOL * NM_IN_ANGSTROM
    return energy / EV_IN_KJ_PER_MOL, built.to_user(np.asarray(forces)) / scale


def assert_openmm_matches_ase(potential: PotentialLike, atoms, backend: str = "python",
                              platform: str = "Reference", rtol: float = 1e-6) -> None:
    """OpenMM (``backend`` ``"python"`` or ``"torch"``, on ``platform``) gives the energy
    and forces of the ASE calculator, to ``rtol`` of the largest energy and force (a unit,
    sign or frame slip at the boundary fails it).

    Raises:
        AssertionError: naming the quantity and its deviation.
        ValueError: a cell periodic in some directions only (OpenMM needs all or none).
    """
    potential = as_potential(potential)
    energy, forces = openmm_energy_and_forces(potential, atoms, backend, platform)
    reference = atoms.copy()
    reference.calc = EquiforceCalculator(potential)
    ref_energy, ref_forces = reference.get_potential_energy(), reference.get_forces()
    if not abs(energy - ref_energy) <= rtol * max(abs(ref_energy), 1.0):
        raise AssertionError(f"OpenMM energy {energy!r} eV differs from ASE's {ref_energy!r} eV")
    error = float(np.abs(forces - ref_forces).max())
    tolerance = rtol * max(float(np.abs(ref_forces).max()), 1.0)
    if not error <= tolerance:
        raise AssertionError(f"OpenMM forces differ from ASE's: max deviation {error:.3e} eV/A "
                             f"> {tolerance:.3e}")
