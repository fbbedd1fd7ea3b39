"""Charts of a compare run: per-epoch curves of every model, baselines as reference lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from movierec._io import atomic_path
from movierec.evaluation.names import METRIC_LABELS, VALIDATION_LOGS

__all__ = ["plot_curves", "CURVES"]

# (history key, validation-result key for baselines, panel title)
CURVES = (
    ("loss", None, "train loss per rating"),
    ("val_factorized_top_100", "factorized_top_100", f"validation factorized {METRIC_LABELS['factorized_top_100']}"),
    (VALIDATION_LOGS["ndcg@10"], "ndcg@10", f"validation {METRIC_LABELS['ndcg@10']} (seen excluded)"),
)


def plot_curves(results: dict[str, Any], path: str | Path) -> Path:
    """Draws one panel per curve; trained models as lines, baselines as dashed levels.

    Args:
        results: A `results.json` dict from `run_experiment`.
        path: PNG file to write (atomically).

    Returns:
        The path written.
    """
    path = Path(path)
    fig, axes = plt.subplots(1, len(CURVES), figsize=(5.2 * len(CURVES), 3.8))
    for axis, (key, baseline_key, title) in zip(axes, CURVES):
        for index, (name, model) in enumerate(results["models"].items()):
            color = f"C{index % 10}"
            history = model.get("history", {})
            if key in history:
                values = history[key]
                if key == "loss":
                    # TFRS sums the loss over a batch: divide by the batch size so models trained
                    # with different batch sizes share a scale (the last, smaller batch aside).
                    batch = model.get("train_config", {}).get("batch_size") or 1
                    values = [v / batch for v in values]
                axis.plot(range(1, len(values) + 1), values, marker="o", ms=3, color=color, label=name)
            elif baseline_key and baseline_key in model.get("validation", {}):
                axis.axhline(
                    model["validation"][baseline_key], ls="--", color=color, label=f"{name} (no training curve)"
                )
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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
