"""Starting structures: files read by ASE or pymatgen, or named built-ins."""
from __future__ import annotations

import re
from pathlib import Path

from ase import Atoms

__all__ = ["load_structure", "BUILTIN_LATTICES"]

BUILTIN_LATTICES = ("fcc", "bcc", "sc", "hcp", "diamond")
_BUILTIN = re.compile(r"^(?P<kind>[a-z]+)-(?P<name>[A-Za-z0-9_]+)(?P<options>(:[^:]+)*)$")
_REPEAT = re.compile(r"^\d+x\d+x\d+$")
_CONSTANT = re.compile(r"^(?P<key>a|c)=(?P<value>.+)$")


def load_structure(spec: str) -> Atoms:
    """Atoms from a file or a built-in.

    Built-ins:

    - ``LATTICE-ELEMENT[:AxBxC][:a=A][:c=C]``: a bulk crystal from ``ase.build.bulk``,
      cubic cells (orthorhombic for hcp) repeated AxBxC times; lattice constants ``a``
      (and ``c`` for hcp) in A, by default ASE's reference values where it has them.
      ``fcc-Cu:4x4x4`` is 256 atoms; ``bcc-Fe:4x4x4:a=2.87`` is 128.
    - ``molecule-NAME``: a molecule from ASE's G2 set (``molecule-CH3CH2OH`` is the
      ethanol of the shipped ``ethanol-xtb`` potential), not periodic.

    Files: anything ``ase.io.read`` reads (extxyz, CIF, POSCAR, PDB, ...); the last frame
    of a trajectory. pymatgen's ``Structure.from_file`` / ``Molecule.from_file`` is tried
    only for files whose format ASE does not know, so a broken file in ASE's format
    (an xyz file one line short) is an error rather than a smaller structure.

    Raises:
        FileNotFoundError: neither a built-in nor an existing file.
        ValueError: a file that cannot be read, or a bad built-in.
    """
    match = _BUILTIN.match(spec)
    if match and not Path(spec).exists():
        if match["kind"] == "molecule":
            return _molecule(match["name"], match["options"])
        return _crystal(match["kind"], match["name"], match["options"])
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: no such structure file, and not a built-in like "
                                f"'fcc-Cu:4x4x4', 'bcc-Fe:4x4x4:a=2.87' or 'molecule-CH3CH2OH' "
                                f"(lattices: {', '.join(BUILTIN_LATTICES)})")
    return _read(path)


def _crystal(lattice: str, element: str, options: str) -> Atoms:
    from ase.build import bulk

    if lattice not in BUILTIN_LATTICES:
        raise ValueError(f"unknown built-in lattice {lattice!r}; choose from "
                         f"{', '.join(BUILTIN_LATTICES)} or 'molecule'")
    repeat, constants = _options(options, f"{lattice}-{element}")
    try:
        cell = bulk(element, lattice, orthorhombic=lattice == "hcp", cubic=lattice != "hcp",
                    **constants)
    except (ValueError, KeyError, RuntimeError) as error:
        hint = "2.87" if lattice != "hcp" else "3.21:c=5.21"
        reason = str(error).rstrip(".")
        raise ValueError(f"cannot build {lattice} {element}: {reason}; give the lattice "
                         f"constant in A, e.g. {lattice}-{element}:4x4x4:a={hint}") from error
    return cell.repeat(repeat)


def _options(options: str, name: str) -> tuple[tuple[int, int, int], dict[str, float]]:
    """``:AxBxC``, ``:a=X`` and ``:c=Y`` in any order."""
    repeat, constants = (1, 1, 1), {}
    for option in filter(None, options.split(":")):
        constant = _CONSTANT.match(option)
        if _REPEAT.match(option):
            repeat = tuple(int(n) for n in option.split("x"))
            if min(repeat) < 1:
                raise ValueError(f"{name}: repeat counts must be >= 1, got {option}")
        elif constant:
            constants[constant["key"]] = _length(constant["value"], name, constant["key"])
        else:
            raise ValueError(f"{name}: cannot read option {option!r}; options are a repeat "
                             "AxBxC and lattice constants a=<A>, c=<A>")
    return repeat, constants


def _length(text: str, name: str, key: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name}: lattice constant {key} must be a positive number of A, "
                         f"got {text!r}")
    return value


def _molecule(name: str, options: str) -> Atoms:
    from ase.build import molecule
    from ase.collections import g2

    if options:
        raise ValueError(f"molecule-{name}: a molecule takes no options, got {options!r}")
    if name not in g2.names:
        raise ValueError(f"unknown molecule {name!r}; ASE's G2 set has, e.g., CH3CH2OH, H2O, "
                         "CH4, C6H6 (see ase.collections.g2.names)")
    return molecule(name)


def _read(path: Path) -> Atoms:
    import ase.io
    from ase.io.formats import UnknownFileTypeError

    try:
        return ase.io.read(path, index=-1)
    except UnknownFileTypeError as ase_error:
        try:
            return _read_pymatgen(path)
        except Exception as pmg_error:
            raise ValueError(f"{path}: neither ASE ({ase_error}) nor pymatgen ({pmg_error}) "
                             "could read it") from pmg_error
    except Exception as error:  # ASE knows the format: its error is the answer
        raise ValueError(f"{path}: cannot read it as {_format_of(path)}: "
                         f"{type(error).__name__}: {error}") from error


def _format_of(path: Path) -> str:
    from ase.io.formats import filetype

    try:
        return filetype(str(path))
    except Exception:
        return "a structure"


def _read_pymatgen(path: Path) -> Atoms:
    from pymatgen.core import Molecule, Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        return AseAtomsAdaptor.get_atoms(Structure.from_file(str(path)))
    except Exception:
        return AseAtomsAdaptor.get_atoms(Molecule.from_file(str(path)))
