"""Atoms too close: coincident atoms are an error naming them (ASE calculator, OpenMM
force, equiforce md); a pair closer than the training data allows warns once."""
import logging

import numpy as np
import pytest
from ase.build import bulk

from md_drivers import EquiforceCalculator, create_force
from md_drivers.cli import main
from potentials import load


def cu_with_atom_1_at(offset):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.positions[1] = atoms.positions[0] + np.asarray(offset)
    return atoms


def test_coincident_atoms_are_an_error_naming_them():
    atoms = cu_with_atom_1_at([0.0, 0.0, 0.0])
    atoms.calc = EquiforceCalculator("cu-emt")
    with pytest.raises(ValueError, match="atoms 0 and 1 are at the same position"):
        atoms.get_potential_energy()


def test_openmm_force_refuses_coincident_atoms_naming_them():
    import openmm
    import openmm.unit as unit

    atoms = cu_with_atom_1_at([0.0, 0.0, 0.0])
    system = openmm.System()
    for mass in atoms.get_masses():
        system.addParticle(float(mass))
    system.setDefaultPeriodicBoxVectors(*(atoms.cell.array / 10.0))
    system.addForce(create_force(load("cu-emt"), atoms.numbers, backend="python", periodic=True))
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(atoms.positions / 10.0 * unit.nanometer)
    with pytest.raises(Exception, match="atoms 0 and 1 are at the same position"):
        context.getState(getEnergy=True)


def test_a_pair_closer_than_the_training_data_warns_once(caplog):
    floor = load("cu-emt").metadata["provenance"]["closest_pairs_A"]["Cu-Cu"]
    atoms = cu_with_atom_1_at([0.1, 0.0, 0.0])
    atoms.calc = EquiforceCalculator("cu-emt")
    with caplog.at_level(logging.WARNING):
        atoms.get_potential_energy()
        atoms.positions[1, 0] += 0.05
        atoms.get_potential_energy()
    warnings = [r.getMessage() for r in caplog.records if "training data" in r.getMessage()]
    assert len(warnings) == 1
    assert "atoms 0 and 1 (Cu-Cu) are 0.100 A apart" in warnings[0]
    assert f"({floor:.3f} A)" in warnings[0] and "cu-emt" in warnings[0]


def test_an_ordinary_crystal_does_not_warn(caplog):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=0)
    atoms.calc = EquiforceCalculator("cu-emt")
    with caplog.at_level(logging.WARNING):
        atoms.get_potential_energy()
    assert "training data" not in caplog.text


def test_md_on_a_structure_with_a_duplicated_atom_exits_2_naming_it(tmp_path, capsys):
    structure = tmp_path / "duplicated.extxyz"
    cu_with_atom_1_at([0.0, 0.0, 0.0]).write(structure)
    before = structure.read_bytes()
    code = main(["md", str(structure), "--potential", "cu-emt", "--steps", "2", "--no-progress",
                 "--out", str(tmp_path / "run")])
    assert code == 2 and "atoms 0 and 1 are at the same position" in capsys.readouterr().err
    assert structure.read_bytes() == before and not (tmp_path / "run").exists()
