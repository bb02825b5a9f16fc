"""``equiforce lammps IN_FILE --potential P --elements Cu Au``, under ``mpirun -np K``."""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_lammps_command"]


def add_lammps_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "lammps", help="run a LAMMPS input script (units metal) with an equiforce potential",
        description="Run IN_FILE in LAMMPS (MPI: mpirun -np K equiforce lammps ...). The "
                    "script defines box and atoms; the driver adds the fix external before "
                    "its first run or minimize.")
    parser.add_argument("input", help="LAMMPS input script")
    parser.add_argument("--potential", required=True, help="model file or shipped name")
    parser.add_argument("--elements", nargs="+", required=True,
                        help="element of LAMMPS atom type 1, 2, ... (as pair_coeff * * Cu Au)")
    parser.add_argument("--dtype", choices=("float32", "float64"), help="default: the file's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--log", default="log.lammps", help="LAMMPS log file ('none': no log)")
    parser.add_argument("--var", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="define a LAMMPS index variable (as lmp -var NAME VALUE)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .lammps._mpi import import_lammps
    from .lammps.script import run_script

    lammps, mpi = import_lammps()
    cmdargs = ["-nocite", "-log", args.log]
    for name, value in args.var:
        cmdargs += ["-var", name, value]
    lmp = lammps.lammps(cmdargs=cmdargs, comm=mpi.COMM_WORLD)
    try:
        fix = run_script(lmp, args.input, args.potential, args.elements, args.dtype,
                         args.device)
    except Exception as error:
        if isinstance(error, (ValueError, FileNotFoundError)):
            raise
        raise ValueError(f"LAMMPS stopped: {error}") from error
    finally:
        lmp.close()
    _report(fix, mpi)
    return 0


def _report(fix, mpi) -> None:
    """Rank 0 prints the calls, the time in the potential and the halo overhead."""
    comm = mpi.COMM_WORLD
    evaluated = comm.allreduce(fix.atoms_evaluated)
    local = comm.allreduce(fix.local_atoms)
    seconds = comm.allreduce(fix.seconds, op=mpi.MAX)
    if comm.Get_rank() == 0 and fix.calls:
        print(f"equiforce: {fix.calls} force calls on {comm.Get_size()} rank(s), "
              f"{1e3 * seconds / fix.calls:.1f} ms per call in the potential (slowest rank), "
              f"halo overhead {evaluated / max(local, 1):.2f} atoms evaluated per local atom",
              file=sys.stderr)

