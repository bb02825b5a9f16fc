"""`equiforce md` fed what a new user brings: every case ends in a run that does what was
asked or in exit code 2 with a message naming the problem, and files that existed before
are byte-identical afterwards."""
from pathlib import Path

import ase.io
import mdtraj
import numpy as np
import pytest
from ase.build import bulk

from md_drivers.cli import main

QUICK = ["--potential", "cu-emt", "--no-progress", "--steps", "4", "--output-interval", "2",
         "--checkpoint-interval", "2"]


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def md(capsys, *args) -> tuple[int, str, str]:
    code = main(["md", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def primitive_cu(tmp_path_factory) -> Path:
    """27 atoms of Cu in the primitive fcc cell, which OpenMM's writers refuse as is."""
    atoms = bulk("Cu", "fcc", a=3.61).repeat((3, 3, 3))
    atoms.rattle(0.02, seed=1)
    path = tmp_path_factory.mktemp("structures") / "primitive.extxyz"
    atoms.write(path)
    return path


@pytest.mark.parametrize("engine", ["ase", "openmm"])
@pytest.mark.parametrize("fmt", ["dcd", "xtc", "h5"])
def test_any_triclinic_cell_runs_with_every_format_and_engine(tmp_path, capsys, primitive_cu,
                                                             engine, fmt):
    ensemble = "nve" if engine == "ase" else "nvt-langevin"
    out = tmp_path / "run"
    code, _, err = md(capsys, primitive_cu, *QUICK, "--engine", engine, "--ensemble", ensemble,
                      "--format", fmt, "--out", out)
    assert code == 0, err
    user = ase.io.read(primitive_cu)
    frames = ase.io.read(out / "trajectory.extxyz", ":")
    assert len(frames) == 3
    for frame in frames:  # extxyz keeps the user's cell and orientation
        np.testing.assert_allclose(frame.cell.array, user.cell.array, atol=1e-9)
    np.testing.assert_allclose(frames[0].positions, user.positions, atol=1e-9)
    # the mdtraj file holds the same structure, rotated into OpenMM's frame
    top = None if fmt == "h5" else str(out / "topology.pdb")
    trajectory = mdtraj.load(str(out / f"trajectory.{fmt}"), top=top)
    assert trajectory.n_frames == 3
    pairs = np.array([(i, j) for i in range(27) for j in range(i + 1, 27)])
    from_file = 10.0 * mdtraj.compute_distances(trajectory, pairs, periodic=True)
    for index, frame in enumerate(frames):
        expected = frame.get_distances(pairs[:, 0], pairs[:, 1], mic=True)
        np.testing.assert_allclose(from_file[index], expected, atol=0.02)
    # forces are reported in the user's frame: compare with the ASE calculator directly
    from md_drivers import EquiforceCalculator
    check = frames[-1].copy()
    check.calc = EquiforceCalculator("cu-emt")
    np.testing.assert_allclose(frames[-1].get_forces(), check.get_forces(), atol=1e-4)
