"""Fit the model that `movierec train` exports: pick the epoch count on a held-out slice, then refit on everything.

Early stopping needs validation data, but the exported model should learn from every
rating. So a model with early stopping is trained twice: first on 90% of the ratings,
watching the other 10% to find the best epoch; then on all ratings for that many epochs.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import numpy as np

from movierec.config import ExperimentConfig, SplitConfig, TrainConfig, resolve_train_config
from movierec.data import Dataset
from movierec.experiments.data import PreparedData, prepare_data
from movierec.recommender import FitOptions, Recommender
from movierec.registry import build_recommender

__all__ = ["fit_final"]

logger = logging.getLogger(__name__)


def fit_final(
    model_config: Any, dataset: Dataset, train_config: TrainConfig, validation_fraction: float = 0.1
) -> tuple[Recommender, PreparedData, dict[str, Any]]:
    """Trains `model_config` on all of `dataset`, choosing the epoch count on a validation slice.

    Args:
        model_config: Preset or loaded model config.
        dataset: All ratings to learn from.
        train_config: Budget; the model config's overrides win (see `resolve_train_config`).
        validation_fraction: Share held out (random) to choose the epoch count when the model
            uses early stopping; 0 trains once, for the configured epochs.

    Returns:
        `(recommender fit on everything, the data it was fit on, info)`; info records the
        chosen epochs and the validation scores of the first stage.
    """
    info: dict[str, Any] = {}
    base = ExperimentConfig(train=train_config)

    def prepare(fraction: float) -> PreparedData:
        split = SplitConfig(strategy="random", test_fraction=0.0, validation_fraction=fraction, seed=train_config.seed)
        return prepare_data(dataclasses.replace(base, split=split), dataset)

    patience = resolve_train_config(train_config, model_config).early_stopping_patience
    if patience and validation_fraction > 0:
        staged = prepare(validation_fraction)
        if len(staged.validation) > 0:
            probe = build_recommender(model_config)
            probe.fit(
                staged.train, FitOptions(validation=staged.validation, features=staged.features, train=train_config)
            )
            monitor = train_config.monitor
            curve = probe.history.get(monitor, [])
            if curve:
                best_epoch = int(np.argmax(curve)) + 1
                info = {"chosen_epochs": best_epoch, "validation_curve": {monitor: curve}}
                logger.info(
                    "%s: best %s at epoch %d of %d; refitting on all ratings",
                    model_config.name,
                    monitor,
                    best_epoch,
                    len(curve),
                )
                model_config = dataclasses.replace(model_config, epochs=best_epoch, early_stopping_patience=0)
    data = prepare(0.0)
    recommender = build_recommender(model_config)
    recommender.fit(data.train, FitOptions(features=data.features, train=train_config))
    return recommender, data, info
