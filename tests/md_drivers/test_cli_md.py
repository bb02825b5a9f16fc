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


@pytest.fixture
def finished_run(tmp_path) -> Path:
    """A complete 4-step NVT run of 32 Cu atoms."""
    out = tmp_path / "run"
    assert main(["md", "fcc-Cu:2x2x2", *QUICK, "--ensemble", "nvt-langevin", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("extra, named", [(["--temperature", "900"], "--temperature"),
                                          (["fcc-Cu:3x3x3"], "STRUCTURE"),
                                          (["--potential", "ethanol-xtb"], "--potential"),
                                          (["--ensemble", "nve"], "--ensemble")])
def test_resume_refuses_options_it_cannot_honour(finished_run, capsys, extra, named):
    before = files_of(finished_run)
    code, _, err = md(capsys, "--resume", finished_run, "--steps", "8", *extra)
    assert code == 2 and named in err and "cannot change" in err
    assert files_of(finished_run) == before


def test_resume_to_fewer_steps_than_done_is_refused_and_a_complete_run_is_left_alone(
        finished_run, capsys, caplog):
    before = files_of(finished_run)
    code, _, err = md(capsys, "--resume", finished_run, "--steps", "2")
    assert code == 2 and "already run 4 steps" in err and "--steps 2" in err
    assert files_of(finished_run) == before
    code, out, _ = md(capsys, "--resume", finished_run)
    assert code == 0 and "complete at step 4" in caplog.text
    assert files_of(finished_run) == before


def test_resumed_run_reports_its_own_speed_the_totals_and_strict_json(finished_run, capfd):
    import json

    assert main(["md", "--resume", str(finished_run), "--steps", "10", "--no-progress"]) == 0
    out = capfd.readouterr().out
    assert "6 steps of 32 atoms" in out and "run total: 10 steps (0.01 ps)" in out
    assert "dcdplugin" not in out  # mdtraj's C reader prints to stdout; not ours to show

    def refuse(constant):
        raise AssertionError(f"summary.json holds a bare {constant}")

    summary = json.loads((finished_run / "summary.json").read_text(), parse_constant=refuse)
    assert summary["steps"] == 10 and summary["steps_run"] == 6
    assert summary["steps_per_second"] > 0 and summary["temperature_sem_K"] is None
    assert summary["total_wall_seconds"] > summary["wall_seconds"] > 0


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["md", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in ("(default: nve)", "fs (default: 1.0)", "initial velocities (default: 300.0)",
                  "1/ps (default: 1.0)", "thermo rows (default: 10)",
                  "checkpoints (default: 100)", "(default: dcd)", "MD steps (default: 1000)",
                  "noise (default: 0)"):
        assert shown in text, shown


def test_resolved_configuration_is_printed_and_nve_temperature_warns(tmp_path, capsys, caplog):
    code, out, _ = md(capsys, "fcc-Cu:2x2x2", *QUICK, "--temperature", "600", "--out",
                      tmp_path / "run")
    assert code == 0
    assert "engine ase, nve, 4 steps of 1 fs, T 600 K" in out and "seed 0" in out
    assert "nve has no thermostat" in caplog.text and "nvt-langevin" in caplog.text


@pytest.mark.parametrize("engine, ensemble", [("ase", "npt-iso"), ("ase", "npt-aniso"),
                                              ("openmm", "npt-mc")])
def test_barostat_on_a_slab_is_refused_naming_the_open_direction(tmp_path, capsys, engine,
                                                                  ensemble):
    from ase.build import fcc111

    slab = tmp_path / "slab.extxyz"
    fcc111("Cu", (2, 2, 3), vacuum=6.0).write(slab)
    before = files_of(tmp_path)
    code, _, err = md(capsys, slab, *QUICK, "--engine", engine, "--ensemble", ensemble,
                      "--out", tmp_path / "run")
    assert code == 2 and "not periodic along z" in err and ensemble in err
    assert files_of(tmp_path) == before


@pytest.mark.parametrize("structure, extra, message", [
    ("fcc-Cu:2x2x2", ["--temperature", "nan"], "--temperature (temperature_K) must be a finite"),
    ("fcc-Cu:2x2x2", ["--temperature", "-5"], "--temperature (temperature_K) must be a finite"),
    ("single", [], "a single atom has no velocity left"),
    ("fcc-Cu:2x2x2", ["--timestep", "inf"], "--timestep (timestep_fs) must be a positive")])
def test_bad_temperatures_and_velocities_name_the_right_thing(tmp_path, capsys, structure,
                                                              extra, message):
    if structure == "single":
        structure = tmp_path / "one.xyz"
        structure.write_text("1\n\nCu 0 0 0\n")
    code, _, err = md(capsys, structure, *QUICK, *extra, "--out", tmp_path / "run")
    assert code == 2 and message in err and "positions" not in err
    assert not (tmp_path / "run").exists()


def test_built_in_lattices_and_molecule_run(tmp_path, capsys):
    code, _, err = md(capsys, "bcc-Fe:2x2x2:a=2.87", "--potential", "cu-emt", "--no-progress",
                      "--steps", "1", "--out", tmp_path / "bcc")
    assert code == 2 and "Fe" in err  # cu-emt knows Cu only: the element is named
    code, _, err = md(capsys, "bcc-Cu:2x2x2:a=2.87", *QUICK, "--out", tmp_path / "bcc")
    assert code == 0, err
    code, _, err = md(capsys, "molecule-CH3CH2OH", "--potential", "ethanol-xtb", "--no-progress",
                      "--steps", "4", "--output-interval", "2", "--checkpoint-interval", "2",
                      "--ensemble", "nvt-langevin", "--out", tmp_path / "ethanol")
    assert code == 0, err
    assert len(ase.io.read(tmp_path / "ethanol" / "trajectory.extxyz", ":")) == 3


@pytest.mark.parametrize("case, message", [
    ("--device cuda", "CUDA is not available here"), ("--device gpu", "not a torch device"),
    ("degenerate cell", "linearly dependent (singular cell)"), ("unknown element", "Au not supported"),
    ("--dtype float32", None)])
def test_a_failed_start_names_the_problem_and_leaves_nothing(tmp_path, capsys, case, message):
    structure, extra = "fcc-Cu:2x2x2", []
    if case.startswith("--"):
        extra = case.split()
    elif case == "degenerate cell":
        structure = tmp_path / "flat.extxyz"
        structure.write_text('2\nLattice="3 0 0 6 0 0 0 0 3" Properties=species:S:1:pos:R:3 '
                             'pbc="T T T"\nCu 0 0 0\nCu 1.5 0 1.5\n')
    else:
        structure = "fcc-Au:2x2x2"
    out = tmp_path / "run"
    code, _, err = md(capsys, structure, *QUICK, *extra, "--out", out)
    if message is None:          # shipped float64 potentials run in float32 too
        assert code == 0, err
        return
    assert code == 2 and message in err and "Traceback" not in err
    assert not out.exists()


def test_config_file_then_options_and_every_field_reachable(tmp_path, capsys):
    import json

    config = tmp_path / "run.yaml"
    config.write_text("structure: fcc-Cu:2x2x2\npotential: cu-emt\nensemble: nvt-nhc\n"
                      "temperature_K: 400\ntdamp_fs: 50\nskin: 0.7\nsteps: 4\n"
                      "output_interval: 2\ncheckpoint_interval: 2\nwatchdog: {max_force: 30}\n")
    code, _, err = md(capsys, "--config", config, "--temperature", "450", "--pdamp", "300",
                      "--barostat-interval", "7", "--min-distance", "0.4", "--no-progress",
                      "--out", tmp_path / "run")
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["ensemble"] == "nvt-nhc" and saved["temperature_K"] == 450.0      # flag wins
    assert saved["tdamp_fs"] == 50 and saved["skin"] == 0.7 and saved["pdamp_fs"] == 300.0
    assert saved["barostat_interval"] == 7 and saved["steps"] == 4
    assert saved["watchdog"]["max_force"] == 30 and saved["watchdog"]["min_distance"] == 0.4
    config.write_text("structure: fcc-Cu:2x2x2\npotential: cu-emt\ntemprature_K: 400\n")
    code, _, err = md(capsys, "--config", config, "--out", tmp_path / "bad")
    assert code == 2 and "unknown MD settings: temprature_K" in err


def test_keep_velocities_starts_from_the_structures_momenta(tmp_path, capsys):
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    MaxwellBoltzmannDistribution(atoms, temperature_K=123.0, rng=np.random.default_rng(4))
    path = tmp_path / "hot.extxyz"
    atoms.write(path)
    code, _, err = md(capsys, path, *QUICK, "--keep-velocities", "--out", tmp_path / "run")
    assert code == 0, err
    start = ase.io.read(tmp_path / "run" / "start.extxyz")
    np.testing.assert_array_equal(start.get_momenta(), ase.io.read(path).get_momenta())
