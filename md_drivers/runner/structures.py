"""Starting structures: files read by ASE or pymatgen, or named built-ins."""
from __future__ import annotations

import re
from pathlib import Path

from ase import Atoms

__all__ = ["load_structure", "BUILTIN_LATTICES"]

BUILTIN_LATTICES = ("fcc", "bcc", "sc", "hcp", "diamond")
_BUILTIN = re.compile(r"^(?P<lattice>[a-z]+)-(?P<element>[A-Z][a-z]?)(:(?P<repeat>\d+x\d+x\d+))?$")


def load_structure(spec: str) -> Atoms:
    """Atoms from a file or a built-in.

    Built-ins are ``LATTICE-ELEMENT[:AxBxC]`` (for example ``fcc-Cu:4x4x4``: 4x4x4 cubic
    fcc cells of Cu at ASE's reference lattice constant, 256 atoms). Files: anything
    ``ase.io.read`` reads (extxyz, CIF, POSCAR, PDB, ...); if ASE fails, pymatgen's
    ``Structure.from_file`` / ``Molecule.from_file``. The last frame of a trajectory file
    is used.

    Raises:
        FileNotFoundError: neither a built-in nor an existing file.
        ValueError: a file neither reader understands, or a bad built-in.
    """
    match = _BUILTIN.match(spec)
    if match and not Path(spec).exists():
        return _builtin(match["lattice"], match["element"], match["repeat"] or "1x1x1")
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: no such structure file, and not a built-in like "
                                f"'fcc-Cu:4x4x4' (lattices: {', '.join(BUILTIN_LATTICES)})")
    return _read(path)


def _builtin(lattice: str, element: str, repeat: str) -> Atoms:
    from ase.build import bulk

    if lattice not in BUILTIN_LATTICES:
        raise ValueError(f"unknown built-in lattice {lattice!r}; choose from {BUILTIN_LATTICES}")
    counts = tuple(int(n) for n in repeat.split("x"))
    if min(counts) < 1:
        raise ValueError(f"repeat counts must be >= 1, got {repeat}")
    try:
        cell = bulk(element, lattice, orthorhombic=True) if lattice == "hcp" else \
            bulk(element, lattice, cubic=True)
    except (ValueError, KeyError, RuntimeError) as error:
        raise ValueError(f"cannot build {lattice} {element}: {error}") from error
    return cell.repeat(counts)


def _read(path: Path) -> Atoms:
    import ase.io

    try:
        return ase.io.read(path, index=-1)
    except Exception as ase_error:  # ASE raises many types for unknown formats
        try:
            return _read_pymatgen(path)
        except Exception as pmg_error:
            raise ValueError(f"{path}: neither ASE ({ase_error}) nor pymatgen ({pmg_error}) "
                             "could read it") from pmg_error


def _read_pymatgen(path: Path) -> Atoms:
    from pymatgen.core import Molecule, Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        return AseAtomsAdaptor.get_atoms(Structure.from_file(str(path)))
    except Exception:
        return AseAtomsAdaptor.get_atoms(Molecule.from_file(str(path)))
