"""Labelled structures for training: reading, validation, splits and data statistics."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

from ..neighbors import neighbor_list

__all__ = ["LabelKeys", "Frame", "DataError", "read_frames", "frames_from_structures",
           "split_indices", "fit_reference_energies", "average_num_neighbors",
           "force_rms", "data_hash"]


class DataError(ValueError):
    """A malformed training frame; the message names the source and the frame index."""


@dataclass(frozen=True)
class LabelKeys:
    """Where the labels live in each ``ase.Atoms`` (``atoms.info`` / ``atoms.arrays``).

    ``"energy"``, ``"forces"`` and ``"stress"`` also accept a single-point calculator's
    results, as extxyz files written by ASE store them there. Data in other codes'
    conventions load without editing: each key is also looked up with MACE's ``REF_``
    prefix (``REF_energy``, ``REF_forces``, ``REF_stress``); stress may be 6 (Voigt), 9 or
    3x3 numbers; without a stress, a ``virial`` (NequIP) or ``REF_virials`` (MACE), in eV,
    gives ``stress = -virial / volume``. ``config_type`` names the ``atoms.info`` key
    whose value (bulk, slab, ...) the error report is split by; frames without it are
    ``"unlabelled"``.
    """

    energy: str = "energy"
    forces: str = "forces"
    stress: str = "stress"
    virial: str = "virial"
    config_type: str = "config_type"


@dataclass(frozen=True)
class Frame:
    """One labelled structure: energy (eV), forces (N, 3) eV/A, stress (3, 3) eV/A^3 or
    None, and its configuration kind (``None`` when the data names none)."""

    atoms: Atoms
    energy: float
    forces: np.ndarray
    stress: Optional[np.ndarray]
    config_type: Optional[str] = None


def read_frames(path: str | Path, keys: LabelKeys = LabelKeys(),
                species: Optional[Sequence[int]] = None, index: str = ":") -> list[Frame]:
    """Read every frame of an extxyz file or ASE database through ``ase.io.read``.

    Raises:
        DataError: naming the frame index and the problem (missing energy or forces,
            NaN labels, forces of the wrong shape, an element outside ``species``).
    """
    from ase.io import read

    images = read(str(path), index=index)
    return frames_from_structures(images, keys, species, source=str(path))


def frames_from_structures(structures: Sequence, keys: LabelKeys = LabelKeys(),
                           species: Optional[Sequence[int]] = None,
                           source: str = "structures") -> list[Frame]:
    """Frames from ``ase.Atoms`` or pymatgen ``Structure``/``Molecule`` objects with labels.

    pymatgen objects carry labels in ``properties`` (energy, stress) and
    ``site_properties`` (forces) under the same keys.
    """
    return [_frame(_as_atoms(s, keys), keys, species, source, k) for k, s in enumerate(structures)]


def _as_atoms(structure, keys: LabelKeys) -> Atoms:
    if isinstance(structure, Atoms):
        return structure
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(structure)
    for key in (keys.energy, keys.stress):
        if key in getattr(structure, "properties", {}):
            atoms.info[key] = structure.properties[key]
    forces = structure.site_properties.get(keys.forces) if structure.site_properties else None
    if forces is not None:
        atoms.arrays[keys.forces] = np.asarray(forces, dtype=float)
    return atoms


def _frame(atoms: Atoms, keys: LabelKeys, species, source: str, index: int) -> Frame:
    where = f"{source}: frame {index}"
    energy = _label(atoms, keys.energy, "info")
    forces = _label(atoms, keys.forces, "arrays")
    stress = _label(atoms, keys.stress, "info")
    if stress is None:
        stress = _stress_from_virial(atoms, _label(atoms, keys.virial, "info"), where)
    if energy is None:
        raise DataError(f"{where}: no energy (looked for key {keys.energy!r})")
    if forces is None:
        raise DataError(f"{where}: no forces (looked for key {keys.forces!r})")
    energy = float(np.asarray(energy).reshape(-1)[0])
    forces = np.asarray(forces, dtype=float)
    if forces.shape != (len(atoms), 3):
        raise DataError(f"{where}: forces have shape {forces.shape}, expected ({len(atoms)}, 3)")
    if not np.isfinite(energy) or not np.isfinite(forces).all():
        raise DataError(f"{where}: energy or forces contain NaN or inf")
    if not np.isfinite(atoms.positions).all():
        raise DataError(f"{where}: positions contain NaN or inf")
    if stress is not None:
        stress = _stress_3x3(np.asarray(stress, dtype=float), where)
    if species is not None:
        unknown = sorted(set(atoms.numbers.tolist()) - set(species))
        if unknown:
            names = ", ".join(chemical_symbols[z] for z in unknown)
            raise DataError(f"{where}: element(s) {names} outside the model's species "
                            f"{', '.join(chemical_symbols[z] for z in species)}")
    kind = atoms.info.get(keys.config_type)
    return Frame(atoms=atoms, energy=energy, forces=forces, stress=stress,
                 config_type=None if kind is None else str(kind))


def _label(atoms: Atoms, key: str, place: str):
    """``key``, else MACE's ``REF_key`` (and ``REF_keys``), from ``atoms.info`` or
    ``atoms.arrays`` or a single-point calculator's results."""
    store = atoms.info if place == "info" else atoms.arrays
    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    for name in (key, f"REF_{key}", f"REF_{key}s"):
        if name in store:
            return store[name]
        if name in results:
            return results[name]
    return None


def _stress_from_virial(atoms: Atoms, virial, where: str) -> Optional[np.ndarray]:
    """``-virial / volume`` (eV/A^3, ASE sign) from a virial in eV; None without one."""
    if virial is None:
        return None
    if not atoms.pbc.all() or abs(atoms.cell.volume) < 1e-9:
        raise DataError(f"{where}: a virial needs a periodic 3D cell to give a stress")
    return -_stress_3x3(np.asarray(virial, dtype=float), where) / atoms.cell.volume


def _stress_3x3(stress: np.ndarray, where: str) -> np.ndarray:
    from ase.stress import voigt_6_to_full_3x3_stress

    if stress.shape == (6,):
        stress = voigt_6_to_full_3x3_stress(stress)
    elif stress.shape == (9,):
        stress = stress.reshape(3, 3)
    if stress.shape != (3, 3):
        raise DataError(f"{where}: stress has shape {stress.shape}, expected 6, 9 or 3x3 "
                        "numbers")
    if not np.isfinite(stress).all():
        raise DataError(f"{where}: stress contains NaN or inf")
    return stress


def split_indices(num_frames: int, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic train/validation/test indices from a seeded permutation."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, "
                         f"got {fractions}")
    order = np.random.default_rng(seed).permutation(num_frames)
    n_train = int(round(fractions[0] * num_frames))
    n_valid = int(round(fractions[1] * num_frames))
    return order[:n_train], order[n_train:n_train + n_valid], order[n_train + n_valid:]


def fit_reference_energies(frames: Sequence[Frame], species: Sequence[int]) -> np.ndarray:
    """Per-species energies (eV) minimising ``sum_f (E_f - sum_s n_fs e_s)^2``.

    Returns one value per entry of ``species`` (least squares; minimum-norm when the
    compositions do not determine them all).
    """
    counts = np.array([[np.count_nonzero(f.atoms.numbers == z) for z in species] for f in frames],
                      dtype=float)
    energies = np.array([f.energy for f in frames])
    solution, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return solution


def average_num_neighbors(frames: Sequence[Frame], cutoff: float) -> float:
    """Mean number of neighbours within ``cutoff`` (A) per atom over the frames."""
    import torch

    edges = atoms = 0
    for frame in frames:
        a = frame.atoms
        edge_index, _ = neighbor_list(torch.tensor(a.positions), torch.tensor(a.cell.array),
                                      torch.tensor(a.pbc), cutoff)
        edges += edge_index.shape[1]
        atoms += len(a)
    return max(edges / max(atoms, 1), 1.0)


def force_rms(frames: Sequence[Frame]) -> float:
    """Root mean square force component (eV/A) over the frames."""
    return float(np.sqrt(np.mean(np.concatenate([f.forces.ravel() for f in frames]) ** 2)))


def data_hash(frames: Sequence[Frame]) -> str:
    """SHA-256 of numbers, positions, cell and labels: the data's identity in provenance."""
    digest = hashlib.sha256()
    for f in frames:
        for array in (f.atoms.numbers, f.atoms.positions, f.atoms.cell.array, f.forces,
                      np.array([f.energy])):
            digest.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return digest.hexdigest()
