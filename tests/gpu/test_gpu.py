"""GPU-only checks (``make test-gpu`` on a CUDA machine; skipped here, where no GPU exists).

Not one of these has run on a GPU yet: this project has had no GPU. EQUIFORCE_REQUIRE_GPU=1
(set by ``make test-gpu``) turns the skip into a failure, so a GPU run cannot pass by
skipping.
"""
import os
import warnings

import numpy as np
import pytest
import torch

from potentials import DeployedPotential, VerletNeighborList, atoms_to_graph, convert_ops, neighbor_list
from potentials.testing import assert_potentials_agree
from tests.structures import cu_slab, ethanol, small_model, triclinic_cu_au

pytestmark = pytest.mark.gpu

if not torch.cuda.is_available():
    if os.environ.get("EQUIFORCE_REQUIRE_GPU"):
        raise RuntimeError("EQUIFORCE_REQUIRE_GPU=1 but torch sees no CUDA device "
                           f"(torch {torch.__version__}, CUDA build {torch.version.cuda})")
    pytest.skip("no CUDA device", allow_module_level=True)

STRUCTURES = [triclinic_cu_au(), cu_slab(), ethanol()]


def polynomial_modules(model):
    import cuequivariance_torch as cuet

    return [m for m in model.modules() if isinstance(m, cuet.SegmentedPolynomial)]


def test_cueq_backend_runs_its_cuda_kernels_not_the_naive_fallback():
    from cuequivariance_torch.primitives.segmented_polynomial_naive import SegmentedPolynomialNaive

    model = convert_ops(small_model(l_max=2, correlation=3), "cueq", device="cuda")
    assert model.cueq_methods["edge_product"] == "uniform_1d", model.cueq_methods
    kernels = [m for m in polynomial_modules(model) if m.method != "naive"]
    assert kernels, "no cuEquivariance block uses a CUDA kernel method"
    for module in kernels:   # a silent fallback keeps the method name but runs naive
        assert not isinstance(module.m, SegmentedPolynomialNaive), (module.method, type(module.m))


@pytest.mark.parametrize("ops", ["e3nn", "cueq"])
def test_gpu_results_equal_cpu_results_in_float64(ops):
    model = small_model(l_max=2, correlation=3)
    on_gpu = DeployedPotential.from_model(model, torch.float64, "cuda", ops=ops)
    assert on_gpu.ops == ops
    assert_potentials_agree(on_gpu, model, STRUCTURES, rtol=1e-10)


@pytest.mark.parametrize("atoms", STRUCTURES, ids=["triclinic", "slab", "molecule"])
def test_neighbour_list_on_cuda_equals_vesin_on_cpu(atoms):
    def as_set(edge_index, shifts):
        return {(int(i), int(j), *map(int, s)) for (i, j), s in
                zip(edge_index.T.cpu().tolist(), shifts.cpu().tolist())}

    positions = torch.tensor(atoms.positions)
    cpu = neighbor_list(positions, atoms.cell.array, atoms.pbc, 4.0)
    gpu = neighbor_list(positions.cuda(), atoms.cell.array, atoms.pbc, 4.0)
    assert gpu[0].device.type == "cuda" and as_set(*gpu) == as_set(*cpu)


@pytest.mark.parametrize("ops", ["e3nn", "cueq"])
def test_an_md_step_synchronises_with_the_host_at_most_once(ops):
    """Neighbour list (cached, no rebuild) and model call of one step: the rebuild
    decision is the only synchronisation (counted with CUDA's sync debug mode)."""
    atoms = triclinic_cu_au()
    potential = DeployedPotential.from_model(small_model(), torch.float64, "cuda", ops=ops)
    neighbors = VerletNeighborList(potential.cutoff, skin=0.5)
    positions = torch.tensor(atoms.positions, device="cuda")
    cell = torch.tensor(atoms.cell.array, device="cuda")
    pbc = torch.tensor(atoms.pbc, device="cuda")
    numbers = torch.tensor(atoms.numbers, device="cuda")
    batch = torch.zeros(len(atoms), dtype=torch.long, device="cuda")

    def step(pos):
        edge_index, shifts = neighbors(pos, cell, pbc, numbers)
        return potential(pos, numbers, edge_index, shifts.to(pos.dtype), cell.unsqueeze(0), batch)

    step(positions)                                   # builds the list, warms up
    moved = positions + 0.01
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            out = step(moved)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message).lower()]
    assert neighbors.n_builds == 1 and len(syncs) <= 1, [str(w.message) for w in syncs]
    assert torch.isfinite(out["energy"]).all()


def test_openmm_cuda_platform_with_cuda_graphs_matches_the_cpu():
    import openmm

    from md_drivers.openmm import PairCapacityGuard, create_force, torch_force_problem
    from tests.md_drivers._openmm_helpers import ase_energy_forces, assert_close, context_for, openmm_system
    from tests.md_drivers.test_openmm_fixed_pairs import reduced_box_crystal

    if torch_force_problem() is not None:
        pytest.skip(f"openmm-torch unusable: {torch_force_problem()}")
    model, atoms = small_model(), reduced_box_crystal()

    def make(capacity):
        return create_force(model, atoms.numbers, backend="torch", device="cuda",
                            periodic=True, cuda_graphs=True, pair_capacity=capacity)

    context = context_for(openmm_system(make(100), atoms), atoms, platform="CUDA")
    guard = PairCapacityGuard(context, 0, make, 100, interval=5)
    guard.step(20)                                    # grows from 100 pairs, graphs replayed
    assert guard.n_grown >= 1
    state = context.getState(getPositions=True)
    moved = atoms.copy()
    moved.positions = state.getPositions(asNumpy=True).value_in_unit(openmm.unit.angstrom)
    fresh = context_for(openmm_system(make(guard.capacity), moved), moved, platform="CUDA")
    state = fresh.getState(getEnergy=True, getForces=True)
    energy = state.getPotentialEnergy().value_in_unit(openmm.unit.kilojoule_per_mole)
    forces = state.getForces(asNumpy=True).value_in_unit(openmm.unit.kilojoule_per_mole / openmm.unit.nanometer)
    from tests.md_drivers._openmm_helpers import EV_KJ

    assert_close((energy / EV_KJ, np.asarray(forces) / (EV_KJ * 10.0)),
                 ase_energy_forces(model, moved), rtol=1e-5)
