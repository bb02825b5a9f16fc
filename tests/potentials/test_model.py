"""Symmetry, gradients, batching and cutoff smoothness of EquivariantPotential."""
import numpy as np
import pytest
import torch
from ase import Atoms

from potentials import atoms_to_graph, batch_graphs
from potentials.testing import (assert_equivariant, evaluate, finite_difference_forces,
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


def test_equivariance_check_can_fail():
    """A model without parity tells mirror images apart: the reflection check must fail."""
    model = small_model(parity=False, l_max=2, correlation=3)
    atoms = ethanol()
    assert_equivariant(model, atoms, reflect=False)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(model, atoms, reflect=True)


@pytest.mark.parametrize("make_atoms", [triclinic_cu_au, ethanol, cu_slab])
def test_forces_equal_finite_differences(make_atoms):
    model = small_model(correlation=3)
    atoms = make_atoms()
    forces = evaluate(model, atoms)["forces"]
    reference = finite_difference_forces(model, atoms, delta=1e-5)
    assert np.abs(reference).max() > 1e-3, "test structure too symmetric to be meaningful"
    np.testing.assert_allclose(forces, reference, atol=1e-7 * np.abs(reference).max() + 1e-9)


def test_forces_sum_to_zero():
    out = evaluate(small_model(), triclinic_cu_au())
    np.testing.assert_allclose(out["forces"].sum(axis=0), 0.0, atol=1e-12)


def test_wrapped_and_unwrapped_positions_agree():
    model = small_model(correlation=3)
    atoms = triclinic_cu_au()
    unwrapped = atoms.copy()
    offsets = np.random.default_rng(3).integers(-2, 3, size=(len(atoms), 3))
    unwrapped.positions += offsets @ atoms.cell.array
    a, b = evaluate(model, atoms), evaluate(model, unwrapped)
    assert abs(a["energy"] - b["energy"]) < 1e-10
    np.testing.assert_allclose(a["forces"], b["forces"], atol=1e-10)
    np.testing.assert_allclose(a["stress"], b["stress"], atol=1e-10)


def test_batch_equals_each_structure_alone():
    model = small_model(correlation=3)
    structures = [triclinic_cu_au(), ethanol(), cu_slab()]
    graphs = [atoms_to_graph(s, model.cutoff, model.config.species) for s in structures]
    out = model(*batch_graphs(graphs).model_inputs())
    start = 0
    for k, atoms in enumerate(structures):
        alone = evaluate(model, atoms)
        stop = start + len(atoms)
        assert abs(out["energy"][k].item() - alone["energy"]) < 1e-10
        np.testing.assert_allclose(out["forces"][start:stop].detach().numpy(), alone["forces"],
                                   atol=1e-10)
        np.testing.assert_allclose(out["stress"][k].detach().numpy(), alone["stress"], atol=1e-12)
        start = stop


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
    far = evaluate(model, Atoms("CuAu", positions=[[0, 0, 0], [cutoff + 1.0, 0, 0]]))
    for gap in (1e-2, 1e-3, 1e-4):
        for distance, inside in ((cutoff - gap, True), (cutoff + gap, False)):
            out = evaluate(model, Atoms("CuAu", positions=[[0, 0, 0], [distance, 0, 0]]))
            assert np.isfinite(out["forces"]).all()
            # the envelope vanishes like (1 - r/rc)^3, forces like (1 - r/rc)^2
            assert abs(out["energy"] - far["energy"]) <= 50 * (gap / cutoff) ** 3
            assert np.abs(out["forces"]).max() <= 50 * (gap / cutoff) ** 2
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
