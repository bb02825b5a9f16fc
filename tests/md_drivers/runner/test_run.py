"""run_md / resume_md: exact restarts, readable outputs, watchdog stops, openmm engine."""
import json
import pickle

import ase.io
import mdtraj
import numpy as np
import pytest

from md_drivers.runner import (MDConfig, WatchdogConfig, WatchdogTripped, resume_md, run_md)
from md_drivers.runner._ase_engine import AseEngine
from md_drivers.runner._openmm_engine import OpenMMEngine

CU32 = dict(structure="fcc-Cu:2x2x2", potential=("cu-emt",), steps=100, output_interval=10,
            checkpoint_interval=40, temperature_K=600.0)


RESTARTABLE = [("ase", "nve"), ("ase", "nvt-langevin"), ("ase", "nvt-nhc"), ("ase", "npt-iso"),
               ("ase", "npt-aniso"), ("openmm", "nvt-langevin"), ("openmm", "npt-mc")]


@pytest.mark.parametrize("engine, ensemble", RESTARTABLE)
def test_interrupted_and_resumed_run_equals_the_uninterrupted_one(tmp_path, monkeypatch, engine,
                                                                  ensemble):
    """Killed at step 30, resumed from the step-20 checkpoint: the same trajectory, bit for bit
    (positions, momenta and cell of every frame, thermo.csv, every DCD frame)."""
    engine_class = AseEngine if engine == "ase" else OpenMMEngine
    config = MDConfig(**{**CU32, "steps": 50, "output_interval": 5, "checkpoint_interval": 20},
                      engine=engine, ensemble=ensemble, pressure_bar=20_000.0, pdamp_fs=200.0,
                      barostat_interval=5)
    run_md(config, tmp_path / "whole", progress=False)

    original_step = engine_class.step

    def step_then_die(self, n):
        original_step(self, n)
        if self.step_count == 30:  # after the checkpoint at 20 and frames at 25, 30
            raise KeyboardInterrupt

    monkeypatch.setattr(engine_class, "step", step_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_md(config, tmp_path / "split", progress=False)
    monkeypatch.setattr(engine_class, "step", original_step)
    assert pickle.loads((tmp_path / "split" / "checkpoint.pkl").read_bytes())["step"] == 20
    resume_md(tmp_path / "split", progress=False)

    frames = [ase.io.read(tmp_path / d / "trajectory.extxyz", ":") for d in ("whole", "split")]
    assert len(frames[0]) == len(frames[1]) == 11
    if (engine, ensemble) == ("openmm", "npt-mc"):
        # OpenMM's checkpoint does not restore the Monte Carlo barostat's random state (plain
        # OpenMM shows it too, docs/md.md): identical up to the checkpoint, then a valid
        # continuation, not the same one
        frames = [f[:5] for f in frames]
    for a, b in zip(*frames):
        np.testing.assert_array_equal(b.positions, a.positions)
        np.testing.assert_array_equal(b.get_momenta(), a.get_momenta())
        np.testing.assert_array_equal(b.cell.array, a.cell.array)
    rows = [(tmp_path / d / "thermo.csv").read_text().splitlines() for d in ("whole", "split")]
    assert rows[0][:len(frames[0]) + 1] == rows[1][:len(frames[0]) + 1]
    dcd = [mdtraj.load(str(tmp_path / d / "trajectory.dcd"), top=str(tmp_path / d / "topology.pdb"))
           for d in ("whole", "split")]
    np.testing.assert_array_equal(dcd[0].xyz[:len(frames[0])], dcd[1].xyz[:len(frames[0])])


@pytest.mark.parametrize("fmt", ["dcd", "xtc", "h5"])
def test_trajectories_are_readable_by_mdtraj_and_ase(tmp_path, fmt):
    config = MDConfig(**{**CU32, "steps": 30}, ensemble="nvt-langevin", trajectory_format=fmt)
    summary = run_md(config, tmp_path / "run", progress=False)
    run = tmp_path / "run"
    top = None if fmt == "h5" else str(run / "topology.pdb")
    trajectory = mdtraj.load(str(run / f"trajectory.{fmt}"), top=top)
    frames = ase.io.read(run / "trajectory.extxyz", ":")
    assert trajectory.n_frames == len(frames) == 4 and trajectory.n_atoms == 32
    precision = 6e-3 if fmt == "xtc" else 1e-3  # XTC stores 0.001 nm
    np.testing.assert_allclose(trajectory.xyz[-1] * 10.0, frames[-1].positions, atol=precision)
    np.testing.assert_allclose(trajectory.unitcell_lengths[-1] * 10.0,
                               frames[-1].cell.lengths(), atol=1e-3)
    assert frames[-1].info["step"] == 30 and frames[-1].get_forces().shape == (32, 3)
    thermo = (run / "thermo.csv").read_text().splitlines()
    assert len(thermo) == 5 and thermo[0].startswith("step,time_ps,potential_eV")
    assert (run / "thermo.png").stat().st_size > 10_000
    saved = json.loads((run / "summary.json").read_text())
    assert saved["steps"] == 30 and saved["ns_per_day"] == pytest.approx(summary.ns_per_day)


def test_npt_changes_the_volume_and_logs_pressure(tmp_path):
    config = MDConfig(**{**CU32, "steps": 40}, ensemble="npt-iso", pressure_bar=50_000.0,
                      pdamp_fs=200.0)
    run_md(config, tmp_path / "run", progress=False)
    lines = (tmp_path / "run" / "thermo.csv").read_text().splitlines()[1:]
    volumes = [float(line.split(",")[7]) for line in lines]
    pressures = [float(line.split(",")[6]) for line in lines]
    assert volumes[-1] < volumes[0]  # 5 GPa compresses
    assert all(np.isfinite(pressures))


def test_watchdog_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    """0 K start from a strongly rattled crystal: the temperature rises past a 40 K cap."""
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    atoms.rattle(0.15, seed=3)
    config = MDConfig(**{**CU32, "checkpoint_interval": 10}, ensemble="nve",
                      maxwell_boltzmann=False,
                      watchdog=WatchdogConfig(max_temperature=40.0))
    with pytest.raises(WatchdogTripped, match="temperature_runaway") as trip:
        run_md(config, tmp_path / "run", atoms=atoms, progress=False)
    step = pickle.loads((tmp_path / "run" / "checkpoint.pkl").read_bytes())["step"]
    assert 0 < trip.value.step and step == trip.value.step - 10
    bad = ase.io.read(tmp_path / "run" / "watchdog_frame.extxyz")
    assert bad.info["watchdog_rule"] == "temperature_runaway" and bad.info["step"] == trip.value.step


def test_existing_run_directory_is_not_overwritten_unless_asked(tmp_path):
    config = MDConfig(**{**CU32, "steps": 10})
    run_md(config, tmp_path / "run", progress=False)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    with pytest.raises(FileExistsError, match="--resume.*--overwrite"):
        run_md(config.replace(steps=20), tmp_path / "run", progress=False)
    after = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    assert after == before
    summary = run_md(config.replace(steps=20), tmp_path / "run", progress=False, overwrite=True)
    assert summary.steps == 20


def test_cli_md_overwrite_flag(tmp_path):
    from md_drivers.cli import main

    args = ["md", "fcc-Cu:2x2x2", "--potential", "cu-emt", "--steps", "10",
            "--output-interval", "5", "--checkpoint-interval", "10", "--out",
            str(tmp_path / "run"), "--no-progress"]
    assert main(args) == 0
    thermo = (tmp_path / "run" / "thermo.csv").read_bytes()
    assert main(args) == 2 and (tmp_path / "run" / "thermo.csv").read_bytes() == thermo
    assert main(args + ["--overwrite"]) == 0


def test_corrupted_checkpoint_is_reported(tmp_path):
    from md_drivers.runner import CheckpointError

    run_md(MDConfig(**{**CU32, "steps": 10}), tmp_path / "run", progress=False)
    (tmp_path / "run" / "checkpoint.pkl").write_bytes(b"\x80\x05garbage")
    with pytest.raises(CheckpointError, match="corrupted checkpoint"):
        resume_md(tmp_path / "run", progress=False)


def test_openmm_engine_runs_langevin_and_monte_carlo_npt(tmp_path):
    for ensemble in ("nvt-langevin", "npt-mc"):
        config = MDConfig(**{**CU32, "steps": 20}, engine="openmm", ensemble=ensemble,
                          barostat_interval=2, pressure_bar=50_000.0)
        summary = run_md(config, tmp_path / ensemble, progress=False)
        frames = ase.io.read(tmp_path / ensemble / "trajectory.extxyz", ":")
        assert summary.steps == 20 and len(frames) == 3
        assert 100.0 < summary.mean_temperature_K < 1500.0
    first, last = frames[0].get_volume(), frames[-1].get_volume()
    assert last != first  # the barostat moved


def test_both_engines_implement_the_engine_interface():
    from ase.build import bulk

    from md_drivers import EquiforceCalculator
    from md_drivers.runner import Engine

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    calculator = EquiforceCalculator("cu-emt")
    engines = [AseEngine(atoms.copy(), calculator, MDConfig(**CU32)),
               OpenMMEngine(atoms.copy(), calculator.potential, calculator,
                            MDConfig(**CU32, engine="openmm", ensemble="nvt-langevin"))]
    for engine in engines:
        assert isinstance(engine, Engine) and engine.force_spread() is None
        assert engine.forces().shape == (32, 3) and engine.stress().shape == (6,)


def test_config_validation_names_the_problem():
    with pytest.raises(ValueError, match="not available with engine 'openmm'"):
        MDConfig(**CU32, engine="openmm", ensemble="nve")
    with pytest.raises(ValueError, match="multiple of output_interval"):
        MDConfig(**{**CU32, "checkpoint_interval": 15})
    with pytest.raises(ValueError, match="committee"):
        MDConfig(**{**CU32, "potential": ("a.pt", "b.pt")}, engine="openmm",
                 ensemble="nvt-langevin")
    assert MDConfig.from_dict(MDConfig(**CU32).to_dict()) == MDConfig(**CU32)
