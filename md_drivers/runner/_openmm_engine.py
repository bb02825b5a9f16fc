"""The OpenMM engine: Langevin dynamics (and a Monte Carlo barostat) with create_force."""
from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms, units

from ..openmm import create_force
from ..units import EV_IN_KJ_PER_MOL, NM_IN_ANGSTROM
from .config import MDConfig

__all__ = ["OpenMMEngine"]

_ASE_VELOCITY_IN_NM_PER_PS = 1000.0 * units.fs / NM_IN_ANGSTROM   # A per ASE time unit, in nm/ps


class OpenMMEngine:
    """Runs ``config.ensemble`` in an OpenMM Context (CPU platform) and mirrors the state
    into ``atoms`` (positions A, momenta, cell) after every :meth:`step`.

    The potential is a PythonForce (any torch version). Pressure and stress come from
    ``stress_calculator`` (an equiforce ASE calculator) on the mirrored frame, since
    OpenMM does not report a virial.
    """

    def __init__(self, atoms: Atoms, potential, stress_calculator, config: MDConfig,
                 platform: str = "CPU") -> None:
        import openmm
        import openmm.unit as unit

        self.atoms, self.config = atoms, config
        self._stress_calculator = stress_calculator
        periodic = bool(atoms.pbc.all())
        if atoms.pbc.any() and not periodic:
            raise ValueError("the OpenMM engine needs a fully periodic cell or none (pbc "
                             f"{atoms.pbc.tolist()})")
        if config.is_npt and not periodic:
            raise ValueError("NPT needs a periodic structure")
        system = openmm.System()
        for mass in atoms.get_masses():
            system.addParticle(float(mass))
        if periodic:
            system.setDefaultPeriodicBoxVectors(*_box_nm(atoms))
        self.force = create_force(potential, atoms.numbers, backend="python",
                                  periodic=periodic, skin=config.skin, device=config.device)
        system.addForce(self.force)
        if config.ensemble == "npt-mc":
            system.addForce(openmm.MonteCarloBarostat(config.pressure_bar * unit.bar,
                                                      config.temperature_K * unit.kelvin,
                                                      config.barostat_interval))
            system.getForce(system.getNumForces() - 1).setRandomNumberSeed(config.seed + 2)
        integrator = openmm.LangevinMiddleIntegrator(
            config.temperature_K * unit.kelvin, config.friction_per_ps / unit.picosecond,
            config.timestep_fs * unit.femtosecond)
        integrator.setRandomNumberSeed(config.seed + 1)
        self.context = openmm.Context(system, integrator,
                                      openmm.Platform.getPlatformByName(platform))
        if periodic:
            self.context.setPeriodicBoxVectors(*_box_nm(atoms))
        self.context.setPositions(atoms.positions / NM_IN_ANGSTROM)
        self.context.setVelocities(atoms.get_velocities() * _ASE_VELOCITY_IN_NM_PER_PS)
        self._forces = None
        self._energy = None
        self._sync()

    @property
    def step_count(self) -> int:
        return int(self.context.getStepCount())

    def step(self, n: int) -> None:
        self.context.getIntegrator().step(n)
        self._sync()

    def forces(self) -> np.ndarray:
        return self._forces

    def potential_energy(self) -> float:
        return self._energy

    def stress(self) -> np.ndarray | None:
        if not self.atoms.pbc.all():
            return None
        frame = self.atoms.copy()
        frame.calc = self._stress_calculator
        return frame.get_stress(include_ideal_gas=True)

    def reset_neighbors(self) -> None:
        """Nothing to do: OpenMM checkpoints restore the Context exactly enough."""

    def state(self) -> dict[str, Any]:
        return {"openmm_checkpoint": self.context.createCheckpoint(), "nsteps": self.step_count}

    def restore(self, state: dict[str, Any]) -> None:
        self.context.loadCheckpoint(state["openmm_checkpoint"])
        self._sync()

    def _sync(self) -> None:
        import openmm.unit as unit

        state = self.context.getState(getPositions=True, getVelocities=True, getEnergy=True,
                                      getForces=True)
        kj_nm = unit.kilojoule_per_mole / unit.nanometer
        positions = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
        velocities = state.getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond)
        if self.atoms.pbc.all():
            box = state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer)
            self.atoms.set_cell(np.asarray(box) * NM_IN_ANGSTROM, scale_atoms=False)
        self.atoms.set_positions(np.asarray(positions) * NM_IN_ANGSTROM)
        self.atoms.set_velocities(np.asarray(velocities) / _ASE_VELOCITY_IN_NM_PER_PS)
        self._energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole) / EV_IN_KJ_PER_MOL
        self._forces = np.asarray(state.getForces(asNumpy=True).value_in_unit(kj_nm)) / (
            EV_IN_KJ_PER_MOL * NM_IN_ANGSTROM)


def _box_nm(atoms: Atoms) -> np.ndarray:
    """The cell in nm; OpenMM needs its reduced triclinic form (a along x, b in xy)."""
    box = atoms.cell.array / NM_IN_ANGSTROM
    a, b, c = box
    reduced = (a[1] == a[2] == b[2] == 0 and a[0] > 0 and b[1] > 0 and c[2] > 0
               and abs(b[0]) <= 0.5 * a[0] + 1e-12 and abs(c[0]) <= 0.5 * a[0] + 1e-12
               and abs(c[1]) <= 0.5 * b[1] + 1e-12)
    if not reduced:
        raise ValueError("OpenMM needs the cell in reduced form (a along x, b in the xy plane, "
                         "|b_x|, |c_x| <= a_x/2, |c_y| <= b_y/2); use the ase engine or "
                         "transform the structure")
    return box
