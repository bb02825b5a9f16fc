"""Checks for any equiforce potential: an in-memory model, a deployed one, or a file.

The checks equiforce runs on its own models, for yours::

    from potentials.testing import check_potential
    check_potential("my_model.pt", [crystal, slab, molecule])    # all of them, or one:

    from potentials.testing import assert_equivariant
    assert_equivariant(model, atoms)

Every function takes a potential as :func:`as_potential` accepts it (an
:class:`~potentials.EquivariantPotential` or :class:`~potentials.FastPotential`, a
:class:`~potentials.DeployedPotential`, or a path / shipped name) and ``ase.Atoms``, and
raises ``AssertionError`` naming the quantity and its largest deviation. Default
tolerances are for float64 (float32 where the docstring says so). The OpenMM-against-ASE
check is :func:`md_drivers.testing.assert_openmm_matches_ase`.
"""
from __future__ import annotations

from typing import Sequence

from ._consistency import assert_batch_matches_single, assert_potentials_agree, assert_smooth_at_cutoff
from ._evaluate import PotentialLike, as_potential, evaluate, evaluate_batch
from ._gradients import (assert_forces_match_finite_differences,
                         assert_stress_matches_finite_strain, finite_difference_forces,
                         finite_difference_stress)
from ._symmetry import assert_equivariant, assert_wrap_invariant, random_orthogonal, transform_atoms

__all__ = [
    "PotentialLike",
    "as_potential",
    "assert_batch_matches_single",
    "assert_equivariant",
    "assert_forces_match_finite_differences",
    "assert_potentials_agree",
    "assert_smooth_at_cutoff",
    "assert_stress_matches_finite_strain",
    "assert_wrap_invariant",
    "check_potential",
    "evaluate",
    "evaluate_batch",
    "finite_difference_forces",
    "finite_difference_stress",
    "random_orthogonal",
    "transform_atoms",
]


def check_potential(potential: PotentialLike, structures: Sequence,
                    finite_differences: bool = True) -> None:
    """Every check of this module on ``structures`` (``ase.Atoms``; include a periodic
    one for the stress and wrapping checks): equivariance with and without reflection,
    wrapping, batching, cutoff smoothness and, with ``finite_differences`` (float64
    only), forces against finite differences (every coordinate up to 20 atoms, 6N
    energies; four random directions above) and stress against finite strain.

    Raises:
        AssertionError: the first check that fails, naming it.
    """
    potential = as_potential(potential)
    for seed, atoms in enumerate(structures):
        assert_equivariant(potential, atoms, seed=seed, reflect=True)
        assert_equivariant(potential, atoms, seed=seed + 100, reflect=False)
        if any(atoms.pbc):
            assert_wrap_invariant(potential, atoms, seed=seed)
        if finite_differences:
            assert_forces_match_finite_differences(
                potential, atoms, directions=None if len(atoms) <= 20 else 4)
            if all(atoms.pbc):
                assert_stress_matches_finite_strain(potential, atoms)
    assert_batch_matches_single(potential, structures)
    assert_smooth_at_cutoff(potential)
