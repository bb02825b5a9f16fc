"""The compiled edge kernel's cache: built once, verified, rebuilt when damaged or foreign,
safe when several processes build at once, and a clear fallback without a compiler."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from potentials.nn._native import build_or_reuse

ROOT = Path(__file__).resolve().parents[3]


def entry(cache: Path) -> Path:
    (library,) = cache.glob("kernels/*/edge_messages.so")
    return library


def manifest_matches(library: Path) -> bool:
    import hashlib

    manifest = json.loads((library.parent / "manifest.json").read_text())
    return manifest["sha256"] == hashlib.sha256(library.read_bytes()).hexdigest()


def test_build_once_then_reuse(tmp_path):
    library = build_or_reuse(tmp_path)
    stamp = library.stat().st_mtime_ns
    assert build_or_reuse(tmp_path) == library and library.stat().st_mtime_ns == stamp
    assert manifest_matches(library)


@pytest.mark.parametrize("damage", ["truncated", "foreign", "no-manifest"])
def test_damaged_or_foreign_entry_is_rebuilt_not_used(tmp_path, damage):
    library = build_or_reuse(tmp_path)
    good = library.read_bytes()
    if damage == "truncated":
        library.write_bytes(good[: len(good) // 2])
    elif damage == "foreign":  # a valid shared library, but not this kernel
        subprocess.run(["cc", "-shared", "-fPIC", "-x", "c", "-", "-o", str(library)],
                       input="int equiforce_edge_kernel_abi(void) { return 3; }\n",
                       text=True, check=True)
    else:
        (library.parent / "manifest.json").unlink()
    assert build_or_reuse(tmp_path) == library
    assert manifest_matches(library) and len(library.read_bytes()) == len(good)


def test_concurrent_builds_leave_one_valid_entry(tmp_path):
    code = "import sys; from pathlib import Path; from potentials.nn._native import " \
           "build_or_reuse; print(build_or_reuse(Path(sys.argv[1])))"
    processes = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
    results = [p.communicate(timeout=300) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1
    library = entry(tmp_path)
    assert manifest_matches(library)
    assert sorted(p.name for p in library.parent.iterdir()) == [".lock", "edge_messages.so",
                                                                "manifest.json"]


def test_without_a_compiler_the_torch_kernel_runs_and_says_why(tmp_path):
    code = ("from potentials import load; from potentials.nn._native import kernel_status; "
            "from ase.build import bulk; from md_drivers import EquiforceCalculator; "
            "a = bulk('Cu', 'fcc', a=3.6) * 2; a.calc = EquiforceCalculator(load('cu-emt')); "
            "a.get_forces(); print(kernel_status())")
    env = dict(os.environ, CC=str(tmp_path / "no-such-compiler"),
               EQUIFORCE_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("torch (the C kernel is unavailable")
    assert "no-such-compiler" in result.stdout
