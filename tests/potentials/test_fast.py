"""FastPotential: the same function as the e3nn model, checked against it and against
finite differences, on hard structures, both dtypes, one piece and in edge chunks."""
import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from ase.calculators.fd import calculate_numerical_stress

from md_drivers import EquiforceCalculator
from potentials import (DeployedPotential, EdgeChunking, FastPotential, atoms_to_graph,
                        batch_graphs)
from potentials.testing import assert_forces_match_finite_differences, evaluate
from tests.structures import cu_slab, ethanol, small_model, triclinic_cu_au

STRUCTURES = {"triclinic": triclinic_cu_au, "slab": cu_slab, "molecule": ethanol}
CHUNKED = EdgeChunking(single_pass_edges=50, chunk_size=37)  # every test graph is chunked
TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}


def outputs(model, graph):
    out = model(*graph.model_inputs())
    return {key: value.detach().double() for key, value in out.items()}


def assert_outputs_close(actual, expected, rtol):
    for key in ("energy", "atomic_energies", "forces", "stress", "virial"):
        scale = expected[key].abs().max().clamp_min(1e-12)
        error = (actual[key] - expected[key]).abs().max() / scale
        assert error < rtol, f"{key}: relative error {float(error):.2e} > {rtol:.0e}"


def batched_graph(dtype):
    graphs = [atoms_to_graph(make(), 4.0, (1, 6, 8, 29, 79), dtype=dtype)
              for make in STRUCTURES.values()]
    return batch_graphs(graphs)


@pytest.fixture(params=["native", "torch"])
def kernel(request, monkeypatch):
    """Run a test with the compiled C kernel and with the pure-torch implementation."""
    import potentials.nn.fast_interaction as fast_interaction

    if request.param == "torch":
        monkeypatch.setattr(fast_interaction, "native_available", lambda x: False)
    else:
        assert fast_interaction.native_available(torch.zeros(1)), "C kernel unavailable"
    return request.param


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("chunking", [EdgeChunking(), CHUNKED], ids=["one-pass", "chunked"])
def test_fast_equals_eager_on_hard_structures_and_batches(dtype, chunking, kernel):
    eager = small_model(correlation=3)                      # float64 reference
    fast = FastPotential.from_model(eager, dtype=dtype, chunking=chunking)
    for name, make in STRUCTURES.items():
        graph = atoms_to_graph(make(), 4.0, eager.config.species, dtype=torch.float64)
        assert_outputs_close(outputs(fast, graph.to(dtype=dtype)), outputs(eager, graph),
                             TOLERANCE[dtype])
    graph = batched_graph(torch.float64)
    assert_outputs_close(outputs(fast, graph.to(dtype=dtype)), outputs(eager, graph),
                         TOLERANCE[dtype])


@pytest.mark.parametrize("changes", [dict(l_max=0), dict(l_max=2, correlation=1),
                                     dict(l_max=3, correlation=3), dict(parity=False),
                                     dict(num_layers=1), dict(num_layers=3)],
                         ids=["l0", "l2-nu1", "l3-nu3", "no-parity", "one-layer", "three-layers"])
def test_fast_equals_eager_for_every_architecture(changes, kernel):
    eager = small_model(**changes)
    fast = FastPotential.from_model(eager, chunking=CHUNKED)
    graph = batched_graph(torch.float64)
    assert_outputs_close(outputs(fast, graph), outputs(eager, graph), 1e-10)


def test_edge_count_changes_between_calls():
    """One fast model, structures of different sizes in turn (dynamic shapes), only the
    largest one above the single-pass limit."""
    eager = small_model()
    fast = FastPotential.from_model(eager, chunking=EdgeChunking(single_pass_edges=1500,
                                                                 chunk_size=500))
    big = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    big.rattle(0.05, seed=3)
    for atoms in (triclinic_cu_au(), big, cu_slab(), big[:50], ethanol()):
        graph = atoms_to_graph(atoms, 4.0, eager.config.species)
        assert_outputs_close(outputs(fast, graph), outputs(eager, graph), 1e-10)
    assert atoms_to_graph(big, 4.0).edge_index.shape[1] > 1500 > atoms_to_graph(
        big[:50], 4.0).edge_index.shape[1]


@pytest.mark.parametrize("name", sorted(STRUCTURES))
def test_fast_forces_equal_finite_differences_of_its_energy(name, kernel):
    fast = FastPotential.from_model(small_model(correlation=3), chunking=CHUNKED)
    atoms = STRUCTURES[name]()
    assert np.abs(evaluate(fast, atoms)["forces"]).max() > 1e-3
    # every coordinate of the 9-atom molecule; four random directions of the larger ones
    directions = None if name == "molecule" else 4
    assert_forces_match_finite_differences(fast, atoms, delta=1e-5, rtol=1e-7,
                                           directions=directions)


def test_fast_stress_equals_ase_numerical_stress():
    atoms = triclinic_cu_au()
    fast = DeployedPotential.from_model(small_model(correlation=3))
    assert fast.format == "fast"
    atoms.calc = EquiforceCalculator(fast, skin=0.0)
    numerical = calculate_numerical_stress(atoms, eps=1e-5)
    stress = atoms.get_stress()
    assert np.abs(numerical).max() > 1e-4
    np.testing.assert_allclose(stress, numerical, atol=1e-7 * np.abs(numerical).max())


def test_fast_model_is_inference_only():
    fast = FastPotential.from_model(small_model())
    assert not any(p.requires_grad for p in fast.parameters())
    with pytest.raises(RuntimeError, match="inference only"):
        fast.train()
    fast.eval()  # allowed


def test_deployed_eager_model_and_pickle_round_trips_keep_the_function():
    import pickle

    eager = small_model(correlation=3)
    deployed = DeployedPotential.from_model(eager)
    graph = atoms_to_graph(triclinic_cu_au(), 4.0, eager.config.species)
    assert_outputs_close(outputs(deployed.eager_model(), graph), outputs(eager, graph), 1e-12)
    again = pickle.loads(pickle.dumps(deployed))   # what OpenMM does with a PythonForce
    assert again.format == "fast"
    assert_outputs_close(outputs(again, graph), outputs(eager, graph), 1e-10)


def test_weights_of_another_architecture_are_refused_naming_the_keys():
    from potentials import ModelFileError
    from potentials._weights import load_weights

    three_layers = FastPotential(small_model(num_layers=3).config)
    with pytest.raises(ModelFileError, match="(?s)do not fit.*layers.1"):
        load_weights(three_layers, small_model(num_layers=2).state_dict())
    with pytest.raises(ModelFileError, match="(?s)do not fit.*size mismatch"):
        load_weights(FastPotential(small_model(channels=4).config), small_model().state_dict())


def test_chunking_is_validated():
    with pytest.raises(ValueError, match="chunk_size"):
        EdgeChunking(chunk_size=0)


@pytest.mark.parametrize("backend", ["vesin", "torch"])
def test_neighbour_lists_are_mirrored_and_the_fast_path_detects_it(backend):
    from potentials.fast import _mirrored_half

    graph = atoms_to_graph(triclinic_cu_au(), 4.0, neighbor_backend=backend)
    edge_index, shifts = graph.edge_index, graph.shifts
    half = edge_index.shape[1] // 2
    assert torch.equal(edge_index[:, half:], edge_index[:, :half].flip(0))
    assert torch.equal(shifts[half:], -shifts[:half])
    vectors = (graph.positions[edge_index[1]] - graph.positions[edge_index[0]]
               + shifts @ graph.cell[0])
    assert _mirrored_half(edge_index, vectors) == half
    swapped = torch.cat([edge_index[:, :1].flip(0), edge_index[:, 1:]], dim=1)
    assert _mirrored_half(swapped, vectors) == 0


@pytest.mark.parametrize("chunking", [EdgeChunking(), CHUNKED], ids=["one-pass", "chunked"])
def test_shuffled_edges_give_the_same_result(chunking, kernel):
    """A list in any order (not mirrored: every edge weighted by its own radial row)."""
    eager = small_model(correlation=3)
    fast = FastPotential.from_model(eager, chunking=chunking)
    graph = atoms_to_graph(triclinic_cu_au(), 4.0, eager.config.species)
    order = torch.randperm(graph.edge_index.shape[1], generator=torch.Generator().manual_seed(0))
    inputs = list(graph.model_inputs())
    inputs[2], inputs[3] = graph.edge_index[:, order], graph.shifts[order]
    shuffled = {k: v.detach() for k, v in fast(*inputs).items()}
    assert_outputs_close(shuffled, outputs(eager, graph), 1e-10)


@pytest.mark.parametrize("build", [lambda: Atoms("Cu", positions=[[0, 0, 0]]),
                                   lambda: Atoms("CuAu", positions=[[0, 0, 0], [9, 0, 0]]),
                                   lambda: Atoms("Cu", cell=[9, 9, 9], pbc=True)],
                         ids=["single atom", "far apart", "sparse crystal"])
def test_a_structure_without_edges_gives_the_atomic_energies(build, kernel):
    model = small_model(seed=2)
    graph = atoms_to_graph(build(), 4.0, (1, 6, 8, 29, 79), dtype=torch.float64)
    assert graph.edge_index.shape[1] == 0
    fast = outputs(FastPotential.from_model(model), graph)
    eager = outputs(model, graph)
    torch.testing.assert_close(fast["energy"], eager["energy"], rtol=1e-12, atol=0)
    assert fast["forces"].abs().max() == 0
