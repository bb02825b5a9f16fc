"""The ASE engine: ASE integrators with an equiforce (or committee) calculator."""
from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms, units

from .config import MDConfig

__all__ = ["AseEngine"]

# The dynamic variables of each ASE integrator, its thermostat and its barostat, that a
# checkpoint carries (ASE 3.29 names); everything else is rebuilt from the MDConfig. The
# Langevin integrator's only state is its random generator, saved separately.
_THERMOSTAT = ("_eta", "_p_eta")
_BAROSTAT = ("_xi", "_p_xi")
INTEGRATOR_STATE: dict[str, dict[str, tuple[str, ...]]] = {
    "nve": {},
    "nvt-langevin": {},
    "nvt-nhc": {"": ("_q", "_p"), "_thermostat": _THERMOSTAT},
    "npt-iso": {"": ("_q", "_p", "_eps", "_p_eps", "_volume0", "_cell0"),
                "_thermostat": _THERMOSTAT, "_barostat": _BAROSTAT},
    "npt-aniso": {"": ("_q", "_p", "_h", "_p_g"), "_thermostat": _THERMOSTAT,
                  "_barostat": _BAROSTAT},
}


class AseEngine:
    """An :class:`~md_drivers.runner.engine.Engine`: ``config.ensemble`` with ASE's
    integrators on ``atoms`` (which it owns and updates in place)."""

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

    def force_spread(self) -> np.ndarray | None:
        """(N,) eV/A per-atom spread of a committee; None for a single potential."""
        spread = self.atoms.calc.results.get("forces_std")
        return None if spread is None else np.asarray(spread)

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
                "integrator": _integrator_state(self.dynamics, self.config.ensemble),
                "rng": self.rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        self.atoms.set_cell(state["cell"], scale_atoms=False)
        self.atoms.set_positions(state["positions"], apply_constraint=False)
        self.atoms.set_momenta(state["momenta"], apply_constraint=False)
        self.dynamics = self._dynamics()
        _restore_integrator_state(self.dynamics, state["integrator"])
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


def _integrator_state(dynamics, ensemble: str) -> dict[str, dict[str, Any]]:
    """Copies of the variables ``INTEGRATOR_STATE`` names, by owner ("" = integrator)."""
    state = {}
    for owner, names in INTEGRATOR_STATE[ensemble].items():
        target = getattr(dynamics, owner) if owner else dynamics
        state[owner] = {name: _copied(getattr(target, name)) for name in names}
    return state


def _restore_integrator_state(dynamics, state: dict[str, dict[str, Any]]) -> None:
    for owner, values in state.items():
        target = getattr(dynamics, owner) if owner else dynamics
        for name, value in values.items():
            setattr(target, name, _copied(value))


def _copied(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value
