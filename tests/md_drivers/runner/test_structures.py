"""Starting structures from built-ins and files (ASE and pymatgen formats)."""
import re

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


@pytest.mark.parametrize("spec, count, nearest", [
    ("bcc-Fe:2x2x2:a=2.87", 16, 2.87 * 3 ** 0.5 / 2), ("sc-Po:3x3x3:a=3.35", 27, 3.35),
    ("hcp-Mg:2x2x2:a=3.21:c=5.21", 32, (3.21 ** 2 / 3 + 5.21 ** 2 / 4) ** 0.5), ("diamond-Si:1x1x1", 8, 5.431 * 3 ** 0.5 / 4),
    ("fcc-Cu:a=3.7:2x1x1", 8, 3.7 / 2 ** 0.5)])
def test_builtin_lattices_with_lattice_constants(spec, count, nearest):
    atoms = load_structure(spec)
    assert len(atoms) == count and atoms.pbc.all()
    distances = atoms.get_all_distances(mic=True)
    assert np.min(distances[distances > 0]) == pytest.approx(nearest, rel=1e-3)


def test_builtin_molecule_for_the_shipped_molecule_potential():
    atoms = load_structure("molecule-CH3CH2OH")
    assert atoms.get_chemical_formula() == "C2H6O" and not atoms.pbc.any()


@pytest.mark.parametrize("spec, message", [
    ("bcc-Cu:2x2x2", "give the lattice constant in A, e.g. bcc-Cu:4x4x4:a="),
    ("fcc-Cu:a=-1", "lattice constant a must be a positive number"),
    ("fcc-Cu:2x2", "cannot read option '2x2'"), ("molecule-XYZ", "unknown molecule 'XYZ'"),
    ("fcc-Cu:0x1x1", "repeat counts must be >= 1")])
def test_bad_builtins_name_the_problem(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_structure(spec)


def test_a_broken_file_in_ases_format_is_an_error_not_a_smaller_structure(tmp_path):
    short = tmp_path / "short.xyz"
    short.write_text("3\n\nCu 0 0 0\nCu 1.8 1.8 0\n")
    with pytest.raises(ValueError, match="short.xyz: cannot read it as extxyz.*2 atoms, expected 3"):
        load_structure(str(short))


def test_pymatgen_reads_what_ase_does_not_know(tmp_path):
    from pymatgen.core import Lattice, Structure

    Structure(Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]]).to(filename=str(tmp_path / "s.json"))
    atoms = load_structure(str(tmp_path / "s.json"))
    assert len(atoms) == 1 and atoms.cell.lengths() == pytest.approx([3.6] * 3)


def test_missing_and_bad_specs(tmp_path):
    with pytest.raises(FileNotFoundError, match="fcc-Cu:4x4x4"):
        load_structure("no-such-file.xyz")
    with pytest.raises(ValueError, match="lattice"):
        load_structure("abc-Cu:2x2x2")
    junk = tmp_path / "junk.dat"
    junk.write_bytes(b"\x00\x01 not a structure")
    with pytest.raises(ValueError, match="junk.dat"):
        load_structure(str(junk))
