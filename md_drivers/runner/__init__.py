"""Long MD: ``run_md``/``resume_md``, engines (ASE, OpenMM), outputs, checkpoints, watchdog."""
from .config import ENSEMBLES, TRAJECTORY_FORMATS, MDConfig
from .engine import Engine
from .restart import CheckpointError
from .run import RunSummary, resume_md, run_md
from .structures import load_structure
from .watchdog import WatchdogConfig, WatchdogTripped, check_frame

__all__ = [
    "ENSEMBLES",
    "TRAJECTORY_FORMATS",
    "CheckpointError",
    "Engine",
    "MDConfig",
    "RunSummary",
    "WatchdogConfig",
    "WatchdogTripped",
    "check_frame",
    "load_structure",
    "resume_md",
    "run_md",
]
