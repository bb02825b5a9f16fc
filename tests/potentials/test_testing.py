"""potentials.testing: passes on sound potentials in every form, fails on each flaw."""
import pytest
import torch

from potentials import DeployedPotential, export, load
from potentials.testing import (as_potential, assert_batch_matches_single, assert_equivariant,
                                assert_forces_match_finite_differences, assert_potentials_agree,
                                assert_smooth_at_cutoff, assert_stress_matches_finite_strain,
                                assert_wrap_invariant, check_potential, random_orthogonal)
from tests.potentials._toy_potentials import toy_potential
from tests.structures import cu_slab, ethanol, small_model, triclinic_cu_au

# the kit's small-model structures: Cu/Au crystal and slab (the toy knows Cu and Au only)
CRYSTAL_AND_SLAB = [triclinic_cu_au(), cu_slab()]


@pytest.fixture(scope="module")
def model():
    return small_model(correlation=3, species=(1, 6, 8, 29, 79))


def test_every_check_passes_on_an_in_memory_model(model):
    """Forces against finite differences are the kit's slowest check (6N energies); they
    run on this model in test_model.py, and here on the toy."""
    check_potential(model, [triclinic_cu_au(), cu_slab(), ethanol()], finite_differences=False)
    assert_stress_matches_finite_strain(model, triclinic_cu_au())


def test_every_check_passes_on_an_exported_file_and_its_deployed_potential(tmp_path, model):
    path = export(model, tmp_path / "model.pt")
    check_potential(path, [triclinic_cu_au(), ethanol()], finite_differences=False)
    check_potential(load(path), [triclinic_cu_au()], finite_differences=False)
    assert_potentials_agree(path, model, [triclinic_cu_au(), cu_slab(), ethanol()])
    assert_potentials_agree(load(path, dtype="float32"), model, [triclinic_cu_au()])


def test_a_shipped_name_is_accepted():
    potential = as_potential("cu-emt")
    assert isinstance(potential, DeployedPotential) and potential.path.name == "cu-emt.pt"
    with pytest.raises(TypeError, match="expected a model"):
        as_potential(42)


def test_a_sound_toy_passes_every_check():
    """The flawed toys below differ from this one by one flaw each."""
    check_potential(toy_potential(), CRYSTAL_AND_SLAB)


@pytest.mark.parametrize("flaws, check, message", [
    (dict(anisotropy=0.5), lambda p: assert_equivariant(p, triclinic_cu_au(), reflect=False),
     "energy not equivariant"),
    (dict(power=0), lambda p: assert_smooth_at_cutoff(p), "energy not smooth at the cutoff"),
    (dict(power=1), lambda p: assert_smooth_at_cutoff(p), "forces not smooth at the cutoff"),
    (dict(force_scale=1.01), lambda p: assert_forces_match_finite_differences(p, cu_slab()),
     "forces differ from finite differences"),
    (dict(force_scale=1.01),
     lambda p: assert_forces_match_finite_differences(p, cu_slab(), directions=2),
     "forces differ from finite differences along a random direction"),
    (dict(stress_scale=0.5), lambda p: assert_stress_matches_finite_strain(p, triclinic_cu_au()),
     "stress differs from finite strain"),
    (dict(ignore_shifts=True), lambda p: assert_wrap_invariant(p, triclinic_cu_au()),
     "changed by unwrapping"),
    (dict(batch_leak=1e-3), lambda p: assert_batch_matches_single(p, CRYSTAL_AND_SLAB),
     "in a batch from alone"),
])
def test_each_check_fails_on_the_flaw_it_is_for(flaws, check, message):
    with pytest.raises(AssertionError, match=message):
        check(toy_potential(**flaws))
    with pytest.raises(AssertionError, match=message.split()[0]):
        check_potential(toy_potential(**flaws), CRYSTAL_AND_SLAB)


def test_reflection_check_fails_for_a_model_without_parity():
    """Without parity the model tells mirror images apart (a real architectural choice)."""
    model = small_model(parity=False, l_max=2, correlation=3)
    assert_equivariant(model, ethanol(), reflect=False)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(model, ethanol(), reflect=True)


def test_two_different_models_do_not_agree(model):
    with pytest.raises(AssertionError, match="differs from the reference"):
        assert_potentials_agree(small_model(seed=1, correlation=3), model, [ethanol()])


def test_random_orthogonal_is_orthogonal_seeded_and_leaves_torch_rng_alone():
    state = torch.random.get_rng_state()
    rotation = random_orthogonal(3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert abs(rotation @ rotation.T - torch.eye(3).numpy()).max() < 1e-14
    assert (random_orthogonal(3) == rotation).all() and not (random_orthogonal(4) == rotation).all()
    assert abs(float(torch.linalg.det(torch.as_tensor(rotation))) - 1) < 1e-12
    assert abs(float(torch.linalg.det(torch.as_tensor(random_orthogonal(3, reflect=True)))) + 1) < 1e-12


def test_wrap_check_needs_a_periodic_structure(model):
    with pytest.raises(ValueError, match="periodic"):
        assert_wrap_invariant(model, ethanol())
