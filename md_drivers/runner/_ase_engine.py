"""The ASE engine: ASE integrators with an equiforce (or committee) calculator."""
from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms, units

from .config import MDConfig

__all__ = ["AseEngine"]

_STATE_TYPES = (np.ndarray, float, int, np.floating, np.integer)
_NESTED = ("_thermostat", "_barostat")


class AseEngine:
    """Runs ``config.ensemble`` on ``atoms`` (which it owns and updates in place)."""

    def __init__(self, atoms: Atoms, calculator, config: MDConfig) -> None:
        self.atoms = atoms
        self.config = config
        atoms.calc = calculator
        self.rng = np.random.default_rng(config.seed + 1)
        self.dynamics = self._dynamics()

    @property
    def step_count(self) -> int:
        return int(self.dynamics.nsteps)

    def step(self, n: int) -> None:
        self.dynamics.run(n)

    def forces(self) -> np.ndarray:
        """(N, 3) eV/A at the current positions (cached by the calculator)."""
        return self.atoms.get_forces()

    def potential_energy(self) -> float:
        return float(self.atoms.get_potential_energy())

    def stress(self) -> np.ndarray | None:
        """(6,) eV/A^3 Voigt, kinetic part included; None without a periodic 3D cell."""
        if not self.atoms.pbc.all():
            return None
        return self.atoms.get_stress(include_ideal_gas=True)

    def reset_neighbors(self) -> None:
        """Fresh neighbour lists and results (done at checkpoints so that a resumed run
        sees exactly what the uninterrupted one saw)."""
        calc = self.atoms.calc
        for member in getattr(calc, "members", [calc]):
            member.neighbors.reset()
            member.reset()
        calc.reset()

    def state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: atoms, integrator internals, RNG."""
        return {"positions": self.atoms.positions.copy(), "momenta": self.atoms.get_momenta(),
                "cell": self.atoms.cell.array.copy(), "nsteps": self.step_count,
                "integrator": _internal_state(self.dynamics),
                "rng": self.rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        self.atoms.set_cell(state["cell"], scale_atoms=False)
        self.atoms.set_positions(state["positions"], apply_constraint=False)
        self.atoms.set_momenta(state["momenta"], apply_constraint=False)
        self.dynamics = self._dynamics()
        _restore_internal_state(self.dynamics, state["integrator"])
        self.dynamics.nsteps = state["nsteps"]
        self.rng.bit_generator.state = state["rng"]

    def _dynamics(self):
        c, fs = self.config, units.fs
        dt, temperature = c.timestep_fs * fs, c.temperature_K
        if c.ensemble == "nve":
            from ase.md.verlet import VelocityVerlet

            return VelocityVerlet(self.atoms, timestep=dt)
        if c.ensemble == "nvt-langevin":
            from ase.md.langevin import Langevin

            return Langevin(self.atoms, dt, temperature_K=temperature, fixcm=False,
                            friction=c.friction_per_ps / (1000.0 * fs), rng=self.rng)
        from ase.md.nose_hoover_chain import IsotropicMTKNPT, MTKNPT, NoseHooverChainNVT

        if c.ensemble == "nvt-nhc":
            return NoseHooverChainNVT(self.atoms, dt, temperature_K=temperature,
                                      tdamp=c.tdamp_fs * fs)
        npt = IsotropicMTKNPT if c.ensemble == "npt-iso" else MTKNPT
        return npt(self.atoms, dt, temperature_K=temperature,
                   pressure_au=c.pressure_bar * units.bar, tdamp=c.tdamp_fs * fs,
                   pdamp=c.pdamp_fs * fs)


def _internal_state(dynamics) -> dict[str, Any]:
    """Numeric private attributes of an ASE integrator and its thermostat/barostat."""
    state = {"": _numeric_attributes(dynamics)}
    for name in _NESTED:
        if hasattr(dynamics, name):
            state[name] = _numeric_attributes(getattr(dynamics, name))
    return state


def _restore_internal_state(dynamics, state: dict[str, Any]) -> None:
    for name, attributes in state.items():
        target = getattr(dynamics, name) if name else dynamics
        for key, value in attributes.items():
            setattr(target, key, value.copy() if isinstance(value, np.ndarray) else value)


def _numeric_attributes(obj) -> dict[str, Any]:
    return {key: (value.copy() if isinstance(value, np.ndarray) else value)
            for key, value in vars(obj).items()
            if key.startswith("_") and isinstance(value, _STATE_TYPES)
            and not isinstance(value, bool)}
