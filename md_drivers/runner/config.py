"""What an MD run does: one validated, JSON-serialisable dataclass."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Optional

from .watchdog import WatchdogConfig

__all__ = ["MDConfig", "ENSEMBLES", "TRAJECTORY_FORMATS"]

ENSEMBLES = {
    "ase": ("nve", "nvt-langevin", "nvt-nhc", "npt-iso", "npt-aniso"),
    "openmm": ("nvt-langevin", "npt-mc"),
}
TRAJECTORY_FORMATS = ("dcd", "xtc", "h5")


@dataclass(frozen=True)
class MDConfig:
    """An MD run.

    Attributes:
        structure: a file ASE or pymatgen reads (extxyz, CIF, POSCAR, PDB, ...) or a
            built-in such as ``"fcc-Cu:4x4x4"`` (see :func:`load_structure`).
        potential: a potential file or shipped name; two or more make a committee.
        engine: ``"ase"`` or ``"openmm"``.
        ensemble: ase: ``nve`` (velocity Verlet), ``nvt-langevin``, ``nvt-nhc``
            (Nose-Hoover chain), ``npt-iso`` / ``npt-aniso`` (MTK barostat with a
            Nose-Hoover chain); openmm: ``nvt-langevin``, ``npt-mc`` (Langevin + Monte Carlo
            barostat).
        timestep_fs: fs. steps: MD steps. temperature_K: target (and initial) K.
        pressure_bar: NPT pressure, bar.
        friction_per_ps: Langevin friction, 1/ps. tdamp_fs, pdamp_fs: Nose-Hoover and MTK
            time constants, fs. barostat_interval: steps between Monte Carlo moves.
        output_interval: steps between trajectory frames and thermo rows.
        checkpoint_interval: steps between checkpoints (a multiple of output_interval).
        seed: velocities and thermostat noise.
        device, dtype: where and in what precision the potential runs (dtype None: the
            file's).
        skin: Verlet skin of the neighbour list, A.
        maxwell_boltzmann: draw initial velocities at ``temperature_K``; False keeps the
            structure's momenta (e.g. from an extxyz frame).
        trajectory_format: ``dcd``, ``xtc`` or ``h5`` (mdtraj), always with an extxyz copy.
        committee_threshold: save frames whose largest per-atom force spread exceeds this
            (eV/A) for retraining; None: never.
        watchdog: limits that stop the run.
    """

    structure: str
    potential: tuple[str, ...]
    engine: str = "ase"
    ensemble: str = "nve"
    timestep_fs: float = 1.0
    steps: int = 1000
    temperature_K: float = 300.0
    pressure_bar: float = 1.0
    friction_per_ps: float = 1.0
    tdamp_fs: float = 100.0
    pdamp_fs: float = 1000.0
    barostat_interval: int = 25
    output_interval: int = 10
    checkpoint_interval: int = 100
    seed: int = 0
    device: str = "cpu"
    dtype: Optional[str] = None
    skin: float = 1.0
    maxwell_boltzmann: bool = True
    trajectory_format: str = "dcd"
    committee_threshold: Optional[float] = None
    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)

    def __post_init__(self) -> None:
        if isinstance(self.potential, str):
            object.__setattr__(self, "potential", (self.potential,))
        object.__setattr__(self, "potential", tuple(str(p) for p in self.potential))
        if isinstance(self.watchdog, dict):
            object.__setattr__(self, "watchdog", WatchdogConfig(**self.watchdog))
        self._validate()

    def _validate(self) -> None:
        if not self.potential:
            raise ValueError("potential: give at least one potential file or name")
        if self.engine not in ENSEMBLES:
            raise ValueError(f"engine must be one of {sorted(ENSEMBLES)}, got {self.engine!r}")
        if self.ensemble not in ENSEMBLES[self.engine]:
            raise ValueError(f"ensemble {self.ensemble!r} is not available with engine "
                             f"{self.engine!r}; choose from {ENSEMBLES[self.engine]}")
        for name in ("timestep_fs", "friction_per_ps", "tdamp_fs", "pdamp_fs"):
            if not 0 < getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a positive, finite number, got "
                                 f"{getattr(self, name)}")
        for name in ("steps", "output_interval", "checkpoint_interval", "barostat_interval"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {getattr(self, name)!r}")
        if self.checkpoint_interval % self.output_interval:
            raise ValueError(f"checkpoint_interval ({self.checkpoint_interval}) must be a "
                             f"multiple of output_interval ({self.output_interval})")
        for name in ("temperature_K", "skin"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)}")
        if not math.isfinite(self.pressure_bar):
            raise ValueError(f"pressure_bar must be a finite number, got {self.pressure_bar}")
        if self.committee_threshold is not None and not 0 < self.committee_threshold < math.inf:
            raise ValueError(f"committee_threshold must be a positive number of eV/A, got "
                             f"{self.committee_threshold}")
        if self.dtype not in (None, "float32", "float64"):
            raise ValueError(f"dtype must be float32, float64 or None, got {self.dtype!r}")
        if self.trajectory_format not in TRAJECTORY_FORMATS:
            raise ValueError(f"trajectory_format must be one of {TRAJECTORY_FORMATS}")
        if self.engine == "openmm" and len(self.potential) > 1:
            raise ValueError("a committee of potentials runs with engine='ase' only")

    @property
    def is_nve(self) -> bool:
        return self.ensemble == "nve"

    @property
    def is_npt(self) -> bool:
        return self.ensemble.startswith("npt")

    def replace(self, **changes: Any) -> "MDConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["potential"] = list(self.potential)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MDConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown MD settings: {', '.join(unknown)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
