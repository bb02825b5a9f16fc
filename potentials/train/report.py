"""Parity plots of predictions against reference labels."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def parity_plot(model, data, path: Path) -> Path:
    """Energy per atom (eV/atom) and force components (eV/A), predicted vs reference, as PNG.

    ``data`` is a batch provider with ``len()`` and ``batch(indices)`` (see ``loop._Batches``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ref_e, pred_e, ref_f, pred_f = [], [], [], []
    for index in range(len(data)):
        graph, targets = data.batch([index])
        out = model(*graph.model_inputs())
        ref_e.append(float(targets.energy[0]) / graph.num_atoms)
        pred_e.append(float(out["energy"][0].detach()) / graph.num_atoms)
        ref_f.append(targets.forces.numpy().ravel())
        pred_f.append(out["forces"].detach().numpy().ravel())
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    _panel(axes[0], np.array(ref_e), np.array(pred_e), "energy (eV/atom)", 1e3, "meV/atom")
    _panel(axes[1], np.concatenate(ref_f), np.concatenate(pred_f), "force component (eV/Å)",
           1e3, "meV/Å")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _panel(ax, reference: np.ndarray, predicted: np.ndarray, label: str, scale: float,
           unit: str) -> None:
    low, high = min(reference.min(), predicted.min()), max(reference.max(), predicted.max())
    ax.plot([low, high], [low, high], color="0.6", lw=1)
    ax.scatter(reference, predicted, s=6, alpha=0.6)
    mae = scale * np.mean(np.abs(predicted - reference))
    rmse = scale * np.sqrt(np.mean((predicted - reference) ** 2))
    ax.set_title(f"MAE {mae:.2f} {unit}, RMSE {rmse:.2f} {unit}", fontsize=10)
    ax.set_xlabel(f"reference {label}")
    ax.set_ylabel(f"predicted {label}")
