"""TensorBoard writers beyond the Keras callback: test scalars, HParams, projector.

Layout of an experiment (`<logdir>/<experiment>/`):

* `<model>/train`, `<model>/validation`: Keras callback; `epoch_loss` per epoch, and the
  validation run also `epoch_factorized_top_{k}`, `epoch_recall_at_10`, `epoch_ndcg_at_10`.
* `<model>/`: `test/<metric>` scalars (step 0), the run's HParams, and the movie
  embeddings for the projector (checkpoint + `metadata.tsv` + `projector_config.pbtxt`).
* the experiment folder itself: the HParams experiment config (which columns to show).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec._env import import_tensorflow

tf, tfrs = import_tensorflow()

from tensorboard.plugins import projector  # noqa: E402
from tensorboard.plugins.hparams import api as hp  # noqa: E402

__all__ = ["flat_hparams", "write_hparams_config", "write_run_summary", "write_projector", "TEST_METRICS"]

TEST_METRICS = (
    "factorized_top_1", "factorized_top_5", "factorized_top_10", "factorized_top_50", "factorized_top_100",
    "recall@10", "recall@20", "ndcg@10", "hr@10", "mrr", "coverage@10",
)


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
    with tf.summary.create_file_writer(str(experiment_dir)).as_default():
        hp.hparams_config(
            hparams=[hp.HParam(name) for name in sorted(hparam_names)],
            metrics=[hp.Metric(f"{prefix}/{m}", display_name=f"{prefix} {m}") for m in TEST_METRICS]
            + [hp.Metric("epoch_loss", group="train", display_name="train loss")]
            + [hp.Metric("epoch_factorized_top_100", group="validation", display_name="val top-100")],
        )


def write_run_summary(
    run_dir: Path, hparams: dict[str, Any], test_metrics: dict[str, float], prefix: str = "test"
) -> None:
    """Writes the run's HParams and its metrics as `<prefix>/<name>` scalars at step 0."""
    with tf.summary.create_file_writer(str(run_dir)).as_default():
        hp.hparams(hparams, trial_id=run_dir.name)
        for name, value in test_metrics.items():
            if isinstance(value, (int, float)) and np.isfinite(value):
                tf.summary.scalar(f"{prefix}/{name}", float(value), step=0)


def write_projector(run_dir: Path, vectors: np.ndarray, items: pd.DataFrame, popularity: np.ndarray) -> None:
    """Saves movie embeddings with titles, genres and popularity for the embedding projector.

    Args:
        run_dir: The model's run folder (it holds an event file, so TensorBoard lists it).
        vectors: `[n_items, dim]` movie embeddings, rows aligned with `items`.
        items: Canonical items table in vocabulary order (`title`, `genres`).
        popularity: `[n_items]` training interaction counts.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = pd.DataFrame(
        {
            "title": items["title"].astype(str).str.replace("\t", " "),
            "genres": items["genres"].astype(str).replace("", "(none)"),
            "popularity": popularity.astype(int),
        }
    )
    meta.to_csv(run_dir / "metadata.tsv", sep="\t", index=False)
    checkpoint = tf.train.Checkpoint(movie_embedding=tf.Variable(vectors.astype(np.float32)))
    # No model_checkpoint_path: the plugin then takes the run folder's latest checkpoint,
    # which keeps the run relocatable.
    checkpoint.save(str(run_dir / "embedding.ckpt"))
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "movie_embedding/.ATTRIBUTES/VARIABLE_VALUE"
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(str(run_dir), config)
