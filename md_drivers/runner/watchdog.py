"""Watchdog for long runs: stop when a simulation goes unphysical, and say why."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

__all__ = ["WatchdogConfig", "WatchdogTripped", "check_frame"]


@dataclass(frozen=True)
class WatchdogConfig:
    """Limits checked at every output frame (None disables a rule).

    Attributes:
        max_force: largest allowed force on one atom, eV/A.
        min_distance: smallest allowed interatomic distance, A (periodic images included).
        max_temperature_factor: stop when T > factor x target temperature (NVT/NPT), or
            > factor x the initial temperature (NVE; checked only if that is > 1 K).
        max_temperature: absolute temperature ceiling, K.
    """

    max_force: Optional[float] = 20.0
    min_distance: Optional[float] = 0.5
    max_temperature_factor: Optional[float] = 3.0
    max_temperature: Optional[float] = 5000.0

    def __post_init__(self) -> None:
        for name in ("max_force", "min_distance", "max_temperature_factor", "max_temperature"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"watchdog.{name} must be positive or None, got {value}")


class WatchdogTripped(RuntimeError):
    """A watchdog rule fired. Attributes: ``rule``, ``step``, ``atoms`` (indices)."""

    def __init__(self, rule: str, step: int, atoms: list[int], detail: str) -> None:
        self.rule, self.step, self.atoms = rule, step, atoms
        shown = ", ".join(str(i) for i in atoms[:10]) + (" ..." if len(atoms) > 10 else "")
        super().__init__(f"watchdog rule '{rule}' tripped at step {step}: {detail} "
                         f"(atoms {shown})")


def check_frame(config: WatchdogConfig, atoms: Atoms, forces: np.ndarray, energy: float,
                temperature: float, reference_temperature: float, step: int) -> None:
    """Raise :class:`WatchdogTripped` for the first rule ``atoms`` breaks.

    Args:
        forces: (N, 3) eV/A. energy: potential energy, eV. temperature: K.
        reference_temperature: the target (thermostatted runs) or initial temperature, K.
    """
    _check_finite(atoms, forces, energy, step)
    if config.max_force is not None:
        norms = np.linalg.norm(forces, axis=1)
        bad = np.nonzero(norms > config.max_force)[0]
        if bad.size:
            raise WatchdogTripped("max_force", step, bad.tolist(),
                                  f"force {norms.max():.3g} eV/A > {config.max_force} eV/A")
    if config.min_distance is not None and len(atoms) > 1:
        i, j, d = neighbor_list("ijd", atoms, config.min_distance)
        if d.size:
            k = int(np.argmin(d))
            raise WatchdogTripped("min_distance", step, sorted({int(i[k]), int(j[k])}),
                                  f"distance {d[k]:.3f} A < {config.min_distance} A")
    _check_temperature(config, temperature, reference_temperature, step, atoms)


def _check_finite(atoms: Atoms, forces: np.ndarray, energy: float, step: int) -> None:
    bad_pos = ~np.isfinite(atoms.positions).all(axis=1)
    bad_force = ~np.isfinite(forces).all(axis=1)
    if bad_pos.any() or bad_force.any() or not np.isfinite(energy):
        bad = np.nonzero(bad_pos | bad_force)[0].tolist()
        raise WatchdogTripped("non_finite", step, bad,
                              f"NaN or inf in positions, forces or energy (energy {energy})")


def _check_temperature(config: WatchdogConfig, temperature: float, reference: float,
                       step: int, atoms: Atoms) -> None:
    per_atom = (atoms.get_momenta() ** 2).sum(axis=1) / atoms.get_masses()
    hottest = np.argsort(-per_atom)[:5].tolist()  # named in the message
    if config.max_temperature is not None and temperature > config.max_temperature:
        raise WatchdogTripped("temperature_runaway", step, hottest,
                              f"T = {temperature:.0f} K > {config.max_temperature:.0f} K")
    factor = config.max_temperature_factor
    if factor is not None and reference > 1.0 and temperature > factor * reference:
        raise WatchdogTripped("temperature_runaway", step, hottest,
                              f"T = {temperature:.0f} K > {factor} x {reference:.0f} K")

