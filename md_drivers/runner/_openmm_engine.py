"""The OpenMM engine: Langevin dynamics (and a Monte Carlo barostat) with create_force."""
from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms

from potentials.units import ASE_VELOCITY_IN_NM_PER_PS, EV_IN_KJ_PER_MOL, NM_IN_ANGSTROM

from ..openmm import create_system
from .config import MDConfig

__all__ = ["OpenMMEngine"]


class OpenMMEngine:
    """An :class:`~md_drivers.runner.engine.Engine` that runs ``config.ensemble`` in an OpenMM Context (CPU platform) and mirrors the state
    into ``atoms`` (positions A, momenta, cell) after every :meth:`step`.

    Any periodic cell runs: the Context works in OpenMM's reduced triclinic form (see
    :mod:`md_drivers._reduced_cell`) and ``atoms`` stays in the user's frame and basis.

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
        built = create_system(atoms, potential, wrap=False, backend="python", skin=config.skin,
                              device=config.device)
        self._cell, system, self.force = built.cell, built.system, built.force
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
        if built.box is not None:
            self.context.setPeriodicBoxVectors(*built.box)
        self.context.setPositions(built.positions)
        self.context.setVelocities(self._to_openmm(atoms.get_velocities()
                                                   * ASE_VELOCITY_IN_NM_PER_PS))
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

    def force_spread(self) -> None:
        """A single potential: no committee spread."""
        return None

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
        if self._cell is not None:
            box = state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(unit.nanometer)
            self.atoms.set_cell(self._cell.cell_from_reduced(np.asarray(box)) * NM_IN_ANGSTROM,
                                scale_atoms=False)
        self.atoms.set_positions(self._from_openmm(positions) * NM_IN_ANGSTROM)
        self.atoms.set_velocities(self._from_openmm(velocities) / ASE_VELOCITY_IN_NM_PER_PS)
        self._energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole) / EV_IN_KJ_PER_MOL
        self._forces = self._from_openmm(state.getForces(asNumpy=True).value_in_unit(kj_nm)) / (
            EV_IN_KJ_PER_MOL * NM_IN_ANGSTROM)

    def _to_openmm(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors)
        return vectors if self._cell is None else self._cell.vectors_to_reduced(vectors)

    def _from_openmm(self, vectors) -> np.ndarray:
        vectors = np.asarray(vectors)
        return vectors if self._cell is None else self._cell.vectors_from_reduced(vectors)
