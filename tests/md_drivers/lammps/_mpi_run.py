"""Run LAMMPS cases with an equiforce potential; rank 0 writes what LAMMPS reports as JSON.

    mpiexec -n K python -m tests.md_drivers.lammps._mpi_run SPEC.json OUT.json

SPEC: {"cases": [{"name", "potential" (path or name), "data" (LAMMPS data file),
"elements", "masses", "processors" ("2 1 1"), "ranks" (default: all), "nve_steps" (0: run 0 only; else NVE from 300 K or
"temperature_K", "timestep_ps", total energy every 10 steps)}]}. Per case: potential
energy (eV), forces by atom id (eV/A) and the virial (eV; from compute pressure NULL
virial) after the run, positions by id, and the halo statistics.
"""
import json
import sys

import numpy as np

from md_drivers.lammps import attach
from md_drivers.lammps._mpi import import_lammps

NKTV2P_METAL = 1.6021765e6   # LAMMPS units metal: pressure (bar) * volume (A^3) per eV


def run_case(case: dict, potential: str, comm=None) -> dict:
    lammps, mpi = import_lammps()
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"],
                        comm=comm or mpi.COMM_WORLD)
    masses = "\n".join(f"mass {t} {m}" for t, m in enumerate(case["masses"], start=1))
    lmp.commands_string(f"""
units metal
atom_style atomic
boundary p p p
atom_modify map array
processors {case["processors"]}
read_data {case["data"]}
{masses}
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
timestep 0.001
compute vp all pressure NULL virial
thermo_style custom step pe etotal c_vp[1] c_vp[2] c_vp[3] c_vp[4] c_vp[5] c_vp[6] vol
thermo 10
""")
    fix = attach(lmp, potential, case["elements"], dtype="float64", lammps_skin=1.0)
    if case.get("nve_steps"):
        lmp.commands_string(f"""
timestep {case.get("timestep_ps", 0.001)}
velocity all create {case.get("temperature_K", 300.0)} 4928459 loop geom
variable etotal equal etotal
fix energies all print 10 "$(step) ${{etotal}}" file {case["data"]}.energies screen no
fix integrate all nve
run {case["nve_steps"]}
""")
    else:
        lmp.command("run 0")
    fix.raise_if_failed()
    result = _report(lmp, fix, comm or mpi.COMM_WORLD)
    if case.get("nve_steps") and (comm or mpi.COMM_WORLD).Get_rank() == 0:
        result["step_and_total_energy"] = np.loadtxt(f"{case['data']}.energies").tolist()
    lmp.close()
    return result


def _report(lmp, fix, comm) -> dict:
    natoms = int(lmp.get_natoms())
    forces = np.array(lmp.gather_atoms("f", 1, 3))
    positions = np.array(lmp.gather_atoms("x", 1, 3))
    thermo = lmp.last_thermo()   # get_thermo() does not evaluate compute references
    pressure = np.array([thermo[f"c_vp[{k}]"] for k in range(1, 7)])
    volume = thermo["Volume"]
    return {"energy": thermo["PotEng"],
            "forces": forces.reshape(natoms, 3).tolist(),
            "positions": positions.reshape(natoms, 3).tolist(),
            "virial_voigt_lammps": (pressure * volume / NKTV2P_METAL).tolist(),
            "halo_overhead": comm.allreduce(fix.atoms_evaluated) / comm.allreduce(fix.local_atoms),
            "ranks": comm.Get_size()}


def main(spec_path: str, out_path: str) -> None:
    """Each case runs on its first ``case["ranks"]`` ranks (a sub-communicator; default all),
    so one launch covers several rank counts; rank 0 of the world writes the results."""
    _, mpi = import_lammps()
    world = mpi.COMM_WORLD
    spec = json.loads(open(spec_path).read())
    results = {}
    for case in spec["cases"]:
        ranks = case.get("ranks", world.Get_size())
        sub = world.Split(0 if world.Get_rank() < ranks else mpi.UNDEFINED, world.Get_rank())
        if sub != mpi.COMM_NULL:
            result = run_case(case, case["potential"], sub)
            sub.Free()
            if world.Get_rank() == 0:
                results[case["name"]] = result
        world.Barrier()
    if world.Get_rank() == 0:
        with open(out_path, "w") as handle:
            json.dump(results, handle)


if __name__ == "__main__":
    main(*sys.argv[1:3])
