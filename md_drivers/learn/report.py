"""The loop's report: a table per round, a learning curve and calibration plots."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

__all__ = ["markdown_table", "plot_calibration", "plot_learning_curve"]


def markdown_table(rows: Sequence[dict]) -> str:
    """One line per round: frames, wall time, held-out errors (overall and per kind),
    calibration."""
    kinds = sorted({kind for row in rows for kind in row["test"]["by_kind"]})
    head = (["round", "frames added", "frames total", "failed labels", "wall (s)",
             "test forces MAE (meV/A)", "test energy MAE (meV/atom)"]
            + [f"{kind} forces MAE" for kind in kinds] + ["Spearman (spread, error)"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        test = row["test"]
        cells = [str(row["round"]), str(row["frames_added"]), str(row["frames_total"]),
                 str(row["label_failures"]), f"{row['wall_seconds']:.0f}",
                 f"{test['forces_mae']:.1f}", f"{test['energy_mae']:.2f}"]
        cells += [f"{test['by_kind'][k]['forces_mae']:.1f}" if k in test["by_kind"] else "-"
                  for k in kinds]
        spearman = (row.get("calibration") or {}).get("spearman_mean")
        cells.append("-" if spearman is None else f"{spearman:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_calibration(calibration: dict, path: Path, title: str) -> Path:
    """Per frame: mean committee spread against the committee mean's RMS force error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.scatter(calibration["mean_spread"], calibration["rmse"], s=14)
    top = max(max(calibration["mean_spread"], default=1), max(calibration["rmse"], default=1))
    ax.plot([0, top], [0, top], color="grey", lw=0.8, ls="--", label="error = spread")
    rho = calibration.get("spearman_mean")
    ax.set(xlabel="mean per-atom committee spread (eV/A)", ylabel="force RMSE of the mean (eV/A)",
           title=f"{title}" + ("" if rho is None else f"\nSpearman {rho:.2f}"))
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_learning_curve(rows: Sequence[dict], path: Path) -> Path:
    """Held-out force MAE of the committee mean against the labelled frames, per kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    frames = [row["frames_total"] for row in rows]
    ax.plot(frames, [row["test"]["forces_mae"] for row in rows], "o-", color="k", label="all")
    for kind in sorted({k for row in rows for k in row["test"]["by_kind"]}):
        ax.plot(frames, [row["test"]["by_kind"].get(kind, {}).get("forces_mae") for row in rows],
                ".--", label=kind)
    for row, x in zip(rows, frames):
        ax.annotate(f"r{row['round']}", (x, row["test"]["forces_mae"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="labelled frames", ylabel="held-out force MAE (meV/A)", yscale="log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
