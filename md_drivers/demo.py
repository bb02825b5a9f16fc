"""The embedded default job behind ``make demo``: NVT then NVE of fcc Cu on ``cu-emt``.

Two runs of :func:`md_drivers.runner.run_md` in one directory: ``nvt/`` (Langevin at the
target temperature) and ``nve/`` (velocity Verlet from the NVT run's last frame). Each has
the usual outputs (thermo.csv and thermo.png, trajectory.dcd with topology.pdb,
trajectory.extxyz, checkpoint.pkl and summary.json).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import ase.io

from .runner import MDConfig, RunSummary, run_md

__all__ = ["DemoSettings", "run_demo"]


@dataclass(frozen=True)
class DemoSettings:
    """The demo: ``repeat``^3 cubic fcc Cu cells (4: 256 atoms) with the shipped potential.

    Attributes:
        nvt_steps, nve_steps: 1 fs steps of each stage.
        temperature_K: Langevin target (friction 5/ps, to equilibrate quickly).
        engine: ``"ase"`` or ``"openmm"`` (Langevin for both stages with openmm, which has
            no NVE integrator in the runner).
        run_dir: output directory (replaced if it holds a previous demo).
    """

    repeat: int = 4
    nvt_steps: int = 500
    nve_steps: int = 1500
    temperature_K: float = 300.0
    potential: str = "cu-emt"
    engine: str = "ase"
    output_interval: int = 20
    seed: int = 0
    run_dir: str = "runs/demo"

    def __post_init__(self) -> None:
        if self.repeat < 1 or self.nvt_steps < 1 or self.nve_steps < 1:
            raise ValueError("repeat, nvt_steps and nve_steps must be >= 1")


def run_demo(settings: DemoSettings = DemoSettings(), progress: bool = True) -> tuple[RunSummary, RunSummary]:
    """Run both stages; returns their summaries (NVT, NVE)."""
    root = Path(settings.run_dir)
    for stage in ("nvt", "nve"):
        if (root / stage / "config.json").exists():
            shutil.rmtree(root / stage)
    interval = settings.output_interval
    base = MDConfig(structure=f"fcc-Cu:{settings.repeat}x{settings.repeat}x{settings.repeat}",
                    potential=(settings.potential,), engine=settings.engine,
                    ensemble="nvt-langevin", steps=settings.nvt_steps,
                    temperature_K=settings.temperature_K, friction_per_ps=5.0,
                    output_interval=interval, checkpoint_interval=interval * 10,
                    seed=settings.seed)
    nvt = run_md(base, root / "nvt", progress=progress)
    last = ase.io.read(root / "nvt" / "trajectory.extxyz", index=-1)
    nve_ensemble = "nve" if settings.engine == "ase" else "nvt-langevin"
    nve = run_md(base.replace(ensemble=nve_ensemble, steps=settings.nve_steps,
                              maxwell_boltzmann=False, structure=str(root / "nvt" / "trajectory.extxyz")),
                 root / "nve", atoms=last, progress=progress)
    return nvt, nve
