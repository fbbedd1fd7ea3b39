"""TensorBoard summaries beyond the Keras callback: test scalars and HParams, written without TensorFlow.

Layout of an experiment (`<logdir>/<experiment>/`):

* `<model>/train`, `<model>/validation`: the Keras callback (TFRS models); `epoch_loss` per
  epoch, and the validation run also `epoch_factorized_top_{k}`, `epoch_recall_at_10`,
  `epoch_ndcg_at_10`.
* `<model>/`: `test/<metric>` scalars (step 0), the run's HParams, and the movie embeddings
  for the projector (`movierec.tracking.projector`).
* the experiment folder itself: the HParams experiment config (which columns to show).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from tensorboard.plugins.hparams import summary_v2 as hp
from tensorboard.plugins.scalar.summary_v2 import scalar_pb

from movierec.evaluation.names import METRIC_LABELS
from movierec.tracking.events import EventWriter

__all__ = ["flat_hparams", "write_hparams_config", "write_run_summary"]


def flat_hparams(config: Any, train_config: Any | None = None) -> dict[str, bool | int | float | str]:
    """Flattens a model config (+ training budget) to the scalar types HParams accepts."""
    values: dict[str, bool | int | float | str] = {}
    for source in (config, train_config):
        if source is None:
            continue
        for field in dataclasses.fields(source):
            value = getattr(source, field.name)
            if field.name in ("validation_ks",):
                continue
            if value is None:
                value = "none"
            elif isinstance(value, (tuple, list)):
                value = ",".join(str(v) for v in value) or "none"
            elif not isinstance(value, (bool, int, float, str)):
                value = str(value)
            values[field.name] = value
    return values


def write_hparams_config(experiment_dir: Path, hparam_names: list[str], prefix: str = "test") -> None:
    """Declares the HParams columns and metrics of an experiment (written once, at its root).

    Args:
        experiment_dir: Root folder of the runs.
        hparam_names: Every hyper-parameter name used by a run.
        prefix: "test" for a compare job, "validation" for a tuning search.
    """
    metrics = [hp.Metric(f"{prefix}/{key}", display_name=f"{prefix} {label}") for key, label in METRIC_LABELS.items()]
    metrics += [
        hp.Metric("epoch_loss", group="train", display_name="train loss"),
        hp.Metric("epoch_factorized_top_100", group="validation", display_name="val top-100"),
    ]
    with EventWriter(experiment_dir) as writer:
        writer.add(hp.hparams_config_pb(hparams=[hp.HParam(name) for name in sorted(hparam_names)], metrics=metrics))


def write_run_summary(run_dir: Path, hparams: dict[str, Any], metrics: dict[str, Any], prefix: str = "test") -> None:
    """Writes the run's HParams and its finite metrics as `<prefix>/<name>` scalars at step 0."""
    with EventWriter(run_dir) as writer:
        writer.add(hp.hparams_pb(hparams, trial_id=run_dir.name))
        for name, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
                writer.add(scalar_pb(f"{prefix}/{name}", float(value)))
