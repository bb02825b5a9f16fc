"""``run_md`` and ``resume_md``: long MD with outputs, checkpoints and a watchdog.

A run directory holds ``config.json``, ``start.extxyz`` (the initial frame, velocities
included), ``checkpoint.pkl``, ``thermo.csv``, ``trajectory.<fmt>`` + ``topology.pdb``,
``trajectory.extxyz``, and at the end ``thermo.png`` and ``summary.json``. Committee runs
add ``uncertain_frames.extxyz``; a watchdog trip adds ``watchdog_frame.extxyz``.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

import ase.io
import numpy as np
import torch
from ase import Atoms, units
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from tqdm import tqdm

from ._ase_engine import AseEngine
from ._checks import check_start, check_velocities
from ._openmm_engine import OpenMMEngine
from .config import TRAJECTORY_FORMATS, MDConfig
from .outputs import ThermoLog, TrajectoryWriter, plot_thermo, truncate_extxyz, write_json
from .restart import load_md_checkpoint, save_md_checkpoint
from .structures import load_structure
from .watchdog import WatchdogTripped, check_frame

__all__ = ["run_md", "resume_md", "RunSummary"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """What a run measured. Energies eV, temperature K, times s.

    ``steps`` and ``simulated_ps`` are the whole run's; ``steps_run``, ``wall_seconds``,
    ``steps_per_second`` and ``ns_per_day`` are this invocation's (a resumed run's speed is
    that of the steps it ran); ``total_wall_seconds`` adds the wall time of earlier
    invocations up to the checkpoint they left. ``drift_eV_per_atom_per_ps`` is the slope
    of a straight-line fit of the total energy against time over the whole run, per atom
    (NVE only). ``temperature_sem_K`` is the standard error of the mean temperature from
    10 blocks (None with fewer than 20 frames). None: not measured.
    """

    run_dir: str
    num_atoms: int
    steps: int
    simulated_ps: float
    steps_run: int
    wall_seconds: float
    total_wall_seconds: float
    steps_per_second: Optional[float]
    ns_per_day: Optional[float]
    mean_temperature_K: float
    temperature_sem_K: Optional[float]
    drift_eV_per_atom_per_ps: Optional[float]
    max_forces_std_eV_A: Optional[float]
    uncertain_frames: int


# Everything a run writes into its directory (trajectories in every format).
RUN_FILES = ("config.json", "start.extxyz", "checkpoint.pkl", "summary.json", "thermo.csv",
             "thermo.png", "topology.pdb", "trajectory.extxyz", "uncertain_frames.extxyz",
             "watchdog_frame.extxyz",
             *(f"trajectory.{fmt}" for fmt in TRAJECTORY_FORMATS))


def run_md(config: MDConfig, run_dir: str | Path, atoms: Optional[Atoms] = None,
           progress: bool = True, overwrite: bool = False) -> RunSummary:
    """Start a run in a new directory ``run_dir``.

    Args:
        config: what to run.
        run_dir: created; must not hold a run already (use :func:`resume_md`), unless
            ``overwrite``.
        atoms: the starting structure (overrides ``config.structure``), momenta used when
            ``config.maxwell_boltzmann`` is False.
        progress: show a progress bar.
        overwrite: delete the files of the run already in ``run_dir`` (``RUN_FILES``;
            anything else in the folder is kept) and start afresh.

    Raises:
        FileExistsError: ``run_dir`` holds a run and ``overwrite`` is False.
        WatchdogTripped: the run went unphysical (the last good checkpoint is kept).
    """
    run_dir = Path(run_dir)
    if (run_dir / "config.json").exists():
        if not overwrite:
            raise FileExistsError(f"{run_dir} already holds a run; resume it with "
                                  f"`equiforce md --resume {run_dir}`, replace it with "
                                  f"`--overwrite`, or choose a new directory")
        log.warning("overwriting the run in %s", run_dir)
        _remove_run_files(run_dir)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        simulation = _start(config, run_dir, atoms)
    except BaseException:
        # a failed start leaves nothing that blocks a retry; a watchdog's frame is evidence
        _remove_run_files(run_dir, keep=("watchdog_frame.extxyz",))
        if created and not any(run_dir.iterdir()):
            run_dir.rmdir()
        raise
    return simulation.run(progress)


def _start(config: MDConfig, run_dir: Path, atoms: Optional[Atoms]) -> "_Simulation":
    """Everything up to the first checkpoint: structure, velocities, engine, step 0."""
    atoms = (atoms.copy() if atoms is not None else load_structure(config.structure))
    check_start(config, atoms)
    if config.maxwell_boltzmann:
        thermalize_momenta(atoms, temperature_K=config.temperature_K,
                           rng=np.random.default_rng(config.seed))
        Stationary(atoms)
    check_velocities(atoms, config)
    log.info("equiforce md configuration: %s", config.to_json())
    write_json(run_dir / "config.json", config.to_dict())
    ase.io.write(run_dir / "start.extxyz", atoms, format="extxyz")
    simulation = _Simulation(config, run_dir, atoms)
    simulation.record_frame()
    simulation.checkpoint()
    return simulation


def _remove_run_files(run_dir: Path, keep: tuple[str, ...] = ()) -> None:
    for name in RUN_FILES:
        if name not in keep:
            (run_dir / name).unlink(missing_ok=True)


def resume_md(run_dir: str | Path, steps: Optional[int] = None, progress: bool = True) -> RunSummary:
    """Continue the run in ``run_dir`` from its checkpoint, to ``steps`` total steps
    (default: the configured number). Output files are cut back to the checkpoint first,
    so they continue seamlessly; an NVE run resumed this way is identical to an
    uninterrupted one.
    """
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{run_dir}: not an equiforce md run directory (no config.json)")
    config = MDConfig.from_dict(json.loads(config_path.read_text()))
    state = load_md_checkpoint(run_dir)
    target = config.steps if steps is None else steps
    if target < state["step"]:
        raise ValueError(f"{run_dir} has already run {state['step']} steps; --steps {target} "
                         f"would not extend it: give the new total, more than {state['step']}")
    if target == state["step"] and (run_dir / "summary.json").is_file():
        log.warning("%s is complete at step %d; nothing to run (extend it with --steps or "
                    "--time, the new total)", run_dir, target)
        return _stored_summary(run_dir / "summary.json")
    if target != config.steps:
        config = config.replace(steps=target)
        write_json(config_path, config.to_dict())
    atoms = ase.io.read(run_dir / "start.extxyz")
    simulation = _Simulation(config, run_dir, atoms)
    simulation.restore(state)
    log.info("resumed %s at step %d of %d", run_dir, simulation.engine.step_count, config.steps)
    return simulation.run(progress)


class _Simulation:
    """One run: engine, writers, watchdog and committee bookkeeping."""

    def __init__(self, config: MDConfig, run_dir: Path, atoms: Atoms) -> None:
        self.config, self.run_dir, self.atoms = config, run_dir, atoms
        self.engine = _engine(config, atoms)
        self.thermo = ThermoLog(run_dir / "thermo.csv")
        self.trajectory = TrajectoryWriter(run_dir, config.trajectory_format, atoms,
                                           1e-3 * config.timestep_fs, config.output_interval,
                                           _pdb_topology(config.structure))
        self.uncertain_frames = 0
        self.wall_before = 0.0      # wall time of earlier invocations, s
        self.segment_start: Optional[float] = None
        self.reference_temperature = (config.temperature_K if not config.is_nve
                                      else float(atoms.get_temperature()))
        log.info("equiforce md: %d atoms, engine %s, %s, %d steps of %g fs -> %s", len(atoms),
                 config.engine, config.ensemble, config.steps, config.timestep_fs, run_dir)

    def run(self, progress: bool) -> RunSummary:
        config, start_step = self.config, self.engine.step_count
        start = self.segment_start = time.perf_counter()
        with tqdm(total=config.steps, initial=start_step, unit="step", disable=not progress,
                  desc=f"md {config.ensemble}") as bar:
            while self.engine.step_count < config.steps:
                chunk = min(config.output_interval, config.steps - self.engine.step_count)
                self.engine.step(chunk)
                row = self.record_frame()
                if self.engine.step_count % config.checkpoint_interval == 0:
                    self.checkpoint()
                bar.update(chunk)
                bar.set_postfix(T=f"{row['temperature_K']:.0f}K", E=f"{row['total_eV']:.4f}eV")
        if self.engine.step_count % config.checkpoint_interval:
            self.checkpoint()
        wall = time.perf_counter() - start
        return self.finish(self.engine.step_count - start_step, wall)

    def record_frame(self) -> dict[str, float]:
        """Observe, check the watchdog, then write the frame and its thermo row."""
        step, atoms = self.engine.step_count, self.atoms
        forces, energy = self.engine.forces(), self.engine.potential_energy()
        temperature = float(atoms.get_temperature())
        try:
            check_frame(self.config.watchdog, atoms, forces, energy, temperature,
                        self.reference_temperature, step)
        except WatchdogTripped as trip:
            self._write_offending_frame(forces, energy, trip)
            raise
        row = self._thermo_row(step, energy, temperature)
        frame = self._frame(forces, energy)
        self.trajectory.append(frame, step)
        self.thermo.append(row)
        self._save_if_uncertain(frame, row)
        return row

    def checkpoint(self) -> None:
        save_md_checkpoint(self.run_dir, {
            "step": self.engine.step_count, "engine": self.engine.state(),
            "frames": self.trajectory.frames, "uncertain_frames": self.uncertain_frames,
            "wall_seconds": self.total_wall(), "torch": torch.__version__})
        self.engine.reset_neighbors()

    def total_wall(self) -> float:
        """Wall time of this run so far, s (earlier invocations up to their checkpoint)."""
        if self.segment_start is None:
            return self.wall_before
        return self.wall_before + time.perf_counter() - self.segment_start

    def restore(self, state: dict) -> None:
        self.wall_before = float(state.get("wall_seconds", 0.0))
        self.engine.restore(state["engine"])
        self.engine.reset_neighbors()
        self.trajectory.truncate(state["frames"])
        self.thermo.truncate(state["step"])
        self.uncertain_frames = state["uncertain_frames"]
        truncate_extxyz(self.run_dir / "uncertain_frames.extxyz", self.uncertain_frames)

    def finish(self, steps_run: int, wall: float) -> RunSummary:
        thermo = self.thermo.read()
        plot_thermo(thermo, self.run_dir / "thermo.png",
                    f"{self.config.ensemble}, {len(self.atoms)} atoms, {self.config.engine}")
        summary = _summary(self.config, self.run_dir, thermo, len(self.atoms), steps_run, wall,
                           self.total_wall(), self.uncertain_frames)
        write_json(self.run_dir / "summary.json", asdict(summary))
        return summary

    def _thermo_row(self, step: int, energy: float, temperature: float) -> dict[str, float]:
        atoms, kinetic = self.atoms, float(self.atoms.get_kinetic_energy())
        stress = self.engine.stress()
        pressure = -float(np.sum(stress[:3])) / 3.0 / units.bar if stress is not None else np.nan
        volume = float(atoms.get_volume()) if atoms.pbc.all() else np.nan
        per_atom = self.engine.force_spread()
        spread = float(np.max(per_atom)) if per_atom is not None else np.nan
        return {"step": step, "time_ps": step * self.config.timestep_fs * 1e-3,
                "potential_eV": energy, "kinetic_eV": kinetic, "total_eV": energy + kinetic,
                "temperature_K": temperature, "pressure_bar": pressure, "volume_A3": volume,
                "max_forces_std_eV_A": spread}

    def _frame(self, forces: np.ndarray, energy: float) -> Atoms:
        from ase.calculators.singlepoint import SinglePointCalculator

        frame = self.atoms.copy()
        frame.calc = SinglePointCalculator(frame, energy=energy, forces=forces)
        frame.info["step"] = self.engine.step_count
        spread = self.engine.force_spread()
        if spread is not None:
            frame.arrays["forces_std"] = spread
        return frame

    def _save_if_uncertain(self, frame: Atoms, row: dict[str, float]) -> None:
        threshold = self.config.committee_threshold
        if threshold is None or not row["max_forces_std_eV_A"] > threshold:
            return
        ase.io.write(self.run_dir / "uncertain_frames.extxyz", frame, format="extxyz", append=True)
        self.uncertain_frames += 1
        log.info("step %d: committee force spread %.3f eV/A > %.3f, frame saved for retraining",
                 row["step"], row["max_forces_std_eV_A"], threshold)

    def _write_offending_frame(self, forces: np.ndarray, energy: float, trip: WatchdogTripped) -> None:
        frame = self._frame(np.nan_to_num(forces), float(np.nan_to_num(energy)))
        frame.info["watchdog_rule"] = trip.rule
        ase.io.write(self.run_dir / "watchdog_frame.extxyz", frame, format="extxyz")
        log.error("%s; offending frame in %s; last good checkpoint kept", trip,
                  self.run_dir / "watchdog_frame.extxyz")


def _engine(config: MDConfig, atoms: Atoms):
    from ..ase import EquiforceCalculator
    from ..committee import CommitteeCalculator

    dtype = getattr(torch, config.dtype) if config.dtype else None
    if config.engine == "openmm":
        calculator = EquiforceCalculator(config.potential[0], config.device, dtype, config.skin)
        return OpenMMEngine(atoms, calculator.potential, calculator, config)
    if len(config.potential) > 1:
        calculator = CommitteeCalculator(config.potential, config.device, dtype, config.skin)
    else:
        calculator = EquiforceCalculator(config.potential[0], config.device, dtype, config.skin)
    return AseEngine(atoms, calculator, config)


def _pdb_topology(structure: str) -> Optional[str]:
    return structure if structure.lower().endswith(".pdb") and Path(structure).is_file() else None


def _summary(config: MDConfig, run_dir: Path, thermo: dict[str, np.ndarray], num_atoms: int,
             steps_run: int, wall: float, total_wall: float, uncertain: int) -> RunSummary:
    simulated_ps = steps_run * config.timestep_fs * 1e-3
    time_ps, total = thermo["time_ps"], thermo["total_eV"]
    drift = None
    if config.is_nve and len(time_ps) > 2:
        drift = float(np.polyfit(time_ps, total, 1)[0]) / num_atoms
    temperatures = thermo["temperature_K"][1:] if len(time_ps) > 1 else thermo["temperature_K"]
    spread = thermo["max_forces_std_eV_A"]
    return RunSummary(
        run_dir=str(run_dir), num_atoms=num_atoms, steps=int(thermo["step"][-1]),
        simulated_ps=float(time_ps[-1]), steps_run=steps_run, wall_seconds=wall,
        total_wall_seconds=total_wall,
        steps_per_second=steps_run / wall if wall > 0 and steps_run else None,
        ns_per_day=simulated_ps * 1e-3 / (wall / 86400.0) if wall > 0 and steps_run else None,
        mean_temperature_K=float(np.mean(temperatures)),
        temperature_sem_K=_block_sem(temperatures),
        drift_eV_per_atom_per_ps=drift,
        max_forces_std_eV_A=None if np.all(np.isnan(spread)) else float(np.nanmax(spread)),
        uncertain_frames=uncertain)


def _stored_summary(path: Path) -> RunSummary:
    """The summary a finished run wrote (one from before ``steps_run`` existed too)."""
    stored = json.loads(path.read_text())
    stored.setdefault("steps_run", stored["steps"])
    stored.setdefault("total_wall_seconds", stored["wall_seconds"])
    return RunSummary(**{f.name: stored.get(f.name) for f in fields(RunSummary)})


def _block_sem(values: np.ndarray, blocks: int = 10) -> Optional[float]:
    """Standard error of the mean from block averages (correlated samples)."""
    if len(values) < 2 * blocks:
        return None
    means = np.array([b.mean() for b in np.array_split(values, blocks)])
    return float(means.std(ddof=1) / np.sqrt(blocks))
