"""Reference data for molecules from GFN2-xTB (tblite), sampled by Langevin MD."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from ase import Atoms, units
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta

__all__ = ["XTBSettings", "generate_xtb"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class XTBSettings:
    """What to sample.

    Attributes:
        molecule: a name ``ase.build.molecule`` knows (e.g. ``"CH3CH2OH"`` for ethanol).
        temperatures: Langevin temperatures in K.
        frames_per_temperature: frames sampled at each temperature.
        timestep_fs: MD time step in fs.
        equilibration_steps, stride: MD steps before sampling and between frames.
        method: tblite method (``"GFN2-xTB"``).
        seed: everything is deterministic given it.
    """

    molecule: str = "CH3CH2OH"
    temperatures: tuple[float, ...] = (300.0, 500.0, 800.0)
    frames_per_temperature: int = 50
    timestep_fs: float = 0.5
    equilibration_steps: int = 100
    stride: int = 10
    method: str = "GFN2-xTB"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.frames_per_temperature < 1 or self.stride < 1 or self.timestep_fs <= 0:
            raise ValueError("frames_per_temperature and stride must be >= 1, timestep > 0")


def generate_xtb(settings: XTBSettings = XTBSettings()) -> list[Atoms]:
    """Labelled frames (energy eV, forces eV/A) of one molecule at several temperatures."""
    try:
        from tblite.ase import TBLite
    except ImportError as error:
        raise ImportError("the xtb generator needs tblite: pip install 'equiforce[xtb]'") from error
    rng = np.random.default_rng(settings.seed)
    frames: list[Atoms] = []
    for temperature in settings.temperatures:
        atoms = molecule(settings.molecule)
        atoms.calc = TBLite(method=settings.method, verbosity=0)
        thermalize_momenta(atoms, temperature_K=temperature, rng=rng)
        Stationary(atoms)
        ZeroRotation(atoms)
        dyn = Langevin(atoms, settings.timestep_fs * units.fs, temperature_K=temperature,
                       friction=0.01 / units.fs, fixcm=False, rng=rng)
        dyn.run(settings.equilibration_steps)
        for _ in range(settings.frames_per_temperature):
            dyn.run(settings.stride)
            frames.append(_labelled_copy(atoms, temperature))
        log.info("xtb %s at %.0f K: %d frames so far", settings.molecule, temperature, len(frames))
    return frames


def _labelled_copy(atoms: Atoms, temperature: float) -> Atoms:
    frame = Atoms(atoms.numbers, positions=atoms.positions)
    frame.calc = SinglePointCalculator(frame, energy=atoms.get_potential_energy(),
                                       forces=atoms.get_forces())
    frame.info["temperature_K"] = temperature
    return frame
