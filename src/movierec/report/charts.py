"""Charts of a compare run: per-epoch curves of every model, baselines as reference lines."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from movierec._io import atomic_path
from movierec.evaluation.names import METRIC_LABELS, VALIDATION_LOGS
from movierec.records import RunResults

__all__ = ["plot_curves", "curves_png", "popularity_png", "CURVES"]

# (history key, validation-result key for baselines, panel title)
CURVES = (
    ("loss", None, "train loss per rating"),
    ("val_factorized_top_100", "factorized_top_100", f"validation factorized {METRIC_LABELS['factorized_top_100']}"),
    (VALIDATION_LOGS["ndcg@10"], "ndcg@10", f"validation {METRIC_LABELS['ndcg@10']} (seen excluded)"),
)


def plot_curves(results: RunResults, path: str | Path) -> Path:
    """Draws one panel per curve; trained models as lines, baselines as dashed levels.

    Args:
        results: A compare run (`run_experiment`, or `load_results` of its `results.json`).
        path: PNG file to write (atomically).

    Returns:
        The path written.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(curves_png(results))
    return path


def curves_png(results: RunResults) -> bytes:
    """The curves of `plot_curves` as PNG bytes."""
    fig, axes = plt.subplots(1, len(CURVES), figsize=(5.2 * len(CURVES), 3.8))
    for axis, (key, baseline_key, title) in zip(axes, CURVES):
        for index, (name, model) in enumerate(results.models.items()):
            color = f"C{index % 10}"
            history = model.history
            if key in history:
                values = history[key]
                if key == "loss":
                    # the epoch's mean batch loss, each batch's summed over its targets: divide by the batch
                    # size so models trained with different batch sizes share a scale
                    batch = (model.train_config or {}).get("batch_size") or 1
                    values = [v / batch for v in values]
                axis.plot(range(1, len(values) + 1), values, marker="o", ms=3, color=color, label=name)
            elif baseline_key and baseline_key in model.validation:
                axis.axhline(model.validation[baseline_key], ls="--", color=color, label=f"{name} (no training curve)")
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = [], []
    for axis in axes:
        for handle, label in zip(*axis.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return _png(fig)


def popularity_png(results: RunResults) -> bytes:
    """Share of each model's top-10 lists per popularity bin, against the catalogue (log-spaced bins)."""
    models = {name: m.popularity for name, m in results.models.items() if m.popularity is not None}
    fig, axis = plt.subplots(figsize=(7.5, 3.6))
    if models:
        first = next(iter(models.values()))
        edges = np.asarray(first["edges"])
        centers = np.sqrt(np.maximum(edges[:-1], 0.5) * np.maximum(edges[1:], 1.0))
        axis.step(centers, first["catalogue"], where="mid", color="black", lw=2, label="catalogue")
        for index, (name, bins) in enumerate(models.items()):
            axis.step(centers, bins["recommended"], where="mid", color=f"C{index % 10}", label=name)
        axis.set_xscale("log")
    axis.set_xlabel("training ratings of the movie (log scale)")
    axis.set_ylabel("share of movies / of recommendations")
    axis.set_title("How popular are the recommended movies?", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, frameon=False, ncol=2)
    fig.tight_layout()
    return _png(fig)


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=110, format="png")
    plt.close(fig)
    return buffer.getvalue()
