"""md_drivers.testing: OpenMM against the ASE calculator, for any potential form and cell."""
import pytest
from ase.build import bulk

from md_drivers.testing import assert_openmm_matches_ase
from potentials import export
from tests.structures import ethanol, small_model, triclinic_cu_au


def general_triclinic_cu(cell_order=(0, 1, 2)):
    """A primitive fcc cell as ASE gives it (left-handed with cell_order (1, 0, 2)): not
    in OpenMM's reduced form; positions outside the cell."""
    atoms = bulk("Cu", "fcc", a=3.61).repeat((3, 3, 3))
    atoms.set_cell(atoms.cell.array[list(cell_order)], scale_atoms=False)
    atoms.rattle(0.05, seed=3)
    atoms.positions += [7.0, -3.0, 2.0]
    return atoms


@pytest.mark.parametrize("platform, cell_order", [("Reference", (0, 1, 2)), ("CPU", (0, 1, 2)),
                                                 ("Reference", (1, 0, 2))])
def test_shipped_potential_on_a_general_triclinic_cell(platform, cell_order):
    assert_openmm_matches_ase("cu-emt", general_triclinic_cu(cell_order), platform=platform)


def test_in_memory_model_and_its_exported_file(tmp_path):
    model = small_model()
    path = export(model, tmp_path / "model.pt")
    for potential in (model, path):
        assert_openmm_matches_ase(potential, triclinic_cu_au())
        assert_openmm_matches_ase(potential, ethanol())


def test_a_unit_slip_at_the_boundary_fails_the_check(monkeypatch):
    import md_drivers.openmm._python_backend as backend

    monkeypatch.setattr(backend, "NM_IN_ANGSTROM", 1.0)   # nm read as Angstrom
    with pytest.raises(AssertionError, match="OpenMM energy"):
        assert_openmm_matches_ase("cu-emt", general_triclinic_cu())


def test_a_wrong_frame_fails_the_check(monkeypatch):
    """Forces left in OpenMM's rotated frame (not brought back to the user's) are caught."""
    from md_drivers.openmm.system import OpenMMSystem

    monkeypatch.setattr(OpenMMSystem, "to_user", lambda self, vectors: vectors)
    with pytest.raises(AssertionError, match="OpenMM forces differ"):
        assert_openmm_matches_ase("cu-emt", general_triclinic_cu())
