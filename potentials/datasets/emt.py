"""Reference data from ASE's EMT for fcc metals and alloys (bulk, vacancy, surface, strain)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from ase import Atoms, units
from ase.build import bulk, fcc111
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import atomic_numbers, reference_states
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta

__all__ = ["EMTSettings", "generate_emt"]

log = logging.getLogger(__name__)
EMT_ELEMENTS = ("Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt")
KINDS = ("bulk", "vacancy", "surface", "strained")


@dataclass(frozen=True)
class EMTSettings:
    """What to sample.

    Attributes:
        elements: EMT elements; more than one makes random substitutional alloys.
        frames_per_kind_and_temperature: sampled frames for every structure kind and
            temperature.
        temperatures: Langevin temperatures in K.
        repeat: cubic fcc cells per side of the bulk cells (2 -> 32 atoms).
        equilibration_steps, stride: MD steps (2 fs) before sampling and between frames.
        max_strain: largest random strain component for the ``strained`` kind.
        seed: everything is deterministic given it.
    """

    elements: tuple[str, ...] = ("Cu",)
    frames_per_kind_and_temperature: int = 5
    temperatures: tuple[float, ...] = (300.0, 600.0, 900.0, 1200.0, 1500.0)
    repeat: int = 2
    equilibration_steps: int = 50
    stride: int = 20
    max_strain: float = 0.04
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = [e for e in self.elements if e not in EMT_ELEMENTS]
        if unknown or not self.elements:
            raise ValueError(f"EMT elements must be among {EMT_ELEMENTS}, got {self.elements}")
        if self.frames_per_kind_and_temperature < 1 or self.repeat < 1 or self.stride < 1:
            raise ValueError("frames, repeat and stride must be >= 1")


def generate_emt(settings: EMTSettings = EMTSettings()) -> list[Atoms]:
    """Labelled frames (energy eV, forces eV/A, stress eV/A^3 for bulk kinds) from EMT MD."""
    rng = np.random.default_rng(settings.seed)
    frames: list[Atoms] = []
    for kind in KINDS:
        for temperature in settings.temperatures:
            start = _structure(kind, settings, rng)
            frames += _sample(start, temperature, settings, rng)
            log.info("EMT %s at %.0f K: %d frames so far", kind, temperature, len(frames))
    return frames


def _lattice_constant(elements: Sequence[str]) -> float:
    return float(np.mean([reference_states[atomic_numbers[e]]["a"] for e in elements]))


def _structure(kind: str, settings: EMTSettings, rng: np.random.Generator) -> Atoms:
    a = _lattice_constant(settings.elements)
    if kind == "surface":
        atoms = fcc111(settings.elements[0], size=(3, 3, 4), a=a, vacuum=6.0)
        atoms.pbc = [True, True, False]
    else:
        atoms = bulk(settings.elements[0], "fcc", a=a, cubic=True).repeat(settings.repeat)
    if len(settings.elements) > 1:
        atoms.symbols = rng.choice(settings.elements, size=len(atoms))
    if kind == "vacancy":
        del atoms[int(rng.integers(len(atoms)))]
    if kind == "strained":
        strain = rng.uniform(-settings.max_strain, settings.max_strain, size=(3, 3))
        strain = 0.5 * (strain + strain.T)
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + strain), scale_atoms=True)
    return atoms


def _sample(atoms: Atoms, temperature: float, settings: EMTSettings,
            rng: np.random.Generator) -> list[Atoms]:
    atoms = atoms.copy()
    atoms.calc = EMT()
    thermalize_momenta(atoms, temperature_K=temperature, rng=rng)
    dyn = Langevin(atoms, 2 * units.fs, temperature_K=temperature, friction=0.02 / units.fs,
                   fixcm=False, rng=rng)
    dyn.run(settings.equilibration_steps)
    frames = []
    for _ in range(settings.frames_per_kind_and_temperature):
        dyn.run(settings.stride)
        frames.append(_labelled_copy(atoms, temperature))
    return frames


def _labelled_copy(atoms: Atoms, temperature: float) -> Atoms:
    frame = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
    if atoms.pbc.all():
        results["stress"] = atoms.get_stress()
    frame.calc = SinglePointCalculator(frame, **results)
    frame.info["temperature_K"] = temperature
    return frame
