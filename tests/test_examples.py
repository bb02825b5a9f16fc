"""Every example runs (reduced sizes) and prints what its docstring promises.

Examples run in this process (``runpy``, as ``__main__``, with their own ``sys.argv``):
each fresh interpreter would spend ~4 s importing torch and e3nn again. One example also
runs as a real subprocess, so the script entry point itself stays covered.
"""
import contextlib
import io
import json
import runpy
import subprocess
import sys
from pathlib import Path
from unittest import mock

import ase.io
import pytest
from ase import Atoms
from ase.calculators.emt import EMT

from potentials import load

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "build_and_check.py": ["--l-max", "1", "--correlation", "2"],
    "any_cell.py": ["--steps", "10", "--out", "{tmp}/any"],
    "nve_cu.py": ["--repeat", "2", "--steps", "40", "--out", "{tmp}/nve"],
    "export_and_run.py": ["--steps", "10"],
    "fast_path.py": ["--repeat", "2", "--calls", "2"],
    "cu_emt_eos.py": ["--points", "5"],
    "committee_md.py": ["--steps", "20", "--out", "{tmp}/committee"],
    "openmm_cu.py": ["--repeat", "2", "--steps", "20"],
    "train_alloy.py": ["--minutes", "0.03", "--structures", "2", "--repeat", "1",
                       "--temperatures", "600", "--channels", "4", "--out", "{tmp}/alloy"],
    "gpu_backends.py": ["--steps", "4"],
    "learn_cu.py": ["--quick", "--out", "{tmp}/learn-cu"],
    "villin_mlmm.py": ["--steps", "4", "--minimize-iterations", "2", "--report-interval", "2",
                       "--out", "{tmp}/villin"],
}


def run_example(name: str, args: list[str], tmp: Path = ROOT / "runs") -> str:
    """Run ``examples/name`` as ``__main__`` in this process (cwd: the repository);
    return what it printed. Its exceptions propagate."""
    args = [arg.replace("{tmp}", str(tmp)) for arg in args]
    path = ROOT / "examples" / name
    printed = io.StringIO()
    with mock.patch.object(sys, "argv", [str(path), *args]), \
            contextlib.chdir(ROOT), contextlib.redirect_stdout(printed):
        runpy.run_path(str(path), run_name="__main__")
    return printed.getvalue()


def test_an_example_runs_as_a_script(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "cu_emt_eos.py"),
                             *CASES["cu_emt_eos.py"]],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_every_example_has_a_case():
    assert {p.name for p in (ROOT / "examples").glob("*.py")} == set(CASES)


# Examples with a test of their own below (run once, checked more closely).
CHECKED_BELOW = {"build_and_check.py", "cu_emt_eos.py", "fast_path.py", "gpu_backends.py",
                 "learn_cu.py", "nve_cu.py",
                 "train_alloy.py", "villin_mlmm.py"}


@pytest.mark.parametrize("name", sorted(set(CASES) - CHECKED_BELOW))
def test_example_runs(name, tmp_path):
    out = run_example(name, CASES[name], tmp_path)
    assert out.strip(), f"{name} printed nothing"


def test_build_and_check_reports_tiny_errors():
    out = run_example("build_and_check.py", CASES["build_and_check.py"])
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    fd = float(lines["forces vs finite differences"].split()[-2])
    rot = float(lines["energy change under rotation+reflection"].split()[-2])
    assert fd < 1e-6 and rot < 1e-9
    assert "every check passed" in out


def test_fast_path_agrees_with_the_torchscript_module():
    out = run_example("fast_path.py", CASES["fast_path.py"])
    rows = {line.split("  ")[1].strip(): line for line in out.splitlines() if "|dE|" in line}
    assert set(rows) == {"fast float64", "fast float32", "TorchScript float64"}
    force_error = {name: float(row.split("max|dF|")[1].split()[0]) for name, row in rows.items()}
    assert force_error["fast float64"] < 1e-10 and force_error["fast float32"] < 1e-4


def test_gpu_backends_example_shows_the_backends_agree():
    import re

    out = run_example("gpu_backends.py", CASES["gpu_backends.py"])
    relative = [float(x) for x in re.findall(r"relative ([0-9.e+-]+)\)", out)]
    assert len(relative) == 3 and max(relative) < 1e-12, out
    assert "weights identical: True" in out
    energies = re.findall(r"E = ([-0-9.]+) eV \(file", out)
    assert len(energies) == 2 and energies[0] == energies[1]
    assert float(re.search(r"largest position difference after 4 steps: ([0-9.e+-]+)", out)[1]) < 1e-10
    pairs = re.findall(r"slots: E = (\S+) kJ/mol \(vesin list: (\S+)\), pairs reported (\d+)", out)
    (big_e, reference, count), (small_e, _, same_count) = pairs
    assert abs(float(big_e) - float(reference)) < 1e-5 and small_e == "nan" and count == same_count


def test_nve_example_never_deletes_what_out_names(tmp_path):
    """--out naming a folder with the user's files: kept; naming an earlier run: refused
    (files byte-identical) unless --overwrite."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("do not delete")
    args = ["--repeat", "1", "--steps", "20", "--out", str(out)]
    run_example("nve_cu.py", args)
    assert (out / "notes.txt").read_text() == "do not delete"
    thermo = (out / "thermo.csv").read_bytes()
    with pytest.raises(Exception, match="--overwrite"):
        run_example("nve_cu.py", args)
    assert (out / "thermo.csv").read_bytes() == thermo
    run_example("nve_cu.py", args + ["--overwrite"])
    assert (out / "notes.txt").read_text() == "do not delete"


def test_villin_mlmm_writes_a_trajectory(tmp_path):
    out = run_example("villin_mlmm.py", CASES["villin_mlmm.py"], tmp_path)
    assert "ns/day" in out and "582 of them in the ML region" in out
    import mdtraj

    from potentials.datasets.openmm import villin_pdb

    trajectory = mdtraj.load_dcd(str(tmp_path / "villin" / "trajectory.dcd"), top=villin_pdb())
    assert trajectory.n_frames == 2 and trajectory.n_atoms == 8867
    assert (tmp_path / "villin" / "thermo.csv").read_text().count("\n") == 3  # header + 2


def test_train_alloy_reports_both_kinds_within_its_budget(tmp_path):
    out = run_example("train_alloy.py", CASES["train_alloy.py"], tmp_path)
    assert "held-out strained" in out and "held-out surface" in out and "mean signed" in out
    assert "Cu: free-atom reference (isolated)" in out and "closing energy refit" in out
    assert (tmp_path / "alloy" / "run" / "parity_test.png").is_file()


def test_learn_cu_reports_rounds_kinds_and_calibration(tmp_path):
    out = run_example("learn_cu.py", CASES["learn_cu.py"], tmp_path)
    assert "held-out OOD force MAE: round 0" in out and "Spearman" in out
    assert "melt forces MAE" in out and "vacancy_cluster forces MAE" in out
    work = tmp_path / "learn-cu" / "work"
    assert (work / "round-001" / "labelled.extxyz").is_file()
    assert (work / "learning_curve.png").is_file()
    # the members' reference energy is EMT's free Cu atom (the default recipe), not a fit
    free_atom = Atoms("Cu")
    free_atom.calc = EMT()
    member = load(work / "round-000" / "member-0" / "deployed.pt")
    reference = member.metadata["provenance"]["reference_energies"]
    assert reference["method"] == "isolated"
    assert reference["eV"]["Cu"] == pytest.approx(free_atom.get_potential_energy(), abs=1e-9)
    # "frames total" counts what training learns from: the starting file less its free atom
    start = ase.io.read(tmp_path / "learn-cu" / "bulk.extxyz", ":")
    bound = [a for a in start if a.info["config_type"] != "isolated_atom"]
    assert len(bound) == len(start) - 1
    rounds = json.loads((work / "report.json").read_text())["rounds"]
    assert rounds[0]["frames_total"] == len(bound)
