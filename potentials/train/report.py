"""Parity plots of predictions against reference labels, coloured by configuration kind."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def parity_plot(model, data, path: Path) -> Path:
    """Energy per atom (eV/atom) and force components (eV/A), predicted vs reference, as PNG.

    ``data`` is a :class:`~potentials.train._batches.Batches`; with configuration kinds,
    each kind has its own colour and its MAE in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = _predictions(model, data)
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.4))
    _panel(axes[0], points, "energy", "energy (eV/atom)", "meV/atom")
    _panel(axes[1], points, "forces", "force component (eV/Å)", "meV/Å")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _predictions(model, data) -> dict[str, dict[str, list[np.ndarray]]]:
    """``{kind: {"energy": [reference, predicted], "forces": [...]}}`` in eV/atom, eV/A."""
    points: dict[str, dict[str, list]] = {}
    for index in range(len(data)):
        graph, targets = data.batch([index])
        out = model(*graph.model_inputs())
        kinds = data.kinds_of([index])
        entry = points.setdefault(kinds[0] if kinds else "", {"energy": [[], []],
                                                              "forces": [[], []]})
        entry["energy"][0].append(float(targets.energy[0]) / graph.num_atoms)
        entry["energy"][1].append(float(out["energy"][0].detach()) / graph.num_atoms)
        entry["forces"][0].append(targets.forces.numpy().ravel())
        entry["forces"][1].append(out["forces"].detach().numpy().ravel())
    return {kind: {name: [np.hstack(values) for values in pair] for name, pair in entry.items()}
            for kind, entry in sorted(points.items())}


def _panel(ax, points, quantity: str, label: str, unit: str) -> None:
    reference = np.concatenate([p[quantity][0] for p in points.values()])
    predicted = np.concatenate([p[quantity][1] for p in points.values()])
    low, high = min(reference.min(), predicted.min()), max(reference.max(), predicted.max())
    ax.plot([low, high], [low, high], color="0.6", lw=1)
    for kind, p in points.items():
        ref, pred = p[quantity]
        ax.scatter(ref, pred, s=6, alpha=0.6,
                   label=f"{kind}: MAE {1e3 * np.mean(np.abs(pred - ref)):.2f}" if kind else None)
    mae = 1e3 * np.mean(np.abs(predicted - reference))
    rmse = 1e3 * np.sqrt(np.mean((predicted - reference) ** 2))
    ax.set_title(f"MAE {mae:.2f} {unit}, RMSE {rmse:.2f} {unit}", fontsize=10)
    ax.set_xlabel(f"reference {label}")
    ax.set_ylabel(f"predicted {label}")
    if len(points) > 1 or "" not in points:
        ax.legend(fontsize=8, markerscale=2, title=unit, title_fontsize=8)
