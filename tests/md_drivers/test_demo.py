"""The demo runs NVT then NVE on the shipped cu-emt and writes every output (reduced size)."""
import mdtraj

from md_drivers.cli import main


def test_demo_writes_outputs_and_reports_drift(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--repeat", "2", "--nvt-steps", "40", "--nve-steps", "60",
                 "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "NVE energy drift" in printed and str(out) in printed
    for stage, steps in (("nvt", 40), ("nve", 60)):
        for name in ("thermo.csv", "thermo.png", "trajectory.dcd", "trajectory.extxyz",
                     "summary.json", "checkpoint.pkl"):
            assert (out / stage / name).is_file(), (stage, name)
        frames = mdtraj.load(str(out / stage / "trajectory.dcd"), top=str(out / stage / "topology.pdb"))
        assert frames.n_frames == steps // 20 + 1
