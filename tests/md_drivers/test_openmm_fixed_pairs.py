"""The graph-safe OpenMM module (fixed pair buffer): pairs against ASE's neighbour list,
energy and forces against the vesin module, overflow and small boxes poisoned and
reported. Runs without openmm-torch (the module is called directly)."""
import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list as ase_neighbor_list

from md_drivers.openmm._fixed_pairs import all_pairs, fixed_capacity_pairs
from md_drivers.openmm._torch_backend import FixedCapacityOpenMMModule, OpenMMModule, scripted_model
from potentials import DeployedPotential
from tests.structures import ethanol, small_model

CUTOFF = 4.0


def reduced_box_crystal(seed=0) -> Atoms:
    """40 rattled atoms in a triclinic box in OpenMM's reduced form (a along x, b in xy,
    |b_x| <= a_x / 2 ...), every width above twice the cutoff."""
    rng = np.random.default_rng(seed)
    cell = np.array([[9.0, 0.0, 0.0], [2.5, 8.6, 0.0], [-1.9, 3.1, 9.4]])
    atoms = Atoms(numbers=rng.choice([29, 79], size=40), cell=cell, pbc=True,
                  scaled_positions=rng.uniform(size=(40, 3)))
    atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
    return atoms


def edge_set(edge_index, shifts):
    return {(int(i), int(j), *map(int, s)) for (i, j), s in zip(edge_index.T.tolist(), shifts.tolist())}


def test_pairs_equal_ase_neighbour_list_and_padding_is_far():
    atoms = reduced_box_crystal()
    positions = torch.tensor(atoms.positions)
    box = torch.tensor(atoms.cell.array)
    edge_index, shifts, cell, count = fixed_capacity_pairs(
        positions, box, True, CUTOFF, 2000, all_pairs(len(atoms), positions.device))
    i, j, s = ase_neighbor_list("ijS", atoms, CUTOFF)
    vectors = (positions[edge_index[1]] - positions[edge_index[0]] + shifts @ cell).norm(dim=1)
    real = vectors < CUTOFF
    assert int(count) == len(i) // 2 and int(real.sum()) == len(i)
    assert edge_set(edge_index[:, real], shifts[real]) == edge_set(np.stack([i, j]), s)
    assert edge_index.shape[1] == 4000 and bool((vectors[~real] > 1000 * CUTOFF).all())


@pytest.fixture(scope="module")
def modules():
    model = small_model(seed=1)
    scripted = scripted_model(DeployedPotential.from_model(model, torch.float64))

    def build(atoms, periodic, capacity):
        arguments = (scripted, torch.as_tensor(atoms.numbers), torch.arange(len(atoms)),
                     len(atoms), periodic, model.cutoff, torch.float64)
        return (torch.jit.script(OpenMMModule(*arguments)),
                torch.jit.script(FixedCapacityOpenMMModule(*arguments, capacity=capacity)))
    return build


@pytest.mark.parametrize("periodic", [True, False], ids=["periodic", "molecule"])
def test_fixed_buffer_module_equals_cell_list_module(modules, periodic):
    atoms = reduced_box_crystal() if periodic else ethanol()
    cell_list, fixed = modules(atoms, periodic, capacity=1500)
    positions = torch.tensor(atoms.positions / 10.0)          # nm
    box = torch.tensor(atoms.cell.array / 10.0) if periodic else None
    probe = torch.zeros((), dtype=torch.float64, requires_grad=True)
    expected = cell_list(positions, box)
    actual = fixed(positions, box, probe) if periodic else fixed(positions, probe)
    energy, reference = float(actual[0].detach()), float(expected[0])
    assert abs(energy - reference) < 1e-9 * max(1.0, abs(reference))
    np.testing.assert_allclose(actual[1], expected[1], rtol=0, atol=1e-9)
    actual[0].backward()
    n_pairs = len(ase_neighbor_list("i", atoms, 4.0)) // 2
    assert float(probe.grad) == n_pairs        # the energy derivative reports the count


def test_overflow_and_a_small_box_poison_the_outputs_and_are_reported(modules):
    atoms = reduced_box_crystal()
    _, fixed = modules(atoms, True, capacity=50)
    positions, box = torch.tensor(atoms.positions / 10.0), torch.tensor(atoms.cell.array / 10.0)
    probe = torch.zeros((), dtype=torch.float64, requires_grad=True)
    energy, forces = fixed(positions, box, probe)
    assert torch.isnan(energy) and torch.isnan(forces).all()
    energy.backward()
    assert float(probe.grad) == len(ase_neighbor_list("i", atoms, 4.0)) // 2 > 50
    small = torch.tensor(np.diag([7.5, 9.0, 9.0]) / 10.0)     # 7.5 A < 2 x 4 A
    probe = torch.zeros((), dtype=torch.float64, requires_grad=True)
    energy, _ = fixed(positions, small, probe)
    energy.backward()
    assert torch.isnan(energy) and float(probe.grad) == -1.0


def test_a_single_atom_has_no_pairs_and_only_padding():
    positions = torch.zeros((1, 3), dtype=torch.float64)
    edge_index, shifts, cell, count = fixed_capacity_pairs(
        positions, torch.zeros((3, 3), dtype=torch.float64), False, CUTOFF, 4,
        all_pairs(1, positions.device))
    vectors = positions[edge_index[1]] - positions[edge_index[0]] + shifts @ cell
    assert int(count) == 0 and bool((vectors.norm(dim=1) > 1000 * CUTOFF).all())
