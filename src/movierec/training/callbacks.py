"""Callbacks: per-epoch validation metrics computed once over all movies."""

from __future__ import annotations

import logging
import time

import numpy as np
from tqdm.auto import tqdm

from movierec._env import import_tensorflow
from movierec.data.interactions import Interactions
from movierec.errors import ModelFitError
from movierec.evaluation import evaluate, sample_users
from movierec.evaluation.names import VALIDATION_LOGS

tf, tfrs = import_tensorflow()

__all__ = ["ValidationMetrics", "EpochTimer", "EpochProgress"]

logger = logging.getLogger(__name__)


class ValidationMetrics(tf.keras.callbacks.Callback):  # type: ignore[name-defined]  # tf is imported at run time
    """Adds validation factorized top-k and Recall/NDCG@10 to the epoch logs.

    Put it *before* the TensorBoard, EarlyStopping and checkpoint callbacks: they read
    the `val_*` entries it writes (TensorBoard draws them in the "validation" run).

    Args:
        recommender: The `TwoTowerRecommender` being trained (scores with current weights).
        train: Training interactions (the seen items masked for Recall/NDCG).
        validation: The validation slice carved from train; never the test split.
        ks: Cut-offs of the factorized top-k accuracy.
    """

    def __init__(
        self, recommender, train: Interactions, validation: Interactions, ks=(1, 5, 10, 50, 100), max_users: int = 0
    ):
        super().__init__()
        self.recommender = recommender
        self.train = train
        self.validation = sample_users(validation, max_users)
        if len(self.validation) < len(validation):
            logger.info(
                "%s: validation metrics each epoch on a fixed sample of %d of %d validation users",
                recommender.name, len(np.unique(self.validation.users)), len(np.unique(validation.users)),
            )  # fmt: skip
        self.ks = tuple(ks)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or len(self.validation) == 0:
            return
        self.recommender.refresh_embeddings()
        metrics = evaluate(self.recommender, self.train, self.validation, ks=self.ks)
        for k in self.ks:
            logs[f"val_factorized_top_{k}"] = metrics[f"factorized_top_{k}"]
        for metric, log_name in VALIDATION_LOGS.items():
            logs[log_name] = metrics[metric]
        logger.debug("epoch %d validation: %s", epoch + 1, {k: round(v, 4) for k, v in logs.items()})


class StopOnNonFiniteLoss(tf.keras.callbacks.Callback):  # type: ignore[name-defined]  # tf is imported at run time
    """Stops training with `ModelFitError` naming the epoch and batch where the loss became NaN or infinite.

    The error propagates out of `fit`, so nothing is exported or saved from a diverged run.
    """

    def __init__(self) -> None:
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            raise ModelFitError(
                f"training loss became {float(loss)} at epoch {self._epoch}, batch {batch + 1}; "
                "lower the learning rate (nothing was saved)"
            )


class EpochTimer(tf.keras.callbacks.Callback):  # type: ignore[name-defined]  # tf is imported at run time
    """Records the wall time of each epoch (`self.seconds`) and logs it as `epoch_seconds`."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        self.seconds.append(elapsed)
        if logs is not None:
            logs["seconds"] = elapsed


class EpochProgress(tf.keras.callbacks.Callback):  # type: ignore[name-defined]  # tf is imported at run time
    """A tqdm bar over epochs showing loss and validation NDCG@10 (only on a terminal).

    Args:
        name: Label of the bar (the model name).
        epochs: Planned number of epochs (early stopping may end sooner).
    """

    def __init__(self, name: str, epochs: int) -> None:
        super().__init__()
        self.name = name
        self.epochs = epochs
        self._bar = None

    def on_train_begin(self, logs=None):
        # disable=None: silent when stderr is not a terminal (CI, logs, tests)
        self._bar = tqdm(total=self.epochs, desc=self.name, unit="epoch", leave=False, disable=None)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is None:
            return
        logs = logs or {}
        shown = {"loss": logs.get("loss"), "val NDCG@10": logs.get("val_ndcg_at_10")}
        self._bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items() if v is not None})
        self._bar.update(1)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
