"""An equiforce potential as a LAMMPS ``fix external`` (pf/callback), on any number of ranks."""
from __future__ import annotations

import logging
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from ase.data import atomic_numbers as ATOMIC_NUMBERS

from potentials import DeployedPotential, load

from ._mpi import import_lammps
from .halo import HaloEvaluator, ghost_cutoff

__all__ = ["EquiforceFix", "attach", "LAMMPS_DEFAULT_METAL_SKIN"]

log = logging.getLogger("equiforce.lammps")

LAMMPS_DEFAULT_METAL_SKIN = 2.0   # Angstrom, LAMMPS's neighbour skin in units metal


class EquiforceFix:
    """The callback of one ``fix external``: exact forces on each rank's local atoms, and
    the global energy and virial (summed over ranks) handed to LAMMPS.

    Made by :func:`attach`. Attributes: ``fix_id``; ``numbers`` (atomic number of each
    LAMMPS type, index 0 unused); ``comm_cutoff`` (Angstrom, the ghost cutoff the run
    uses); ``calls``; ``atoms_evaluated`` and ``local_atoms`` (sums over calls on this
    rank: their ratio is the halo overhead); ``seconds`` in the callback on this rank;
    ``error`` (on one rank, an exception raised in a callback; on several, the run aborts).
    """

    def __init__(self, lmp: Any, potential: DeployedPotential, numbers: np.ndarray,
                 fix_id: str, comm_cutoff: float, skin: float) -> None:
        _, self._mpi = import_lammps()
        self.lmp, self.fix_id, self.numbers = lmp, fix_id, numbers
        self.potential = potential
        self.comm_cutoff = comm_cutoff
        self.margin = comm_cutoff - ghost_cutoff(potential)
        self.evaluator = HaloEvaluator(potential, skin=skin)
        self.comm = _communicator(lmp, self._mpi)
        self.calls = self.atoms_evaluated = self.local_atoms = 0
        self.seconds = 0.0
        self.error: Optional[BaseException] = None
        self._reference: Optional[np.ndarray] = None
        self._images_key: Optional[tuple] = None
        self._images = np.zeros(0, dtype=np.int64)

    def __call__(self, caller: Any, ntimestep: int, nlocal: int, tag: np.ndarray,
                 x: np.ndarray, f: np.ndarray) -> None:
        if self.error is not None:
            f[:] = 0.0
            return
        try:
            start = time.perf_counter()
            self._evaluate(ntimestep, nlocal, x, f)
            self.seconds += time.perf_counter() - start
        except BaseException as error:  # LAMMPS would swallow it and go on without forces
            self._fail(error)

    def _evaluate(self, ntimestep: int, nlocal: int, x: np.ndarray, f: np.ndarray) -> None:
        lmp = self.lmp
        nall = nlocal + int(lmp.extract_global("nghost"))
        positions = lmp.numpy.extract_atom("x", nelem=nall, dim=3)[:nall]
        types = lmp.numpy.extract_atom("type", nelem=nall)[:nall]
        ids = lmp.numpy.extract_atom("id", nelem=nall)[:nall]
        moved = self._moved_since_ghost_exchange(x)
        need_virial = int(lmp.extract_global("vflag_global")) == ntimestep
        cell, whole = _box(lmp)
        if any(whole):
            keep = self._one_image_along(whole, positions, ids, cell, nlocal)
            positions, types, ids = positions[keep], types[keep], ids[keep]
        result = self.evaluator(positions, self.numbers[types], nlocal, ids, need_virial,
                                cell, whole)
        f[:] = result.forces
        virial = result.virial if result.virial is not None else np.zeros((3, 3))
        local = np.array([result.energy, virial[0, 0], virial[1, 1], virial[2, 2],
                          virial[0, 1], virial[0, 2], virial[1, 2]])
        totals = np.empty_like(local)
        self.comm.Allreduce(local, totals, op=self._mpi.SUM)
        largest_move = self.comm.allreduce(moved, op=self._mpi.MAX)
        if largest_move > 0.5 * self.margin:
            raise RuntimeError(
                f"an atom moved {largest_move:.3f} A since LAMMPS last exchanged ghost atoms, "
                f"more than half the {self.margin:.3f} A margin between comm_modify cutoff "
                f"{self.comm_cutoff:g} and the potential's {ghost_cutoff(self.potential):g} A: "
                f"forces would be inexact; raise comm_modify cutoff or re-neighbour more "
                f"often (neigh_modify every 1 delay 0 check yes)")
        lmp.fix_external_set_energy_global(self.fix_id, float(totals[0]))
        if need_virial:
            lmp.fix_external_set_virial_global(self.fix_id, [float(v) for v in totals[1:]])
        self.calls += 1
        self.atoms_evaluated += result.atoms_evaluated
        self.local_atoms += nlocal

    def _one_image_along(self, whole: tuple, positions: np.ndarray, ids: np.ndarray,
                         cell: np.ndarray, nlocal: int) -> np.ndarray:
        """Indices of the copies to keep when this rank holds the whole periodic box along
        the ``whole`` directions: there the graph uses cell shifts, so of each atom's
        copies only those with the same shift along those directions as its first copy
        (the local one, if the atom is local) stay. Shifts are rounded differences of
        fractional coordinates of copies of one atom, so atoms on a box face are safe.
        Cached until LAMMPS re-sorts its atoms."""
        key = (whole, ids.tobytes())
        if self._images_key == key:
            return self._images
        fractional = positions @ np.linalg.inv(cell)
        _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        shift = np.rint(fractional - fractional[first[inverse]])
        keep = np.flatnonzero(np.all(shift[:, list(whole)] == 0, axis=1))
        if len(keep) < nlocal or not np.array_equal(keep[:nlocal], np.arange(nlocal)):
            raise RuntimeError("local atoms were not all kept (a LAMMPS box inconsistency)")
        self._images_key, self._images = key, keep
        return keep

    def _moved_since_ghost_exchange(self, x: np.ndarray) -> float:
        """Largest displacement (A) of a local atom since LAMMPS last re-neighboured."""
        if int(self.lmp.extract_setting("neigh_ago")) == 0 or self._reference is None \
                or self._reference.shape != x.shape:
            self._reference = np.array(x, copy=True)
            return 0.0
        return float(np.linalg.norm(x - self._reference, axis=1).max(initial=0.0))

    def _fail(self, error: BaseException) -> None:
        rank = self.comm.Get_rank()
        message = f"equiforce: error on rank {rank} in the LAMMPS callback: {error}"
        print(message, file=sys.stderr, flush=True)
        if self.comm.Get_size() > 1:
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            self.comm.Abort(1)  # the other ranks wait in the reduction: never hang
        self.error = error

    def raise_if_failed(self) -> None:
        """Raise the callback's exception, if one was raised (single-rank runs)."""
        if self.error is not None:
            raise RuntimeError(f"the equiforce callback failed: {self.error}") from self.error


def attach(lmp: Any, potential: str | Path | DeployedPotential, elements: Sequence[str], *,
           fix_id: str = "equiforce", create_fix: bool = True, dtype: Optional[str] = None,
           device: str = "cpu", set_comm_cutoff: bool = True,
           lammps_skin: float = LAMMPS_DEFAULT_METAL_SKIN, skin: float = 1.0) -> EquiforceFix:
    """Drive a LAMMPS instance (box and atoms defined, before ``run``) with a potential.

    Adds ``fix FIX_ID all external pf/callback 1 1`` (unless ``create_fix=False``: the
    script's own fix of that ID is used), ``fix_modify FIX_ID energy yes virial yes``, and
    the ghost cutoff the potential needs: ``2 x num_layers x cutoff + lammps_skin`` (A).

    Args:
        lmp: a ``lammps.lammps`` instance, the same on every rank (units metal).
        potential: file, shipped name, or a ``"fast"``/``"eager"`` DeployedPotential.
        elements: the element of LAMMPS type 1, 2, ... (as ``pair_coeff * * ... Cu Au``).
        dtype: ``"float32"``/``"float64"`` (default: the file's); device: where it runs.
        set_comm_cutoff: raise ``comm_modify cutoff`` to the needed value; False: an
            error if it is smaller (the user set it).
        lammps_skin: LAMMPS's neighbour skin (A): atoms move up to half of it between
            ghost exchanges. skin: the driver's own Verlet skin (A).

    Raises:
        ValueError: units other than metal, an element the potential does not know, a
            count of elements other than the number of atom types, or a ghost cutoff
            too small (naming the value needed). Raised alike on every rank.
    """
    deployed = potential if isinstance(potential, DeployedPotential) else load(
        potential, device=device, dtype=dtype)
    _check_units(lmp)
    numbers = _type_numbers(lmp, deployed, elements)
    needed = ghost_cutoff(deployed) + float(lammps_skin)
    current = _comm_cutoff(lmp)
    if current < needed:
        if not set_comm_cutoff:
            raise ValueError(
                f"comm_modify cutoff {current:g} is too small for this potential: it needs "
                f"ghost atoms out to 2 x {deployed.config.num_layers} layers x "
                f"{deployed.cutoff:g} A + {lammps_skin:g} A skin = {needed:g} A; use "
                f"'comm_modify cutoff {needed:g}' or remove the line")
        lmp.command(f"comm_modify cutoff {needed:.6f}")
        current = needed
    if create_fix:
        lmp.command(f"fix {fix_id} all external pf/callback 1 1")
    lmp.command(f"fix_modify {fix_id} energy yes virial yes")
    fix = EquiforceFix(lmp, deployed, numbers, fix_id, current, skin)
    lmp.set_fix_external_callback(fix_id, fix)
    log.info("%s on fix %s: ghost cutoff %.3f A, elements %s", deployed, fix_id, current,
             " ".join(elements))
    return fix


def _communicator(lmp: Any, mpi: Any) -> Any:
    """The MPI communicator of this LAMMPS instance (COMM_WORLD, or the one it was made on)."""
    comm = lmp.get_mpi_comm()
    return mpi.COMM_WORLD if comm is None else comm


def _box(lmp: Any) -> tuple:
    """The LAMMPS cell (3, 3) as rows a, b, c (A), and for each direction whether this rank
    holds the whole periodic box along it (periodic, one rank along it in the grid)."""
    low, high, xy, yz, xz, periodic, _ = lmp.extract_box()
    length = np.subtract(high, low)
    cell = np.array([[length[0], 0.0, 0.0], [xy, length[1], 0.0], [xz, yz, length[2]]])
    grid = lmp.extract_global("procgrid")
    return cell, tuple(bool(periodic[d]) and int(grid[d]) == 1 for d in range(3))


def _check_units(lmp: Any) -> None:
    units = lmp.extract_global("units")
    if units != "metal":
        raise ValueError(f"the LAMMPS input uses 'units {units}'; equiforce potentials run "
                         f"in 'units metal' (Angstrom, eV, ps)")


def _type_numbers(lmp: Any, potential: DeployedPotential, elements: Sequence[str]) -> np.ndarray:
    """Atomic number of each LAMMPS type (index = type; index 0 unused)."""
    ntypes = int(lmp.extract_global("ntypes"))
    if len(elements) != ntypes:
        raise ValueError(f"the LAMMPS box has {ntypes} atom type(s) but {len(elements)} "
                         f"element(s) were given ({' '.join(elements)}); give one per type")
    known = {int(z) for z in potential.species}
    numbers = np.zeros(ntypes + 1, dtype=np.int64)
    for index, symbol in enumerate(elements, start=1):
        if symbol not in ATOMIC_NUMBERS:
            raise ValueError(f"unknown element {symbol!r} for LAMMPS type {index}")
        if ATOMIC_NUMBERS[symbol] not in known:
            symbols = " ".join(potential.metadata.get("symbols", []))
            raise ValueError(f"the potential does not know {symbol} (LAMMPS type {index}); "
                             f"it was trained on: {symbols}")
        numbers[index] = ATOMIC_NUMBERS[symbol]
    return numbers


def _comm_cutoff(lmp: Any) -> float:
    """The ghost cutoff LAMMPS uses now (A), as ``info communication`` reports it; read
    on rank 0 and broadcast (the library has no getter for it)."""
    _, mpi = import_lammps()
    comm = _communicator(lmp, mpi)
    folder = comm.bcast(tempfile.mkdtemp(prefix="equiforce-lammps-") if comm.Get_rank() == 0
                        else None)
    report = Path(folder) / "info.txt"
    lmp.command(f"info communication out overwrite {report}")
    value = None
    if comm.Get_rank() == 0:
        for line in report.read_text().splitlines():
            if line.strip().startswith("Communication cutoff"):
                value = float(line.split("=")[1].split()[0])
        report.unlink()
        Path(folder).rmdir()
    value = comm.bcast(value)
    if value is None:
        raise RuntimeError("LAMMPS's 'info communication' did not report a cutoff")
    return value
