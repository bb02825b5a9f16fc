"""The embedded default job behind ``make demo``: NVE MD of fcc Cu with an equiforce model."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
from ase import units
from ase.build import bulk
from ase.md.velocitydistribution import thermalize_momenta, Stationary
from ase.md.verlet import VelocityVerlet
from tqdm import tqdm

from potentials import EquivariantPotential, PotentialConfig

from .ase import EquiforceCalculator

__all__ = ["NVEDemoSettings", "NVEDemoResult", "run_nve_demo"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NVEDemoSettings:
    """Settings of the NVE demo (fcc Cu, lattice constant 3.61 A)."""

    repeat: int = 3            # cubic 4-atom cells per side: 3 -> 108 atoms
    steps: int = 300
    timestep_fs: float = 1.0
    temperature_k: float = 300.0
    seed: int = 0
    skin: float = 1.0          # Verlet skin, Angstrom
    dtype: str = "float64"

    def __post_init__(self) -> None:
        if self.repeat < 1 or self.steps < 1:
            raise ValueError("repeat and steps must be >= 1")
        if self.timestep_fs <= 0 or self.temperature_k < 0:
            raise ValueError("timestep must be positive and temperature non-negative")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")


@dataclass(frozen=True)
class NVEDemoResult:
    num_atoms: int
    total_energy: np.ndarray      # (steps + 1,) eV
    kinetic_energy: np.ndarray    # (steps + 1,) eV
    seconds_per_step: float
    neighbor_builds: int

    @property
    def drift_per_atom(self) -> float:
        """|E_total(end) - E_total(start)| / N in eV/atom."""
        return abs(self.total_energy[-1] - self.total_energy[0]) / self.num_atoms

    @property
    def total_energy_std(self) -> float:
        return float(np.std(self.total_energy))

    @property
    def kinetic_energy_std(self) -> float:
        return float(np.std(self.kinetic_energy))


def demo_potential(seed: int = 0, dtype: torch.dtype = torch.float64) -> EquivariantPotential:
    """A smooth random-weight Cu potential (32 channels, l_max 1, 2 layers, correlation 3)."""
    torch.manual_seed(seed)
    config = PotentialConfig(species=(29,), cutoff=5.0, l_max=1, channels=32, num_layers=2,
                             correlation=3, avg_num_neighbors=42.0, energy_scale=0.1)
    return EquivariantPotential(config, dtype=dtype)


def run_nve_demo(settings: NVEDemoSettings = NVEDemoSettings(), progress: bool = True) -> NVEDemoResult:
    """Velocity-Verlet NVE of fcc Cu; returns the energy traces and timings."""
    dtype = getattr(torch, settings.dtype)
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(settings.repeat)
    calc = EquiforceCalculator(demo_potential(settings.seed, dtype), skin=settings.skin)
    atoms.calc = calc
    thermalize_momenta(atoms, temperature_K=settings.temperature_k,
                                 rng=np.random.default_rng(settings.seed))
    Stationary(atoms)
    dyn = VelocityVerlet(atoms, timestep=settings.timestep_fs * units.fs)
    log.info("NVE demo: %d Cu atoms, %d steps of %.2f fs", len(atoms), settings.steps,
             settings.timestep_fs)
    potential, kinetic = [atoms.get_potential_energy()], [atoms.get_kinetic_energy()]
    start = time.perf_counter()
    for _ in tqdm(range(settings.steps), desc="NVE", unit="step", disable=not progress):
        dyn.run(1)
        potential.append(atoms.get_potential_energy())
        kinetic.append(atoms.get_kinetic_energy())
    elapsed = time.perf_counter() - start
    kinetic_arr = np.array(kinetic)
    return NVEDemoResult(len(atoms), np.array(potential) + kinetic_arr, kinetic_arr,
                         elapsed / settings.steps, calc.neighbors.n_builds)
