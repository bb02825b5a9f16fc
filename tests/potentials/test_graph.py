"""Input validation and converters (ASE, pymatgen) of potentials.graph."""
import numpy as np
import pytest
from ase import Atoms
from pymatgen.core import Lattice, Molecule, Structure

from potentials import atoms_to_graph, structure_to_graph
from potentials.testing import evaluate
from tests.structures import ethanol, small_model, triclinic_cu_au

SPECIES = (1, 6, 8, 29, 79)


def test_unknown_element_is_named_with_the_supported_ones():
    atoms = Atoms("CuFe", positions=[[0, 0, 0], [2, 0, 0]])
    with pytest.raises(ValueError, match=r"Fe not supported.*H, C, O, Cu, Au"):
        atoms_to_graph(atoms, 4.0, SPECIES)


def test_nan_positions_are_rejected_naming_the_atom():
    atoms = triclinic_cu_au()
    atoms.positions[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf \(atoms \[3\]\)"):
        atoms_to_graph(atoms, 4.0, SPECIES)


def test_singular_cell_is_rejected():
    atoms = triclinic_cu_au()
    cell = atoms.cell.array.copy()
    cell[2] = cell[0] + cell[1]
    atoms.set_cell(cell, scale_atoms=False)
    with pytest.raises(ValueError, match="linearly dependent"):
        atoms_to_graph(atoms, 4.0, SPECIES)


def test_periodic_direction_without_cell_vector_is_rejected():
    atoms = Atoms("Cu2", positions=[[0, 0, 0], [2, 0, 0]], cell=[[4, 0, 0], [0, 4, 0], [0, 0, 0]],
                  pbc=True)
    with pytest.raises(ValueError, match="direction 2 is periodic but cell vector 2 is zero"):
        atoms_to_graph(atoms, 4.0, SPECIES)


def test_slab_with_zero_vacuum_vector_is_accepted():
    atoms = Atoms("Cu2", positions=[[0, 0, 0], [1.8, 1.8, 0]],
                  cell=[[3.6, 0, 0], [0, 3.6, 0], [0, 0, 0]], pbc=[True, True, False])
    graph = atoms_to_graph(atoms, 4.0, SPECIES)
    assert graph.edge_index.shape[1] > 0


def test_pymatgen_structure_gives_the_same_energy_as_ase():
    model = small_model()
    atoms = triclinic_cu_au()
    structure = Structure(Lattice(atoms.cell.array), atoms.get_chemical_symbols(),
                          atoms.positions, coords_are_cartesian=True)
    graph = structure_to_graph(structure, model.cutoff, model.config.species)
    energy = model(*graph.model_inputs())["energy"].item()
    assert energy == pytest.approx(evaluate(model, atoms)["energy"], abs=1e-10)


def test_pymatgen_molecule_gives_the_same_energy_as_ase():
    model = small_model()
    atoms = ethanol()
    mol = Molecule(atoms.get_chemical_symbols(), atoms.positions)
    graph = structure_to_graph(mol, model.cutoff, model.config.species)
    assert not graph.pbc.any()
    energy = model(*graph.model_inputs())["energy"].item()
    assert energy == pytest.approx(evaluate(model, atoms)["energy"], abs=1e-10)


def test_graph_to_casts_floats_and_keeps_integers():
    import torch

    graph = atoms_to_graph(triclinic_cu_au(), 4.0, SPECIES).to(dtype=torch.float32)
    assert graph.positions.dtype == graph.cell.dtype == graph.shifts.dtype == torch.float32
    assert graph.edge_index.dtype == graph.batch.dtype == graph.atomic_numbers.dtype == torch.int64
    assert graph.pbc.dtype == torch.bool
