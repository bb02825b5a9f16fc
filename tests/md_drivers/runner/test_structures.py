"""Starting structures from built-ins and files (ASE and pymatgen formats)."""
import numpy as np
import pytest
from ase.build import bulk

from md_drivers.runner import load_structure


def test_builtin_fcc():
    atoms = load_structure("fcc-Cu:4x4x4")
    assert len(atoms) == 256 and atoms.pbc.all()
    assert set(atoms.get_chemical_symbols()) == {"Cu"}


@pytest.mark.parametrize("fmt, name", [("extxyz", "s.extxyz"), ("cif", "s.cif"),
                                       ("vasp", "POSCAR"), ("proteindatabank", "s.pdb")])
def test_files(tmp_path, fmt, name):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.rattle(0.02, seed=0)
    atoms.write(tmp_path / name, format=fmt)
    read = load_structure(str(tmp_path / name))
    assert len(read) == 4
    np.testing.assert_allclose(read.get_scaled_positions() % 1, atoms.get_scaled_positions() % 1,
                               atol=2e-3)


def test_missing_and_bad_specs(tmp_path):
    with pytest.raises(FileNotFoundError, match="fcc-Cu:4x4x4"):
        load_structure("no-such-file.xyz")
    with pytest.raises(ValueError, match="lattice"):
        load_structure("abc-Cu:2x2x2")
    junk = tmp_path / "junk.dat"
    junk.write_bytes(b"\x00\x01 not a structure")
    with pytest.raises(ValueError, match="junk.dat"):
        load_structure(str(junk))
