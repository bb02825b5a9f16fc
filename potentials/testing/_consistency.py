"""Consistency checks: batches, the cutoff, and two implementations of one potential."""
from __future__ import annotations

from itertools import combinations_with_replacement
from typing import Optional, Sequence

from ase import Atoms

from ._evaluate import (PotentialLike, as_potential, assert_same_outputs, check, evaluate,
                        evaluate_batch, same_dtype_tolerance)

__all__ = ["assert_batch_matches_single", "assert_smooth_at_cutoff", "assert_potentials_agree"]


def assert_batch_matches_single(potential: PotentialLike, structures: Sequence,
                                rtol: Optional[float] = None) -> None:
    """Structures evaluated together in one batch give what each gives alone (no
    information leaks between the graphs of a batch).

    Raises:
        AssertionError: naming the structure, the quantity and the deviation.
    """
    potential = as_potential(potential)
    rtol = same_dtype_tolerance(potential, rtol)
    for index, (together, atoms) in enumerate(zip(evaluate_batch(potential, structures),
                                                  structures)):
        assert_same_outputs(together, evaluate(potential, atoms), rtol,
                     f"differs in a batch from alone (structure {index})")


def assert_smooth_at_cutoff(potential: PotentialLike, pairs: Optional[Sequence] = None,
                            gap: float = 1e-3, energy_atol: float = 1e-5,
                            force_atol: float = 1e-3) -> None:
    """Energy and forces go continuously to their values without the neighbour as two
    atoms separate through the cutoff: at ``cutoff - gap`` (A) the dimer's energy is
    within ``energy_atol`` (eV) of the separated atoms' and its forces below
    ``force_atol`` (eV/A). A hard or force-discontinuous cutoff makes MD drift.

    Args:
        pairs: pairs of atomic numbers to try (default: every pair of the potential's
            species).

    Raises:
        AssertionError: naming the pair and what jumps.
    """
    potential = as_potential(potential)
    cutoff = potential.cutoff
    for z1, z2 in pairs or combinations_with_replacement(potential.species, 2):
        far = evaluate(potential, _dimer(z1, z2, cutoff + 1.0))["energy"]
        near = evaluate(potential, _dimer(z1, z2, cutoff - gap))
        what = f"not smooth at the cutoff for the pair {z1}-{z2} at r = cutoff - {gap:g} A"
        check("forces", near["forces"], 0.0, force_atol, what)
        check("energy", near["energy"], far, energy_atol, what)


def assert_potentials_agree(potential: PotentialLike, reference: PotentialLike,
                            structures: Sequence, rtol: Optional[float] = None) -> None:
    """Two potentials (an exported file and its model, float32 and float64, two
    backends, ...) give the same energy, atomic energies, forces and stress on every
    structure.

    ``rtol`` defaults to the less precise of the two dtypes' tolerances.

    Raises:
        AssertionError: naming the structure, the quantity and the deviation.
    """
    potential, reference = as_potential(potential), as_potential(reference)
    rtol = rtol if rtol is not None else max(same_dtype_tolerance(potential, None),
                                             same_dtype_tolerance(reference, None))
    for index, atoms in enumerate(structures):
        assert_same_outputs(evaluate(potential, atoms), evaluate(reference, atoms), rtol,
                     f"differs from the reference (structure {index})")


def _dimer(z1: int, z2: int, distance: float) -> Atoms:
    return Atoms(numbers=[z1, z2], positions=[[0.0, 0.0, 0.0], [distance, 0.0, 0.0]])
