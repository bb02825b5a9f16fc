"""Protein frames from OpenMM: shapes, and forces that are minus the gradient in eV/A."""
import numpy as np
import pytest

from potentials.datasets.openmm import (OpenMMSettings, _label, _protein_context,
                                        generate_openmm, is_solvent, villin_pdb)


# one worker builds the module-scoped fixture, once (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("datasets_openmm")


@pytest.fixture(scope="module")
def frames():
    return generate_openmm(OpenMMSettings(temperatures=(300.0,), frames_per_temperature=2,
                                          equilibration_steps=10, stride=5,
                                          minimize_iterations=20))


def test_villin_frames_hold_only_the_protein(frames):
    assert len(frames) == 2
    assert len(frames[0]) == 582  # villin headpiece with hydrogens; water and Cl- removed
    assert set(frames[0].numbers) <= {1, 6, 7, 8, 16}
    assert not frames[0].pbc.any()
    assert not np.allclose(frames[0].positions, frames[1].positions), "MD must move the protein"


def test_labels_are_consistent_in_ev_and_angstrom(frames):
    """Central differences of the labelled energy (eV) over displacements in Angstrom must
    give the labelled forces: a wrong kJ/mol or nm conversion breaks this."""
    import openmm.app as app
    import openmm.unit as unit

    pdb = app.PDBFile(villin_pdb())
    forcefield = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
    protein = [a.index for a in pdb.topology.atoms() if not is_solvent(a.residue)]
    context = _protein_context(pdb, forcefield, protein, "Reference")  # double precision
    numbers = list(frames[0].numbers)

    def label(positions):
        return _label(context, numbers, unit.Quantity(positions / 10.0, unit.nanometer), 300.0)

    frame = label(frames[0].positions)
    np.testing.assert_allclose(frames[0].get_forces(), frame.get_forces(), rtol=1e-3, atol=1e-3)
    delta = 1e-3  # Angstrom
    for atom, axis in ((0, 0), (100, 1), (400, 2)):
        energies = []
        for sign in (1, -1):
            positions = frame.positions.copy()
            positions[atom, axis] += sign * delta
            energies.append(label(positions).get_potential_energy())
        numeric = -(energies[0] - energies[1]) / (2 * delta)
        # O(delta^2) truncation leaves ~1e-4 relative; a unit error would be a factor 10 or 96
        assert numeric == pytest.approx(frame.get_forces()[atom, axis], rel=3e-4, abs=1e-5)


def test_amber14_calculator_reproduces_the_generated_labels(frames):
    from potentials.datasets import Amber14Calculator

    calculator = Amber14Calculator(platform="Reference")
    atoms = frames[1].copy()
    atoms.calc = calculator
    np.testing.assert_allclose(atoms.get_forces(), frames[1].get_forces(), rtol=1e-3, atol=1e-3)
    assert atoms.get_potential_energy() == pytest.approx(frames[1].get_potential_energy(),
                                                         rel=1e-5)
    with pytest.raises(ValueError, match="582 protein atoms"):
        calculator.calculate(frames[1][:10], ["energy"])
