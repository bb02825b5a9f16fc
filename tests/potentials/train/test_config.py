"""Training configs that are wrong name the field, the file and the line (CLI exit 2)."""
import pytest

from md_drivers.cli import main

GOOD = """\
data:
  path: data.extxyz
  split: [0.8, 0.1, 0.1]
model:
  species: [29]
  cutoff: 4.0
  channels: 8
training:
  epochs: 2
  lr: 0.01
output: run
"""


@pytest.mark.parametrize("change, message", [
    (("lr: 0.01", 'lr: "0.01"'),
     "line 10: training.lr must be a number, got the string '0.01' (numbers are written "
     "without quotes)"),
    (("channels: 8", "channels: eight"), "line 7: model.channels must be an integer"),
    (("split: [0.8, 0.1, 0.1]", "split: 0.8"), "line 3: data.split must be a list of numbers"),
    (("cutoff: 4.0", "cutoff: -4.0"), "line 6: model.cutoff must be a positive number"),
    (("epochs: 2", "epochs: 2.5"), "line 9: training.epochs must be an integer"),
    (("channels: 8", "channels: [8"), "not valid YAML: line 8, column"),
    (("  epochs: 2\n", "  epochs: 2\n   lr: 1\n"), "not valid YAML: line"),
    (("output: run", "outptu: run"), "unknown key(s) in top level: outptu"),
])
def test_bad_config_names_field_file_and_line(tmp_path, capsys, change, message):
    config = tmp_path / "train.yaml"
    config.write_text(GOOD.replace(*change))
    before = config.read_bytes()
    assert main(["train", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and message in err, err
    assert "Traceback" not in err and config.read_bytes() == before
