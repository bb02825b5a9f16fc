"""Run outputs: thermodynamics CSV, trajectories (mdtraj + extxyz), plots, summary.

Every writer appends as the run goes, and can cut itself back to what the last
checkpoint saw (``truncate``), so a resumed run continues the same files.
"""
from __future__ import annotations

import contextlib
import csv
import os
import sys
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np
from ase import Atoms
from ase.geometry import cell_to_cellpar

from potentials.files import atomic_path, strict_json
from potentials.units import NM_IN_ANGSTROM

from .._reduced_cell import reduce_cell

__all__ = ["ThermoLog", "TrajectoryWriter", "THERMO_COLUMNS", "plot_thermo", "write_json",
           "mdtraj_topology", "truncate_extxyz"]

THERMO_COLUMNS = ("step", "time_ps", "potential_eV", "kinetic_eV", "total_eV",
                  "temperature_K", "pressure_bar", "volume_A3", "max_forces_std_eV_A")


class ThermoLog:
    """``thermo.csv``: one row per output frame (energies eV, T K, pressure bar, V A^3)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
                csv.writer(handle).writerow(THERMO_COLUMNS)

    def append(self, row: dict[str, float]) -> None:
        with open(self.path, "a", newline="") as handle:
            csv.writer(handle).writerow([_fmt(row.get(name, float("nan"))) for name in THERMO_COLUMNS])

    def read(self) -> dict[str, np.ndarray]:
        with open(self.path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        return {name: np.array([float(r[name]) for r in rows]) for name in THERMO_COLUMNS}

    def truncate(self, last_step: int) -> None:
        """Drop rows after ``last_step`` (written after the checkpoint a run resumes from)."""
        with open(self.path, newline="") as handle:
            rows = list(csv.reader(handle))
        kept = [rows[0]] + [r for r in rows[1:] if int(float(r[0])) <= last_step]
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as handle:
            csv.writer(handle).writerows(kept)


class TrajectoryWriter:
    """Frames to ``trajectory.<fmt>`` (dcd, xtc or h5, readable by mdtraj with the
    topology in ``topology.pdb``) and ``trajectory.extxyz`` (ASE; energy, forces, momenta).

    Each frame is appended and the file closed again, so a killed run leaves complete
    frames. DCD and XTC are written with OpenMM's appending writers, HDF5 with mdtraj.
    """

    def __init__(self, run_dir: Path, fmt: str, atoms: Atoms, timestep_ps: float,
                 interval: int, topology_pdb: Optional[str] = None) -> None:
        import mdtraj

        self.path = run_dir / f"trajectory.{fmt}"
        self.extxyz = run_dir / "trajectory.extxyz"
        self.topology_path = run_dir / "topology.pdb"
        self.timestep_ps, self.interval = timestep_ps, interval
        if not self.topology_path.exists():
            topology = (mdtraj.load_topology(topology_pdb) if topology_pdb
                        else mdtraj_topology(atoms))
            positions, box = _writer_frame(atoms)
            first = mdtraj.Trajectory(positions[None], topology, **_unitcell(box))
            with atomic_path(self.topology_path) as tmp:
                first.save_pdb(str(tmp))
        self.topology = mdtraj.load_topology(str(self.topology_path))
        self.frames = 0

    def append(self, atoms: Atoms, step: int) -> None:
        import ase.io

        positions, box = _writer_frame(atoms)
        if self.path.suffix == ".h5":
            self._append_h5(positions, box, step)
        else:
            self._append_openmm(positions, box, step)
        ase.io.write(self.extxyz, atoms, format="extxyz", append=True)
        self.frames += 1

    def _append_openmm(self, positions: np.ndarray, box: Optional[np.ndarray], step: int) -> None:
        import openmm.app as app
        import openmm.unit as unit
        from openmm import Vec3

        exists = self.path.exists() and self.path.stat().st_size > 0
        dt = self.timestep_ps * unit.picosecond
        vectors = None if box is None else [Vec3(*map(float, v)) for v in box] * unit.nanometer
        topology = self.topology.to_openmm()
        topology.setPeriodicBoxVectors(vectors)  # OpenMM writes the cell only if this is set
        if self.path.suffix == ".dcd":
            with open(self.path, "r+b" if exists else "wb") as handle:
                app.DCDFile(handle, topology, dt, step, self.interval, append=exists).writeModel(
                    positions * unit.nanometer, periodicBoxVectors=vectors)
        else:
            app.XTCFile(str(self.path), topology, dt, step, self.interval, append=exists).writeModel(
                positions * unit.nanometer, periodicBoxVectors=vectors)

    def _append_h5(self, positions: np.ndarray, box: Optional[np.ndarray], step: int) -> None:
        import mdtraj

        cell = _unitcell(box)
        with mdtraj.formats.HDF5TrajectoryFile(str(self.path), "a") as handle:
            if handle.topology is None:
                handle.topology = self.topology
            handle.write(coordinates=positions[None].astype(np.float32),
                         time=np.array([step * self.timestep_ps]),
                         cell_lengths=cell.get("unitcell_lengths"),
                         cell_angles=cell.get("unitcell_angles"))

    def truncate(self, frames: int) -> None:
        """Keep the first ``frames`` frames of both files (atomically)."""
        self.frames = frames
        if self.path.exists():
            with atomic_path(self.path) as tmp:
                _copy_frames(self.path, tmp, frames)
        truncate_extxyz(self.extxyz, frames)


def truncate_extxyz(path: Path, frames: int) -> None:
    """Keep the first ``frames`` frames of an extxyz file (atomically); no file, no-op."""
    import ase.io

    if not path.exists():
        return
    kept = ase.io.read(path, index=f":{frames}") if frames else []
    with atomic_path(path) as tmp:
        ase.io.write(tmp, kept, format="extxyz")


def _copy_frames(source: Path, target: Path, frames: int) -> None:
    """The first ``frames`` frames of ``source`` into ``target``, bit for bit (the raw
    coordinates are copied in the file's own units, no nm/A round trip)."""
    from mdtraj.formats import DCDTrajectoryFile, HDF5TrajectoryFile, XTCTrajectoryFile

    if source.suffix == ".dcd":
        with _no_c_stdout(), DCDTrajectoryFile(str(source), "r") as handle:
            xyz, lengths, angles = handle.read(n_frames=frames)
        with DCDTrajectoryFile(str(target), "w", force_overwrite=True) as handle:
            handle.write(xyz, cell_lengths=lengths, cell_angles=angles)
    elif source.suffix == ".xtc":
        with XTCTrajectoryFile(str(source), "r") as handle:
            xyz, time, step, box = handle.read(n_frames=frames)
        with XTCTrajectoryFile(str(target), "w", force_overwrite=True) as handle:
            handle.write(xyz, time=time, step=step, box=box)
    else:
        with HDF5TrajectoryFile(str(source), "r") as handle:
            data, topology = handle.read(n_frames=frames), handle.topology
        with HDF5TrajectoryFile(str(target), "w", force_overwrite=True) as handle:
            handle.topology = topology
            handle.write(coordinates=data.coordinates, time=data.time,
                         cell_lengths=data.cell_lengths, cell_angles=data.cell_angles)


@contextlib.contextmanager
def _no_c_stdout() -> Iterator[None]:
    """Silence C-level writes to stdout (mdtraj's DCD plugin prints "dcdplugin) detected
    ..." there), so that stdout carries only equiforce's own report."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def mdtraj_topology(atoms: Atoms):
    """One residue per atom, named by element (for structures without a PDB topology)."""
    import mdtraj

    topology = mdtraj.Topology()
    chain = topology.add_chain()
    for index, symbol in enumerate(atoms.get_chemical_symbols()):
        residue = topology.add_residue(symbol.upper(), chain, resSeq=index + 1)
        topology.add_atom(symbol, mdtraj.element.get_by_symbol(symbol), residue)
    return topology


def plot_thermo(thermo: dict[str, np.ndarray], path: Path, title: str) -> None:
    """Energy, temperature, pressure and volume traces against time, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = thermo["time_ps"]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for name, label in (("potential_eV", "potential"), ("kinetic_eV", "kinetic"),
                        ("total_eV", "total")):
        axes[0, 0].plot(t, thermo[name] - thermo[name][0], label=label)
    axes[0, 0].set_ylabel("energy - initial (eV)")
    axes[0, 0].legend()
    for ax, name, label in ((axes[0, 1], "temperature_K", "temperature (K)"),
                            (axes[1, 0], "pressure_bar", "pressure (bar)"),
                            (axes[1, 1], "volume_A3", "volume (A^3)")):
        ax.plot(t, thermo[name])
        ax.set_ylabel(label)
    for ax in axes[1]:
        ax.set_xlabel("time (ps)")
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(strict_json(data))


def _fmt(value: float) -> str:
    return repr(int(value)) if isinstance(value, (int, np.integer)) else f"{float(value):.10g}"


def _writer_frame(atoms: Atoms) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """Positions (N, 3) and box (3, 3, or None), nm, in OpenMM's reduced frame.

    OpenMM's and mdtraj's formats store a cell as lengths and angles, i.e. with ``a``
    along x and ``b`` in the xy plane; any other cell is rotated (and its basis reduced)
    here, for the file only. ``trajectory.extxyz`` keeps the user's frame.
    """
    positions = atoms.positions / NM_IN_ANGSTROM
    if not atoms.pbc.any() or abs(atoms.cell.volume) < 1e-9:
        return positions, None
    reduced = reduce_cell(atoms.cell.array / NM_IN_ANGSTROM)
    return reduced.vectors_to_reduced(positions), reduced.box


def _unitcell(box: Optional[np.ndarray]) -> dict[str, Any]:
    if box is None:
        return {}
    lengths_angles = cell_to_cellpar(box)
    return {"unitcell_lengths": lengths_angles[None, :3],
            "unitcell_angles": lengths_angles[None, 3:]}
