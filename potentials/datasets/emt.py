"""Reference data from ASE's EMT for fcc metals and alloys (bulk, vacancy, surface, strain).

Every frame records its structure kind in ``atoms.info["config_type"]`` (``bulk``,
``vacancy``, ``surface``, ``strained`` or ``isolated_atom``), the key ``equiforce train``
splits its error report by."""
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

__all__ = ["EMTSettings", "generate_emt", "isolated_atom"]

log = logging.getLogger(__name__)
EMT_ELEMENTS = ("Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt")
KINDS = ("bulk", "vacancy", "surface", "strained")
ISOLATED_ATOM = "isolated_atom"


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
        kinds: which structure kinds to sample (a subset of ``KINDS``).
        structures_per_kind_and_temperature: independent starting structures (each with
            its own random composition, strain and velocities) per kind and temperature;
            each gives ``frames_per_kind_and_temperature`` frames.
        alloy_fraction: with several elements, the fraction of atoms that are not
            ``elements[0]``, drawn uniformly from this (low, high) range for every
            structure (e.g. ``(0.1, 0.5)`` for Cu with 10-50% Au); ``None`` draws each
            atom's element uniformly.
        isolated_atoms: also write one frame per element: a single atom with no
            neighbours (no cell, no periodicity), labelled with EMT's energy of the free
            atom. ``equiforce train`` takes its reference energies from such frames.
    """

    elements: tuple[str, ...] = ("Cu",)
    frames_per_kind_and_temperature: int = 5
    temperatures: tuple[float, ...] = (300.0, 600.0, 900.0, 1200.0, 1500.0)
    repeat: int = 2
    equilibration_steps: int = 50
    stride: int = 20
    max_strain: float = 0.04
    seed: int = 0
    kinds: tuple[str, ...] = KINDS
    structures_per_kind_and_temperature: int = 1
    alloy_fraction: tuple[float, float] | None = None
    isolated_atoms: bool = True

    def __post_init__(self) -> None:
        unknown = [e for e in self.elements if e not in EMT_ELEMENTS]
        if unknown or not self.elements:
            raise ValueError(f"EMT elements must be among {EMT_ELEMENTS}, got {self.elements}")
        if min(self.frames_per_kind_and_temperature, self.repeat, self.stride,
               self.structures_per_kind_and_temperature) < 1:
            raise ValueError("frames, structures, repeat and stride must be >= 1")
        if not self.kinds or any(kind not in KINDS for kind in self.kinds):
            raise ValueError(f"EMT kinds must be among {KINDS}, got {self.kinds}")
        if self.alloy_fraction is not None:
            low, high = self.alloy_fraction
            if not 0 <= low <= high <= 1 or len(self.elements) < 2:
                raise ValueError(f"alloy_fraction must be 0 <= low <= high <= 1 with two or "
                                 f"more elements, got {self.alloy_fraction} for {self.elements}")


def generate_emt(settings: EMTSettings = EMTSettings()) -> list[Atoms]:
    """Labelled frames (energy eV, forces eV/A, stress eV/A^3 for bulk kinds) from EMT MD."""
    rng = np.random.default_rng(settings.seed)
    frames: list[Atoms] = []
    for kind in settings.kinds:
        for temperature in settings.temperatures:
            for _ in range(settings.structures_per_kind_and_temperature):
                start = _structure(kind, settings, rng)
                frames += _sample(start, kind, temperature, settings, rng)
            log.info("EMT %s at %.0f K: %d frames so far", kind, temperature, len(frames))
    if settings.isolated_atoms:
        frames += [isolated_atom(element) for element in settings.elements]
    return frames


def isolated_atom(element: str) -> Atoms:
    """One atom of ``element`` alone (no cell, no pbc) labelled with EMT's energy (eV)."""
    atoms = Atoms(element, positions=[[0.0, 0.0, 0.0]])
    atoms.calc = EMT()
    frame = _labelled_copy(atoms, 0.0)
    frame.info["config_type"] = ISOLATED_ATOM
    return frame


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
        atoms.symbols = _alloy_symbols(len(atoms), settings, rng)
    if kind == "vacancy":
        del atoms[int(rng.integers(len(atoms)))]
    if kind == "strained":
        strain = rng.uniform(-settings.max_strain, settings.max_strain, size=(3, 3))
        strain = 0.5 * (strain + strain.T)
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + strain), scale_atoms=True)
    return atoms


def _alloy_symbols(count: int, settings: EMTSettings, rng: np.random.Generator) -> list[str]:
    if settings.alloy_fraction is None:
        return list(rng.choice(settings.elements, size=count))
    fraction = rng.uniform(*settings.alloy_fraction)
    minority = int(round(fraction * count))
    symbols = [settings.elements[0]] * (count - minority)
    symbols += list(rng.choice(settings.elements[1:], size=minority))
    return list(rng.permutation(symbols))


def _sample(atoms: Atoms, kind: str, temperature: float, settings: EMTSettings,
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
        frames[-1].info["config_type"] = kind
    return frames


def _labelled_copy(atoms: Atoms, temperature: float) -> Atoms:
    frame = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces()}
    if atoms.pbc.all():
        results["stress"] = atoms.get_stress()
    frame.calc = SinglePointCalculator(frame, **results)
    frame.info["temperature_K"] = temperature
    return frame
