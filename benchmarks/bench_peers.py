"""Benchmark: MACE small, NequIP l1 and equiforce side by side in one run (fcc Cu).

    make bench-peers                     # creates the peer venvs, then runs this script
    .venv/bin/python benchmarks/bench_peers.py [--codes mace nequip equiforce]
        [--sizes 108 864 4000 32000] [--dtypes float32 float64] [--repeats 3]
        [--md-steps 5] [--write-docs] [--from-json benchmarks/results/peers.json]

Same model size everywhere: cutoff 5 A, 32 channels, l_max 1, random weights
(``torch.manual_seed(0)``). Every (code, atoms, dtype) case runs in a fresh subprocess of
the code's own venv (``.venv-peers-mace``, ``.venv-peers-nequip``; equiforce in the
interpreter running this script) with 2 torch threads; ``_peer_cases.py`` does the timing
and prints one JSON line. Per case: (a) one bare energy+forces+stress model call with the
neighbour list excluded, (b) one velocity-Verlet MD step (1 fs) through the code's own ASE
calculator, neighbour list included; medians of ``--repeats``; peak RSS.

Cases run in increasing size. A case is skipped (recorded with the reason) when a smaller
size of the same code and dtype took more than ``--max-call-seconds`` (60 s) per model
call, when its RSS projected linearly from that smaller size exceeds ``--max-rss-gb``
(16 GB), or when a smaller size failed, timed out or was skipped. A case running longer
than ``--case-timeout`` is killed and recorded as skipped.

Outputs: JSON (``--output``, written after every case), a log-log plot of model-call time
per atom against atoms (``--plot``, default benchmarks/results/peers.png) and markdown
ratio tables, printed and, with ``--write-docs``, written into docs/benchmarks.md between
``<!-- peers-table:start -->`` and ``<!-- peers-table:end -->``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from _common import RESULTS, save_results

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CASES = HERE / "_peer_cases.py"
DOCS = ROOT / "docs" / "benchmarks.md"
CODES = ("mace", "nequip", "equiforce")
LABELS = {"equiforce": "equiforce", "nequip": "NequIP l1", "mace": "MACE small"}
PEERS = ("nequip", "mace")
START, END = "<!-- peers-table:start -->", "<!-- peers-table:end -->"


def default_python(code: str) -> Path:
    """The interpreter of a code's venv: equiforce runs in the one running this script."""
    if code == "equiforce":
        return Path(sys.executable)
    return ROOT / f".venv-peers-{code}" / "bin" / "python"


# --- running cases ---------------------------------------------------------------------------


def skip_reason(code: str, dtype: str, num_atoms: int, rows: list[dict], args) -> str | None:
    """Why ``num_atoms`` should not run, judged from smaller sizes of the same code/dtype."""
    smaller = sorted((r for r in rows if r["code"] == code and r["dtype"] == dtype
                      and r["num_atoms"] < num_atoms), key=lambda r: r["num_atoms"])
    for row in smaller:
        if row["status"] != "ok":
            verb = "failed" if row["status"] == "failed" else "was skipped"
            return f"a smaller size ({row['num_atoms']} atoms) {verb}"
    if not smaller:
        return None
    prev = smaller[-1]
    if prev["model_seconds_median"] > args.max_call_seconds:
        return (f"{prev['num_atoms']} atoms already took {prev['model_seconds_median']:.0f} s "
                f"per model call (> {args.max_call_seconds:g} s)")
    base = prev["rss_start_mib"]
    projected = base + (prev["peak_rss_mib"] - base) * num_atoms / prev["num_atoms"]
    if projected > 1024 * args.max_rss_gb:
        return (f"projected peak RSS {projected / 1024:.1f} GB (linear from "
                f"{prev['num_atoms']} atoms) exceeds {args.max_rss_gb:g} GB")
    return None


def run_case(code: str, num_atoms: int, dtype: str, python: Path, args) -> dict:
    """One case in a fresh subprocess; returns its JSON row or a failed/skipped record."""
    base = {"code": code, "num_atoms": num_atoms, "dtype": dtype, "python": str(python)}
    if not python.exists():
        return {**base, "status": "skipped",
                "reason": f"{python} not found (run `make bench-peers` to create the venv)"}
    command = [str(python), str(CASES), "--code", code, "--atoms", str(num_atoms),
               "--dtype", dtype, "--repeats", str(args.repeats), "--warmup", str(args.warmup),
               "--md-steps", str(args.md_steps), "--md-warmup", str(args.md_warmup),
               "--threads", str(args.threads), "--nequip-layers", str(args.nequip_layers)]
    threads = str(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
           "OPENBLAS_NUM_THREADS": threads, "PYTHONWARNINGS": "ignore"}
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    try:
        out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                             timeout=args.case_timeout)
    except subprocess.TimeoutExpired:
        return {**base, "status": "skipped",
                "reason": f"timed out after {args.case_timeout:g} s (--case-timeout)"}
    wall = time.perf_counter() - start
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        return {**base, "status": "failed", "returncode": out.returncode,
                "stderr_tail": out.stderr.strip().splitlines()[-15:]}
    row = json.loads(lines[-1])
    return {**row, "status": "ok", "case_wall_seconds": wall, "loadavg_1min_before": load_before}


def run_all(args) -> list[dict]:
    rows: list[dict] = []
    for num_atoms in sorted(args.sizes):
        for dtype in args.dtypes:
            for code in args.codes:
                reason = skip_reason(code, dtype, num_atoms, rows, args)
                if reason:
                    row = {"code": code, "num_atoms": num_atoms, "dtype": dtype,
                           "status": "skipped", "reason": reason}
                else:
                    row = run_case(code, num_atoms, dtype, args.python[code], args)
                rows.append(row)
                print(describe(row), flush=True)
                save(rows, args)
    return rows


def describe(row: dict) -> str:
    head = f"{LABELS[row['code']]:10s} N={row['num_atoms']:6d} {row['dtype']}:"
    if row["status"] == "skipped":
        return f"{head} skipped ({row['reason']})"
    if row["status"] == "failed":
        return f"{head} FAILED (exit {row['returncode']}): " + " | ".join(row["stderr_tail"][-3:])
    text = (f"{head} model {1e3 * row['model_seconds_median']:9.1f} ms/call "
            f"({1e6 * row['model_seconds_median'] / row['num_atoms']:7.1f} us/atom), ")
    if "md_seconds_per_step_median" in row:
        text += f"MD {1e3 * row['md_seconds_per_step_median']:9.1f} ms/step, "
    return text + f"peak RSS {row['peak_rss_mib']:.0f} MiB"


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def save(rows: list[dict], args) -> None:
    settings = {"codes": list(args.codes), "sizes": sorted(args.sizes), "dtypes": args.dtypes,
                "repeats": args.repeats, "warmup_calls": args.warmup, "md_steps": args.md_steps,
                "md_warmup": args.md_warmup, "threads": args.threads,
                "nequip_layers": args.nequip_layers, "max_call_seconds": args.max_call_seconds,
                "max_rss_gb": args.max_rss_gb, "case_timeout": args.case_timeout,
                "equiforce_git": git_revision(), "date": time.strftime("%Y-%m-%d")}
    save_results("bench_peers", {"settings": settings, "rows": rows}, args.output)


# --- reporting -------------------------------------------------------------------------------


def lookup(rows: list[dict]) -> dict:
    return {(r["code"], r["num_atoms"], r["dtype"]): r for r in rows}


def cell(row: dict | None, key: str, scale: float, fmt: str) -> str:
    if row is None:
        return "-"
    if row["status"] != "ok" or key not in row:
        return row["status"] if row["status"] != "ok" else "-"
    return format(scale * row[key], fmt)


def ratio(peer: dict | None, ours: dict | None, key: str) -> str:
    if not (peer and ours and peer["status"] == ours["status"] == "ok"
            and key in peer and key in ours):
        return "-"
    return f"x{peer[key] / ours[key]:.2f}"


def markdown_tables(rows: list[dict]) -> str:
    """Time tables (equiforce, peers, peer/equiforce ratios) and a peak-RSS table."""
    by_key = lookup(rows)
    codes = [c for c in ("equiforce", *PEERS) if any(r["code"] == c for r in rows)]
    peers = [c for c in PEERS if c in codes and "equiforce" in codes]
    cases = sorted({(r["num_atoms"], r["dtype"]) for r in rows}, key=lambda k: (k[1], k[0]))
    out = []
    for title, key in (("Model call, energy + forces + stress, neighbour list excluded (ms)",
                        "model_seconds_median"),
                       ("MD step through the ASE calculator, neighbour list included (ms)",
                        "md_seconds_per_step_median")):
        header = ["atoms", "dtype", *(LABELS[c] for c in codes),
                  *(f"{LABELS[p]} / equiforce" for p in peers)]
        out += [f"**{title}**", "", "| " + " | ".join(header) + " |",
                "|" + "---|" * len(header)]
        for n, dtype in cases:
            ours = by_key.get(("equiforce", n, dtype))
            cells = [f"{n:,}", dtype, *(cell(by_key.get((c, n, dtype)), key, 1e3, ".1f")
                                        for c in codes),
                     *(ratio(by_key.get((p, n, dtype)), ours, key) for p in peers)]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    header = ["atoms", "dtype", *(LABELS[c] for c in codes)]
    out += ["**Peak RSS of the case process (MiB)**", "", "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header)]
    for n, dtype in cases:
        cells = [f"{n:,}", dtype, *(cell(by_key.get((c, n, dtype)), "peak_rss_mib", 1.0, ".0f")
                                    for c in codes)]
        out.append("| " + " | ".join(cells) + " |")
    if peers:
        out += ["", "Ratios are peer time / equiforce time: above 1 means equiforce is faster."]
    return "\n".join(out)


def write_docs(tables: str, meta: dict, path: Path = DOCS) -> None:
    text = path.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{path} has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    settings = meta.get("settings", {})
    intro = (f"Run of {settings.get('date', '?')} (`peers.json`, equiforce "
             f"{settings.get('equiforce_git', '?')}, torch {meta.get('torch', '?')}, "
             f"{settings.get('threads', '?')} threads, median of {settings.get('repeats', '?')}):")
    path.write_text(f"{head}{START}\n{intro}\n\n{tables}\n{END}{tail}")
    print(f"updated {path}")


def plot(rows: list[dict], path: Path) -> None:
    """Log-log model-call time per atom against atoms, one line per code and dtype."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    colors = {"equiforce": "tab:blue", "nequip": "tab:orange", "mace": "tab:green"}
    styles = {"float64": ("-", "o"), "float32": ("--", "s")}
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for code in CODES:
        for dtype in ("float32", "float64"):
            ok = sorted((r for r in rows if r["code"] == code and r["dtype"] == dtype
                         and r["status"] == "ok"), key=lambda r: r["num_atoms"])
            if ok:
                ax.plot([r["num_atoms"] for r in ok],
                        [1e6 * r["model_seconds_median"] / r["num_atoms"] for r in ok],
                        styles[dtype][0], marker=styles[dtype][1], color=colors[code],
                        label=f"{LABELS[code]} {dtype}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("atoms (fcc Cu)")
    ax.set_ylabel("model call time per atom (us)")
    threads = sorted({r["threads"] for r in rows if r["status"] == "ok"})
    ax.set_title("energy + forces + stress per model call; fcc Cu, cutoff 5 A, 32 channels, "
                 f"l_max 1; {'/'.join(map(str, threads))} threads", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"saved {path}")


# --- command line ----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", nargs="+", choices=CODES, default=list(CODES))
    parser.add_argument("--sizes", type=int, nargs="+", default=[108, 864, 4000, 32000],
                        help="atom counts, each 4 n^3 (fcc cubic cells)")
    parser.add_argument("--dtypes", nargs="+", choices=["float32", "float64"],
                        default=["float32", "float64"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=4,
                        help="untimed model calls per case (MACE's TorchScript needs ~4)")
    parser.add_argument("--md-steps", type=int, default=5, help="MD steps per timed repeat")
    parser.add_argument("--md-warmup", type=int, default=2, help="untimed MD steps")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nequip-layers", type=int, default=3)
    parser.add_argument("--max-call-seconds", type=float, default=60.0)
    parser.add_argument("--max-rss-gb", type=float, default=16.0)
    parser.add_argument("--case-timeout", type=float, default=3600.0)
    parser.add_argument("--mace-python", type=Path, default=default_python("mace"))
    parser.add_argument("--nequip-python", type=Path, default=default_python("nequip"))
    parser.add_argument("--output", type=Path, default=RESULTS / "peers.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "peers.png")
    parser.add_argument("--write-docs", action="store_true",
                        help=f"write the tables into {DOCS.relative_to(ROOT)} between markers")
    parser.add_argument("--from-json", type=Path,
                        help="report (tables, plot, docs) from a saved run; run nothing")
    args = parser.parse_args()
    args.python = {"equiforce": default_python("equiforce"), "mace": args.mace_python,
                   "nequip": args.nequip_python}
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.from_json:
        meta = json.loads(args.from_json.read_text())
        rows = meta["rows"]
    else:
        rows = run_all(args)
        meta = json.loads(args.output.read_text())
    tables = markdown_tables(rows)
    print("\n" + tables + "\n")
    plot(rows, args.plot)
    if args.write_docs:
        write_docs(tables, meta)


if __name__ == "__main__":
    main()
