"""Committee calculator: means equal the members' average; spread zero only for identical members."""
import numpy as np
import pytest

from md_drivers.ase import EquiforceCalculator
from md_drivers.committee import CommitteeCalculator
from potentials import export
from tests.structures import small_model, triclinic_cu_au


# one worker builds the module-scoped fixture, once (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("committee")


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    folder = tmp_path_factory.mktemp("committee")
    return [str(export(small_model(seed=s), folder / f"m{s}.pt")) for s in (0, 1, 2)]


def test_identical_members_have_zero_spread(members):
    atoms = triclinic_cu_au()
    atoms.calc = CommitteeCalculator([members[0], members[0]])
    atoms.get_forces()
    assert atoms.calc.results["energy_std"] == 0.0
    assert np.all(atoms.calc.results["forces_std"] == 0.0)


def test_different_members_mean_and_spread(members):
    atoms = triclinic_cu_au()
    singles = []
    for path in members:
        copy = atoms.copy()
        copy.calc = EquiforceCalculator(path)
        singles.append((copy.get_potential_energy(), copy.get_forces(), copy.get_stress()))
    atoms.calc = CommitteeCalculator(members)
    forces = np.stack([f for _, f, _ in singles])
    np.testing.assert_allclose(atoms.get_forces(), forces.mean(axis=0), atol=1e-12)
    assert atoms.get_potential_energy() == pytest.approx(np.mean([e for e, _, _ in singles]))
    np.testing.assert_allclose(atoms.get_stress(), np.mean([s for _, _, s in singles], axis=0),
                               atol=1e-12)
    spread = atoms.calc.results["forces_std"]
    expected = np.sqrt(((forces - forces.mean(axis=0)) ** 2).sum(axis=2).mean(axis=0))
    np.testing.assert_allclose(spread, expected, atol=1e-12)
    assert spread.min() > 0 and atoms.calc.results["max_forces_std"] == spread.max()


def test_committee_needs_compatible_members(members, tmp_path):
    with pytest.raises(ValueError, match="at least two"):
        CommitteeCalculator(members[:1])
    other = export(small_model(cutoff=3.5), tmp_path / "other.pt")
    with pytest.raises(ValueError, match="member 1"):
        CommitteeCalculator([members[0], str(other)])


def test_runner_logs_spread_and_saves_uncertain_frames(members, tmp_path):
    import ase.io

    from md_drivers.runner import MDConfig, run_md

    atoms = triclinic_cu_au()
    ase.io.write(tmp_path / "start.extxyz", atoms)
    config = MDConfig(structure=str(tmp_path / "start.extxyz"), potential=tuple(members),
                      ensemble="nvt-langevin", steps=20, output_interval=5,
                      checkpoint_interval=10, committee_threshold=1e-6,
                      watchdog={"min_distance": 0.3, "max_force": 1e3})
    summary = run_md(config, tmp_path / "run", progress=False)
    assert summary.max_forces_std_eV_A > 0 and summary.uncertain_frames == 5
    saved = ase.io.read(tmp_path / "run" / "uncertain_frames.extxyz", ":")
    assert len(saved) == 5 and saved[0].arrays["forces_std"].shape == (len(atoms),)
