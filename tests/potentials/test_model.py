"""Symmetry, gradients, batching and cutoff smoothness of EquivariantPotential."""
import numpy as np
import pytest
import torch
from ase import Atoms

from potentials.testing import (assert_batch_matches_single, assert_equivariant,
                                assert_forces_match_finite_differences, assert_smooth_at_cutoff,
                                assert_wrap_invariant, evaluate,
                                random_orthogonal, transform_atoms)
from tests.structures import cu_slab, ethanol, small_model, triclinic_cu_au


@pytest.mark.parametrize("l_max", [1, 2, 3])
@pytest.mark.parametrize("correlation", [1, 3])
def test_invariance_and_equivariance_float64(l_max, correlation):
    model = small_model(l_max=l_max, correlation=correlation)
    for seed, atoms in enumerate([triclinic_cu_au(), ethanol()]):
        assert_equivariant(model, atoms, seed=seed, rtol=1e-9, reflect=True)
        assert_equivariant(model, atoms, seed=seed + 10, rtol=1e-9, reflect=False)


def test_equivariance_float32():
    model = small_model(dtype=torch.float32, correlation=3)
    assert_equivariant(model, triclinic_cu_au(), rtol=2e-4)


def test_l_max_zero_and_single_layer_models_run():
    for changes in (dict(l_max=0), dict(num_layers=1), dict(num_layers=3, correlation=1)):
        model = small_model(**changes)
        assert_equivariant(model, triclinic_cu_au(), rtol=1e-9)


@pytest.mark.parametrize("make_atoms", [triclinic_cu_au, ethanol, cu_slab])
def test_forces_equal_finite_differences(make_atoms):
    model = small_model(correlation=3)
    atoms = make_atoms()
    assert np.abs(evaluate(model, atoms)["forces"]).max() > 1e-3, "too symmetric a test"
    # every coordinate, except four random directions of the 16-atom slab
    directions = 4 if make_atoms is cu_slab else None
    assert_forces_match_finite_differences(model, atoms, delta=1e-5, rtol=1e-7,
                                           directions=directions)


def test_forces_sum_to_zero():
    out = evaluate(small_model(), triclinic_cu_au())
    np.testing.assert_allclose(out["forces"].sum(axis=0), 0.0, atol=1e-12)


def test_wrapped_and_unwrapped_positions_agree():
    assert_wrap_invariant(small_model(correlation=3), triclinic_cu_au(), seed=3, rtol=1e-10)


def test_batch_equals_each_structure_alone():
    assert_batch_matches_single(small_model(correlation=3),
                                [triclinic_cu_au(), ethanol(), cu_slab()], rtol=1e-10)


def test_isolated_atoms_have_zero_forces_and_their_reference_energy():
    model = small_model(atomic_energy_shifts=(-1.0, -2.0, -3.0, -4.0, -5.0))
    atoms = Atoms("CuAu", positions=[[0, 0, 0], [20, 0, 0]])
    out = evaluate(model, atoms)
    np.testing.assert_array_equal(out["forces"], 0.0)
    single = [evaluate(model, Atoms(s))["energy"] for s in ("Cu", "Au")]
    assert out["energy"] == pytest.approx(sum(single), abs=1e-12)
    assert single[0] - single[1] == pytest.approx(1.0, abs=1e-12), "shifts are not applied"


def test_energy_and_forces_are_smooth_as_a_neighbour_crosses_the_cutoff():
    model = small_model(correlation=3)
    cutoff = model.cutoff
    for gap in (1e-2, 1e-3, 1e-4):
        # the envelope vanishes like (1 - r/rc)^3, forces like (1 - r/rc)^2
        assert_smooth_at_cutoff(model, pairs=[(29, 79), (1, 8)], gap=gap,
                                energy_atol=50 * (gap / cutoff) ** 3,
                                force_atol=50 * (gap / cutoff) ** 2)
    far = evaluate(model, Atoms("CuAu", positions=[[0, 0, 0], [cutoff + 1.0, 0, 0]]))
    inner = evaluate(model, Atoms("CuAu", positions=[[0, 0, 0], [cutoff - 1.0, 0, 0]]))
    assert abs(inner["energy"] - far["energy"]) > 1e-4, "the pair must interact inside the cutoff"


def test_stress_is_symmetric_and_rotates_as_a_tensor():
    model = small_model()
    atoms = triclinic_cu_au()
    stress = evaluate(model, atoms)["stress"]
    np.testing.assert_allclose(stress, stress.T, atol=1e-12)
    rotation = random_orthogonal(4)
    rotated = evaluate(model, transform_atoms(atoms, rotation))["stress"]
    np.testing.assert_allclose(rotated, rotation @ stress @ rotation.T, atol=1e-11)


def test_molecule_stress_is_zero_volume_placeholder():
    out = evaluate(small_model(), ethanol())
    np.testing.assert_array_equal(out["stress"], 0.0)
