"""Every example runs (reduced sizes) and prints what its docstring promises."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "build_and_check.py": ["--l-max", "1", "--correlation", "2"],
    "nve_cu.py": ["--repeat", "2", "--steps", "20"],
    "export_and_run.py": ["--steps", "10"],
    "cu_emt_eos.py": ["--points", "5"],
}


def run_example(name: str, args: list[str]) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_example_has_a_case():
    assert {p.name for p in (ROOT / "examples").glob("*.py")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name):
    out = run_example(name, CASES[name])
    assert out.strip(), f"{name} printed nothing"


def test_build_and_check_reports_tiny_errors():
    out = run_example("build_and_check.py", CASES["build_and_check.py"])
    lines = {line.split(":")[0]: line for line in out.splitlines()}
    fd = float(lines["forces vs finite differences"].split()[-2])
    rot = float(lines["energy change under rotation+reflection"].split()[-2])
    assert fd < 1e-6 and rot < 1e-9
