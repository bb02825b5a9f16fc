"""reduce_cell: any cell to OpenMM's reduced form, checked against OpenMM's own rules."""
import numpy as np
import pytest
from ase.build import bulk
from ase.geometry import minkowski_reduce

from md_drivers._reduced_cell import is_reduced, reduce_cell

CELLS = {
    "primitive fcc": bulk("Cu", "fcc", a=3.61).cell.array,
    "hcp": bulk("Mg", "hcp", a=3.2, c=5.2).cell.array,
    "left-handed": bulk("Cu", "fcc", a=3.61).cell.array[[1, 0, 2]],
    "skewed triclinic": np.array([[4.0, 0.3, -0.2], [3.1, 5.0, 0.4], [-2.2, 6.1, 4.7]]),
}


@pytest.mark.parametrize("name", sorted(CELLS))
def test_reduced_box_spans_the_same_lattice_rotated(name):
    cell = CELLS[name]
    reduced = reduce_cell(cell)
    assert is_reduced(reduced.box)
    # OpenMM's own check is the reference for "reduced"
    from openmm.app import Topology
    Topology().setPeriodicBoxVectors(reduced.box / 10.0)
    np.testing.assert_allclose(reduced.rotation @ reduced.rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(reduced.rotation) == pytest.approx(1.0)
    assert abs(round(np.linalg.det(reduced.basis))) == 1
    np.testing.assert_allclose(reduced.box, reduced.basis @ cell @ reduced.rotation, atol=1e-12)
    # same lattice: the Minkowski-reduced bases have the same metric
    metric = [minkowski_reduce(c)[0] for c in (cell, reduced.box)]
    np.testing.assert_allclose(*(np.sort(np.linalg.norm(m, axis=1)) for m in metric), atol=1e-10)
    assert abs(np.linalg.det(reduced.box)) == pytest.approx(abs(np.linalg.det(cell)))


def test_round_trip_of_vectors_and_cell():
    reduced = reduce_cell(CELLS["skewed triclinic"])
    vectors = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(reduced.vectors_from_reduced(reduced.vectors_to_reduced(vectors)),
                               vectors, atol=1e-12)
    np.testing.assert_allclose(reduced.cell_from_reduced(1.1 * reduced.box),
                               1.1 * CELLS["skewed triclinic"], atol=1e-12)


def test_a_reduced_cell_is_left_exactly_as_it_is():
    cell = np.array([[3.0, 0.0, 0.0], [1.0, 4.0, 0.0], [-1.2, 1.5, 5.0]])
    reduced = reduce_cell(cell)
    assert np.array_equal(reduced.box, cell) and np.array_equal(reduced.rotation, np.eye(3))


def test_degenerate_cell_is_refused():
    with pytest.raises(ValueError, match="degenerate cell"):
        reduce_cell(np.array([[1.0, 0, 0], [2.0, 0, 0], [0, 0, 3.0]]))
