"""Labelling selected frames with a reference calculator (EMT, GFN2-xTB, amber14, or any
ASE calculator named by import path)."""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator

from ._files import scalar_info

__all__ = ["LabelSettings", "BUILTIN_CALCULATORS", "reference_calculator", "label_frame"]

log = logging.getLogger(__name__)


def _emt(**kwargs: Any) -> Calculator:
    from ase.calculators.emt import EMT

    return EMT(**kwargs)


def _xtb(**kwargs: Any) -> Calculator:
    try:
        from tblite.ase import TBLite
    except ImportError as error:
        raise ImportError("label.calculator 'xtb' needs tblite: pip install "
                          "'equiforce[xtb]'") from error
    return TBLite(**{"method": "GFN2-xTB", "verbosity": 0, **kwargs})


def _amber14(**kwargs: Any) -> Calculator:
    from potentials.datasets.openmm import Amber14Calculator

    return Amber14Calculator(**kwargs)


BUILTIN_CALCULATORS: dict[str, Callable[..., Calculator]] = {
    "emt": _emt, "xtb": _xtb, "amber14": _amber14}


@dataclass(frozen=True)
class LabelSettings:
    """Attributes:
        calculator: ``emt`` (ASE's EMT), ``xtb`` (GFN2-xTB through tblite), ``amber14``
            (protein-only amber14 through OpenMM; ``kwargs: {pdb: ...}``), or an import
            path ``package.module:Name`` of an ASE calculator class (or a function
            returning one).
        kwargs: keyword arguments of the calculator.
    """

    calculator: str = "emt"
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.calculator not in BUILTIN_CALCULATORS and ":" not in self.calculator:
            raise ValueError(f"label.calculator must be one of {', '.join(BUILTIN_CALCULATORS)} "
                             f"or an import path 'package.module:Name', got "
                             f"{self.calculator!r}")


def reference_calculator(settings: LabelSettings) -> Calculator:
    """The calculator ``settings`` names, constructed with its ``kwargs``.

    Raises:
        ValueError: an import path that does not resolve (naming the part that failed).
    """
    if settings.calculator in BUILTIN_CALCULATORS:
        return BUILTIN_CALCULATORS[settings.calculator](**settings.kwargs)
    module_name, _, name = settings.calculator.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"label.calculator {settings.calculator!r}: cannot import "
                         f"{module_name!r} ({error})") from error
    factory = getattr(module, name, None)
    if not callable(factory):
        raise ValueError(f"label.calculator {settings.calculator!r}: {module_name} has no "
                         f"callable {name!r}")
    return factory(**settings.kwargs)


def label_frame(atoms: Atoms, calculator: Calculator) -> Atoms:
    """A copy of ``atoms`` (positions, cell, pbc, info) labelled by ``calculator``:
    energy (eV), forces (N, 3) eV/A and, for fully periodic cells, stress (6,) eV/A^3.

    Raises:
        ValueError: the calculator returned NaN or infinite labels, or forces of the wrong
            shape.
        Exception: whatever the calculator raised.
    """
    frame = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
    frame.info.update(scalar_info(atoms))
    frame.calc = calculator
    results = {"energy": float(frame.get_potential_energy()),
               "forces": np.array(frame.get_forces(), dtype=float)}
    if atoms.pbc.all():
        results["stress"] = np.array(frame.get_stress(), dtype=float)
    if results["forces"].shape != (len(atoms), 3):
        raise ValueError(f"forces of shape {results['forces'].shape} for {len(atoms)} atoms")
    bad = [key for key, value in results.items() if not np.all(np.isfinite(value))]
    if bad:
        raise ValueError(f"the reference calculator returned non-finite {', '.join(bad)}")
    frame.calc = SinglePointCalculator(frame, **results)
    return frame

