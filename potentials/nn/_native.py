"""The compiled CPU edge kernel (``_kernels/edge_messages.c``): build once per machine, cache, load.

The C source ships with the package. On first use it is compiled with the system C
compiler (``cc -O3 -march=native``, about a second) into a per-user cache keyed by the
source, the compiler, the flags, the ABI version and the CPU's features, so every later
process loads it in milliseconds. A cache entry is used only if the library's SHA-256
matches the manifest written when it was built; anything else (a truncated, foreign or
stale file, a missing manifest) is rebuilt, and a loaded library must also report the
expected ABI version. Builds take a file lock, so processes starting together compile
once and never see a half-written library.

Without a C compiler (or with ``EQUIFORCE_KERNEL=torch``) the fast path uses its pure
torch implementation instead; :func:`kernel_status` says which one runs and why.
"""
from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

ABI_VERSION = 3
SOURCE = Path(__file__).resolve().parent / "_kernels" / "edge_messages.c"
FLAGS = ("-O3", "-march=native", "-fopenmp-simd", "-fPIC", "-shared", "-pthread")
_LIBRARY: Optional[ctypes.CDLL] = None
_STATUS = "not loaded yet"


def cache_dir() -> Path:
    """``$EQUIFORCE_CACHE_DIR`` or ``$XDG_CACHE_HOME/equiforce`` (default ~/.cache/equiforce)."""
    if os.environ.get("EQUIFORCE_CACHE_DIR"):
        return Path(os.environ["EQUIFORCE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "equiforce"


def kernel_status() -> str:
    """Which edge kernel the fast path uses on CPU, and why (after the first load)."""
    return _STATUS


def native_library() -> Optional[ctypes.CDLL]:
    """The loaded kernel library, building it on first use; None if unavailable."""
    global _LIBRARY, _STATUS
    if _LIBRARY is not None or _STATUS.startswith("torch"):
        return _LIBRARY
    if os.environ.get("EQUIFORCE_KERNEL", "").lower() == "torch":
        _STATUS = "torch (EQUIFORCE_KERNEL=torch)"
        return None
    try:
        path = build_or_reuse(cache_dir())
        library = ctypes.CDLL(str(path))
        if library.equiforce_edge_kernel_abi() != ABI_VERSION:
            raise RuntimeError(f"{path} reports ABI {library.equiforce_edge_kernel_abi()}, "
                               f"expected {ABI_VERSION}")
        _LIBRARY = _declare(library)
        _STATUS = f"native ({path})"
    except (OSError, RuntimeError, AttributeError, subprocess.SubprocessError) as error:
        _STATUS = f"torch (the C kernel is unavailable: {error})"
        log.warning("equiforce: %s", _STATUS)
    return _LIBRARY


def build_or_reuse(root: Path) -> Path:
    """Path of a verified library for this machine, compiling it if needed."""
    compiler = _compiler()
    key = _cache_key(compiler)
    folder = root / "kernels" / key
    folder.mkdir(parents=True, exist_ok=True)
    library = folder / "edge_messages.so"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _verified(library):
            return library
        log.info("equiforce: compiling the edge kernel for this machine (once; ~1 s)")
        _compile(compiler, folder, library)
        if not _verified(library):
            raise RuntimeError(f"the freshly built kernel {library} does not verify")
    return library


def _compiler() -> str:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise RuntimeError("no C compiler found (install gcc, or set CC)")
    return compiler


def _cache_key(compiler: str) -> str:
    """SHA-256 of the source, compiler version, flags, ABI and CPU features."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True,
                             check=True, timeout=30).stdout
    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), version.encode(), " ".join(FLAGS).encode(),
                 str(ABI_VERSION).encode(), _cpu_features().encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:32]


def _cpu_features() -> str:
    """The CPU model and feature flags (``-march=native`` code is only valid there)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.machine() + platform.processor()
    wanted = [line for line in lines if line.startswith(("model name", "flags", "Features"))]
    return "\n".join(sorted(set(wanted)))


def _compile(compiler: str, folder: Path, library: Path) -> None:
    """Compile to a temporary file, record its hash, then move it into place atomically."""
    handle, tmp = tempfile.mkstemp(dir=folder, suffix=".so.tmp")
    os.close(handle)
    try:
        result = subprocess.run([compiler, *FLAGS, "-o", tmp, str(SOURCE)],
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            raise RuntimeError(f"compiling {SOURCE.name} failed: {result.stderr.strip()[:500]}")
        manifest = {"sha256": _sha256(Path(tmp)), "abi": ABI_VERSION}
        (folder / "manifest.json.tmp").write_text(json.dumps(manifest))
        os.replace(tmp, library)
        os.replace(folder / "manifest.json.tmp", folder / "manifest.json")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _verified(library: Path) -> bool:
    """True if ``library`` matches the SHA-256 and ABI its manifest recorded at build time.

    The library is not loaded here: a process must never map a file it may replace.
    """
    manifest_path = library.parent / "manifest.json"
    if not (library.is_file() and manifest_path.is_file()):
        return False
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    if manifest.get("sha256") != _sha256(library) or manifest.get("abi") != ABI_VERSION:
        log.warning("equiforce: kernel cache entry %s is corrupted or foreign; rebuilding",
                    library)
        return False
    return True


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _declare(library: ctypes.CDLL) -> ctypes.CDLL:
    i64, i32, ptr = ctypes.c_int64, ctypes.c_int32, ctypes.c_void_p
    common = [ctypes.c_int, i64, i64, i64, i32, i32, i32, i32, i32, ptr, ptr, ptr, ptr, ptr, ptr]
    library.equiforce_edge_forward.argtypes = common + [ptr, ctypes.c_int]
    library.equiforce_edge_backward.argtypes = common + [ptr, ptr, ptr, ptr, ctypes.c_int]
    library.equiforce_edge_forward.restype = ctypes.c_int
    library.equiforce_edge_backward.restype = ctypes.c_int
    return library
