"""Neighbour lists (potentials.neighbors) against ASE's ``neighbor_list("ijS")``.

Lists are compared as sets of (i, j, Sx, Sy, Sz), so the order of the pairs is free.
"""
import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list as ase_neighbor_list

from potentials.neighbors import cell_list_neighbor_list
from potentials.neighbors import BACKENDS, VerletNeighborList, neighbor_list

VACUUM = 40.0  # Angstrom, length of the stand-in vacuum vectors of ASE references


def pair_set(edge_index, shifts):
    i, j = edge_index.tolist()
    return set(zip(i, j, *shifts.T.tolist()))


def ase_pairs(positions, cell, pbc, cutoff):
    atoms = Atoms(numbers=np.ones(len(positions)), positions=positions, cell=cell, pbc=pbc)
    i, j, shifts = ase_neighbor_list("ijS", atoms, cutoff)
    return set(zip(i.tolist(), j.tolist(), *shifts.T.tolist()))


def ours(positions, cell, pbc, cutoff, backend, dtype=torch.float64):
    """Our list as a set, after checking dtypes, shapes, uniqueness and |D| < cutoff."""
    pos = torch.as_tensor(positions, dtype=dtype)
    cell_t = torch.as_tensor(cell, dtype=dtype)
    edge_index, shifts = neighbor_list(pos, cell_t, torch.tensor(pbc), cutoff, backend)
    assert edge_index.dtype == shifts.dtype == torch.int64
    assert edge_index.shape[0] == 2 and shifts.shape == (edge_index.shape[1], 3)
    assert (shifts[:, ~torch.tensor(pbc)] == 0).all()
    vectors = pos[edge_index[1]] - pos[edge_index[0]] + shifts.to(dtype) @ cell_t
    assert (torch.linalg.vector_norm(vectors, dim=1) < cutoff).all()
    pairs = pair_set(edge_index, shifts)
    assert len(pairs) == edge_index.shape[1]
    return pairs


def check(positions, cell, pbc, cutoff, backend, reference_cell=None):
    """Compare with ASE; ``reference_cell`` replaces zero non-periodic vectors for ASE."""
    reference = ase_pairs(positions, cell if reference_cell is None else reference_cell, pbc, cutoff)
    assert ours(positions, cell, pbc, cutoff, backend) == reference
    return reference


def skewed_cell(rng, low=4.0, high=7.0, tilt=3.0):
    """Random triclinic cell (rows), Angstrom, with sizeable off-diagonal tilts."""
    return np.diag(rng.uniform(low, high, 3)) + np.triu(rng.uniform(-tilt, tilt, (3, 3)), 1)


def random_walk_cell():
    return np.array([[10.0, 0.0, 0.0], [3.0, 9.5, 0.0], [-2.0, 2.5, 10.5]])


backends = pytest.mark.parametrize("backend", BACKENDS)


@backends
@pytest.mark.parametrize("seed", range(4))
def test_random_triclinic(backend, seed):
    rng = np.random.default_rng(seed)
    cell = skewed_cell(rng)
    positions = rng.random((30, 3)) @ cell
    assert len(check(positions, cell, [True] * 3, 4.5, backend)) > 100


@backends
def test_float32(backend):
    rng = np.random.default_rng(10)
    cell = skewed_cell(rng).astype(np.float32)
    positions = (rng.random((30, 3)) @ cell).astype(np.float32)
    reference = ase_pairs(positions.astype(np.float64), cell.astype(np.float64), [True] * 3, 4.0)
    assert ours(positions, cell, [True] * 3, 4.0, backend, torch.float32) == reference


@backends
def test_slab_with_vacuum_vector(backend):
    rng = np.random.default_rng(1)
    cell = skewed_cell(rng)
    cell[2] = [1.5, -2.0, 25.0]  # tilted vacuum vector
    positions = rng.random((30, 3)) * [1.0, 1.0, 0.2] @ cell
    positions[0, 2] += 30.0  # outside the cell along the non-periodic direction
    check(positions, cell, [True, True, False], 4.0, backend)


@backends
def test_slab_with_zero_vector(backend):
    rng = np.random.default_rng(2)
    reference_cell = skewed_cell(rng)
    reference_cell[2] = [0.0, 0.0, VACUUM]  # orthogonal to a and b: z shifts are 0 anyway
    cell = reference_cell.copy()
    cell[2] = 0.0
    positions = rng.random((30, 3)) @ np.diag([1.0, 1.0, 0.1]) @ reference_cell
    check(positions, cell, [True, True, False], 4.0, backend, reference_cell)


@backends
def test_wire(backend):
    rng = np.random.default_rng(3)
    cell = np.zeros((3, 3))
    cell[2] = [0.7, -0.4, 4.2]
    reference_cell = np.diag([VACUUM, VACUUM, 0.0])
    reference_cell[2] = cell[2]
    positions = rng.random((12, 3)) * [5.0, 5.0, 4.0]
    check(positions, cell, [False, False, True], 4.0, backend, reference_cell)


@backends
def test_molecule(backend):
    positions = np.random.default_rng(4).normal(scale=3.0, size=(25, 3))
    assert len(check(positions, np.zeros((3, 3)), [False] * 3, 3.0, backend)) > 0


@backends
def test_molecule_with_a_distant_atom(backend):
    # A huge bounding box must not allocate a dense grid of bins (ASE would).
    positions = np.random.default_rng(12).normal(scale=2.0, size=(20, 3))
    positions[0] = [1e9, -1e9, 3e9]
    distances = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    i, j = np.nonzero((distances < 3.0) & ~np.eye(20, dtype=bool))
    expected = {(a, b, 0, 0, 0) for a, b in zip(i.tolist(), j.tolist())}
    assert ours(positions, np.zeros((3, 3)), [False] * 3, 3.0, backend) == expected


@backends
def test_cell_smaller_than_cutoff(backend):
    rng = np.random.default_rng(5)
    cell = np.array([[2.0, 0.0, 0.0], [0.6, 1.9, 0.0], [-0.5, 0.4, 2.1]])
    positions = rng.random((2, 3)) @ cell
    pairs = check(positions, cell, [True] * 3, 5.0, backend)
    assert max(max(abs(s) for s in pair[2:]) for pair in pairs) >= 3  # many images


@backends
def test_atoms_on_faces_and_corners(backend):
    rng = np.random.default_rng(6)
    cell = skewed_cell(rng)
    fractional = np.array(
        [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 1], [0.5, 0, 1], [1, 0.5, 0], [0, 0.25, 0.5]]
    )
    check(fractional @ cell, cell, [True] * 3, 3.7, backend)


@backends
def test_unwrapped_positions(backend):
    rng = np.random.default_rng(7)
    cell = skewed_cell(rng)
    displacement = rng.integers(-4, 5, (30, 3)) @ cell  # several cell vectors per atom
    positions = rng.random((30, 3)) @ cell + displacement
    check(positions, cell, [True] * 3, 4.0, backend)
    check(positions, cell, [True, False, True], 4.0, backend)


@backends
@pytest.mark.parametrize(
    "positions, cell, pbc",
    [
        ([[1.0, 2.0, 3.0]], np.zeros((3, 3)), [False] * 3),  # isolated atom
        ([[1.0, 2.0, 3.0]], 10.0 * np.eye(3), [True] * 3),  # no image within cutoff
        ([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]], np.zeros((3, 3)), [False] * 3),  # far apart
        (np.zeros((0, 3)), 10.0 * np.eye(3), [True] * 3),  # no atoms at all
    ],
)
def test_empty(backend, positions, cell, pbc):
    pos = torch.tensor(positions, dtype=torch.float64).reshape(-1, 3)
    edge_index, shifts = neighbor_list(pos, torch.tensor(cell), pbc, 3.0, backend)
    assert edge_index.shape == (2, 0) and shifts.shape == (0, 3)
    assert edge_index.dtype == shifts.dtype == torch.int64


def test_backends_agree_and_accept_grad_and_arrays():
    rng = np.random.default_rng(8)
    cell = skewed_cell(rng)
    positions = torch.tensor(rng.random((40, 3)) @ cell, requires_grad=True)
    results = [pair_set(*neighbor_list(positions, cell, (True, True, True), 4.0, b)) for b in BACKENDS]
    assert results[0] == results[1]


def test_torchscript():
    rng = np.random.default_rng(9)
    cell = torch.tensor(skewed_cell(rng))
    positions = torch.tensor(rng.random((30, 3))) @ cell + 2.0 * cell[0]
    pbc = torch.tensor([True, False, True])
    scripted = torch.jit.script(cell_list_neighbor_list)
    for got, expected in zip(
        scripted(positions, cell, pbc, 4.0), cell_list_neighbor_list(positions, cell, pbc, 4.0)
    ):
        assert torch.equal(got, expected)


@pytest.mark.parametrize("backend", ["ase", "VESIN", ""])
def test_unknown_backend(backend):
    with pytest.raises(ValueError, match="vesin.*torch"):
        neighbor_list(torch.zeros((2, 3)), torch.eye(3), [True] * 3, 3.0, backend)
    with pytest.raises(ValueError, match="vesin.*torch"):
        VerletNeighborList(3.0, backend=backend)


def test_bad_cutoff_and_skin():
    for cutoff in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="cutoff"):
            neighbor_list(torch.zeros((2, 3)), torch.eye(3), [True] * 3, cutoff)
        with pytest.raises(ValueError, match="cutoff"):
            VerletNeighborList(cutoff)
    with pytest.raises(ValueError, match="skin"):
        VerletNeighborList(3.0, skin=-0.1)


@backends
def test_non_finite_positions(backend):
    positions = torch.rand((4, 3), dtype=torch.float64)
    positions[2, 1] = float("nan")
    with pytest.raises(ValueError, match="finite"):
        neighbor_list(positions, 5.0 * torch.eye(3), [True] * 3, 3.0, backend)


@backends
def test_periodic_direction_needs_a_cell_vector(backend):
    # vesin 0.6.2 kills the process with SIGFPE here, so this must be caught first.
    positions = torch.rand((4, 3), dtype=torch.float64)
    cell = torch.diag(torch.tensor([5.0, 5.0, 0.0], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"cell vector 2 is zero but pbc\[2\] is True"):
        neighbor_list(positions, cell, [True, True, True], 3.0, backend)
    cell[2] = cell[0] + cell[1]
    with pytest.raises(ValueError, match="linearly dependent"):
        neighbor_list(positions, cell, [True, True, True], 3.0, backend)


def random_walk(n_steps, n_atoms=100, step=0.01, wrap_every=40, seed=0):
    """Yield raw positions (n_atoms, 3), Angstrom, of a random walk with drift in
    ``random_walk_cell()``: atoms leave the box and are wrapped back every ``wrap_every``
    steps."""
    rng = np.random.default_rng(seed)
    cell = random_walk_cell()
    positions = rng.random((n_atoms, 3)) @ cell
    drift = rng.normal(scale=step, size=(n_atoms, 3))
    for t in range(n_steps):
        positions = positions + drift + rng.normal(scale=step, size=(n_atoms, 3))
        if t % wrap_every == wrap_every - 1:
            positions = positions - np.floor(fractional(positions)) @ cell
        yield positions


def fractional(positions):
    return positions @ np.linalg.inv(random_walk_cell())


@backends
def test_verlet_matches_fresh_list_along_random_walk(backend):
    cell = torch.tensor(random_walk_cell())
    pbc = torch.tensor([True] * 3)
    numbers = torch.full((100,), 29)
    verlet = VerletNeighborList(cutoff=3.5, skin=0.5, backend=backend)
    previous, n_outside, n_wraps = None, 0, 0
    for positions in random_walk(200):
        n_outside += ((fractional(positions) < 0) | (fractional(positions) >= 1)).any()
        positions = torch.tensor(positions)
        builds = verlet.n_builds
        cached = pair_set(*verlet(positions, cell, pbc, numbers))
        assert cached == pair_set(*neighbor_list(positions, cell, pbc, 3.5, backend))
        if previous is not None and (positions - previous).abs().max() > 1.0:  # wrapped
            n_wraps += 1
            assert verlet.n_builds == builds + 1
        previous = positions
    assert n_outside > 100 and n_wraps >= 3
    assert 5 < verlet.n_builds < 200 / 4


@backends
def test_verlet_without_skin_rebuilds_every_call(backend):
    cell = torch.tensor(random_walk_cell())
    verlet = VerletNeighborList(cutoff=3.5, skin=0.0, backend=backend)
    for n_calls, positions in enumerate(random_walk(20, wrap_every=7), start=1):
        positions = torch.tensor(positions)
        cached = verlet(positions, cell, [True] * 3, torch.ones(100, dtype=torch.long))
        assert pair_set(*cached) == pair_set(*neighbor_list(positions, cell, [True] * 3, 3.5, backend))
        assert verlet.n_builds == n_calls


def test_verlet_rebuilds_when_the_system_changes():
    rng = np.random.default_rng(11)
    cell = torch.tensor(skewed_cell(rng))
    positions = torch.rand((20, 3), dtype=torch.float64) @ cell
    pbc = torch.tensor([True] * 3)
    numbers = torch.full((20,), 6)
    verlet = VerletNeighborList(cutoff=3.0, skin=0.5)

    def call_and_check(positions, cell, pbc, numbers, expected_builds):
        result = pair_set(*verlet(positions, cell, pbc, numbers))
        assert result == pair_set(*neighbor_list(positions, cell, pbc, 3.0))
        assert verlet.n_builds == expected_builds

    call_and_check(positions, cell, pbc, numbers, 1)
    call_and_check(positions + 0.1, cell, pbc, numbers, 1)  # moved < skin / 2: cached
    cell = cell * 1.001
    call_and_check(positions, cell, pbc, numbers, 2)  # strained
    pbc = torch.tensor([True, True, False])
    call_and_check(positions, cell, pbc, numbers, 3)
    positions, numbers = positions[:-1], numbers[:-1].clone()
    call_and_check(positions, cell, pbc, numbers, 4)  # atom removed
    numbers[0] = 8
    call_and_check(positions, cell, pbc, numbers, 5)  # species changed
    call_and_check(positions, cell, pbc, numbers, 5)
    verlet.reset()
    call_and_check(positions, cell, pbc, numbers, 6)


def test_uncompacted_verlet_list_gives_the_potentials_result_exactly():
    """compact=False (the GPU default) hands the model every pair within cutoff + skin:
    the envelope makes the extra pairs contribute exactly nothing."""
    from potentials import DeployedPotential
    from potentials.testing import evaluate
    from tests.structures import small_model, triclinic_cu_au

    model, atoms = small_model(), triclinic_cu_au()
    potential = DeployedPotential.from_model(model)
    moved = atoms.copy()
    moved.positions += np.random.default_rng(1).normal(0, 0.15, moved.positions.shape)
    expected = evaluate(model, moved)
    edges = {}
    for compact in (True, False):
        neighbors = VerletNeighborList(model.cutoff, skin=1.5, compact=compact)
        for structure in (atoms, moved):       # build, then a step within skin / 2
            positions = torch.tensor(structure.positions)
            edge_index, shifts = neighbors(positions, structure.cell.array, structure.pbc,
                                           torch.tensor(structure.numbers))
        assert neighbors.n_builds == 1
        out = potential(positions, torch.tensor(moved.numbers), edge_index, shifts.double(),
                        torch.tensor(moved.cell.array).unsqueeze(0),
                        torch.zeros(len(moved), dtype=torch.long))
        for key in ("energy", "forces", "stress"):
            np.testing.assert_allclose(out[key].squeeze(0).numpy(), np.asarray(expected[key]).reshape(out[key].squeeze(0).shape),
                                       rtol=0, atol=1e-12, err_msg=f"{key}, compact={compact}")
        edges[compact] = edge_index.shape[1]
    assert edges[False] > edges[True]


def test_verlet_list_reports_nan_positions_on_the_next_call():
    neighbors = VerletNeighborList(3.0, skin=0.5)
    positions = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0]])
    neighbors(positions, np.zeros((3, 3)), [False] * 3, torch.tensor([29, 29]))
    positions[1, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        neighbors(positions, np.zeros((3, 3)), [False] * 3, torch.tensor([29, 29]))
