"""openmm-ml plug-in: MLPotential("equiforce") through openmm-ml's own machinery."""
import numpy as np
import openmm
import openmm.app as app
import pytest
from openmmml import MLPotential

from md_drivers.openmm import EV_IN_KJ_PER_MOL
from potentials import export
from potentials.datasets.openmm import is_solvent, villin_pdb
from tests.md_drivers._openmm_helpers import ase_energy_forces
from tests.structures import ethanol, small_model

KJ_NM = openmm.unit.kilojoule_per_mole / openmm.unit.nanometer


def _topology(atoms) -> app.Topology:
    topology = app.Topology()
    residue = topology.addResidue("MOL", topology.addChain())
    for z in atoms.numbers:
        topology.addAtom(str(z), app.Element.getByAtomicNumber(int(z)), residue)
    return topology


def _energy_forces(system, positions_nm, platform="Reference"):
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName(platform))
    context.setPositions(positions_nm)
    state = context.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole)
    return energy, np.asarray(state.getForces(asNumpy=True).value_in_unit(KJ_NM))


def test_entry_point_is_registered():
    assert "equiforce" in MLPotential._implFactories


def test_missing_model_path_is_explained():
    with pytest.raises(ValueError, match="modelPath"):
        MLPotential("equiforce")


def test_create_system_matches_ase_calculator(tmp_path):
    model = small_model()
    atoms = ethanol()
    path = export(model, tmp_path / "model.pt")
    system = MLPotential("equiforce", modelPath=str(path)).createSystem(_topology(atoms))
    energy, forces = _energy_forces(system, atoms.positions / 10.0)
    ref_energy, ref_forces = ase_energy_forces(model, atoms)
    assert energy == pytest.approx(ref_energy * EV_IN_KJ_PER_MOL, rel=1e-9)
    np.testing.assert_allclose(forces, ref_forces * EV_IN_KJ_PER_MOL * 10.0,
                               atol=1e-9 * np.abs(forces).max())


def test_mixed_system_decomposes_into_mm_outside_plus_potential_inside():
    """Villin in water (amber14/TIP3P, no cutoff so the check is exact): the mechanically
    embedded system's energy and forces = full MM - protein-only MM + villin-amber14 on
    the protein, each computed independently."""
    pdb = app.PDBFile(villin_pdb())
    forcefield = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
    protein = [a.index for a in pdb.topology.atoms() if not is_solvent(a.residue)]
    full_mm = forcefield.createSystem(pdb.topology, nonbondedMethod=app.NoCutoff)
    mixed = MLPotential("equiforce", modelPath="villin-amber14").createMixedSystem(
        pdb.topology, full_mm, protein)

    modeller = app.Modeller(pdb.topology, pdb.positions)
    modeller.delete([r for r in modeller.topology.residues() if is_solvent(r)])
    protein_mm = forcefield.createSystem(modeller.topology, nonbondedMethod=app.NoCutoff)

    positions = np.asarray(pdb.positions.value_in_unit(openmm.unit.nanometer))
    e_mixed, f_mixed = _energy_forces(mixed, positions)
    e_full, f_full = _energy_forces(full_mm, positions)
    e_prot, f_prot = _energy_forces(protein_mm, positions[protein])
    from ase import Atoms
    villin = Atoms(numbers=[a.element.atomic_number for a in modeller.topology.atoms()],
                   positions=positions[protein] * 10.0)
    e_ml, f_ml = ase_energy_forces("villin-amber14", villin)

    expected_forces = f_full.copy()
    expected_forces[protein] += -f_prot + f_ml * EV_IN_KJ_PER_MOL * 10.0
    expected_energy = e_full - e_prot + e_ml * EV_IN_KJ_PER_MOL
    assert e_mixed == pytest.approx(expected_energy, rel=1e-9, abs=1e-4)
    np.testing.assert_allclose(f_mixed, expected_forces, atol=1e-6 * np.abs(f_full).max())
