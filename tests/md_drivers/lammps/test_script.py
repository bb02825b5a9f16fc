"""Where the driver splits a user's LAMMPS input (no LAMMPS needed)."""
import pytest

from md_drivers.lammps import plan_script

BOX = """units metal   # a comment
lattice fcc 3.61
region box block 0 2 0 2 &
       0 2
create_box 1 box
create_atoms 1 box
mass 1 63.546
"""


def write(tmp_path, text, name="in.test"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_split_before_the_first_run_keeping_the_rest_verbatim(tmp_path):
    plan = plan_script(write(tmp_path, BOX + "neighbor 0.5 bin\nfix 1 all nve\nrun 10\n"
                                            "label again\nrun 5\njump SELF again\n"))
    assert plan.head[2] == "region box block 0 2 0 2 0 2"   # continuation joined
    assert plan.head[0] == "units metal" and plan.head[-1] == "fix 1 all nve"
    assert plan.tail.splitlines() == ["run 10", "label again", "run 5", "jump SELF again"]
    assert plan.fix_id is None and plan.skin == 0.5 and plan.comm_cutoff is None


def test_the_scripts_own_fix_external_is_kept_and_split_after(tmp_path):
    text = BOX + "comm_modify cutoff 12.0\nfix mine all external pf/callback 1 1\nminimize 0 1e-4 10 100\n"
    plan = plan_script(write(tmp_path, text))
    assert plan.fix_id == "mine" and plan.comm_cutoff == 12.0
    assert plan.head[-1].startswith("fix mine") and plan.tail.startswith("minimize")


def test_includes_are_read_in_place(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)    # LAMMPS resolves include paths from the working directory
    write(tmp_path, BOX, "box.inc")
    plan = plan_script(write(tmp_path, "include box.inc\nrun 0\n"))
    assert plan.head[0] == "units metal" and plan.tail == "run 0\n"


@pytest.mark.parametrize("text, message", [
    (BOX, "no run, minimize or rerun"),
    (BOX + "label loop\nrun 1\n", "'label' before the first run"),
    (BOX + "fix x all external pf/array 1\nrun 1\n", "pf/callback N 1"),
    ("include ${name}.inc\nrun 1\n", "variable file name"),
])
def test_scripts_the_driver_cannot_split_are_refused_naming_why(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        plan_script(write(tmp_path, text))


def test_a_missing_script_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such LAMMPS input"):
        plan_script(tmp_path / "in.none")
