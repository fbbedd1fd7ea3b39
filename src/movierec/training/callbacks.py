"""Callbacks: per-epoch validation metrics computed once over all movies."""

from __future__ import annotations

import logging
import resource
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
    Keras logs the epoch's running mean loss, which stays non-finite once one batch was, so
    reading it every `every` batches (and at the end of the epoch) catches every divergence
    while leaving the other batches asynchronous: a per-batch read would make every step wait
    for the device.

    Args:
        every: Batches between two reads of the loss.
    """

    _supports_tf_logs = True  # logs arrive as tensors; only the batches read below wait for them

    def __init__(self, every: int = 50) -> None:
        super().__init__()
        self.every = every
        self._epoch = 0
        self._next = 1  # read the loss once this many batches are done

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1
        self._next = 1

    def on_train_batch_end(self, batch, logs=None):
        # `batch` is the index of the last batch done: with Keras' steps_per_execution, calls come
        # once per group of batches, so this reads the loss at the first call past each threshold.
        if batch + 1 >= self._next:
            self._check((logs or {}).get("loss"), f"batch {batch + 1}")
            self._next = next_multiple(batch + 1, self.every)

    def on_epoch_end(self, epoch, logs=None):
        self._check((logs or {}).get("loss"), "its last batch")

    def _check(self, loss, where: str) -> None:
        if loss is None:
            return
        value = float(loss)
        if not np.isfinite(value):
            raise ModelFitError(
                f"training loss became {value} at epoch {self._epoch}, by {where}; "
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
    """Progress of a fit: a tqdm bar over epochs on a terminal, log lines otherwise.

    Each epoch ends with a line (when stderr is not a terminal, where the bar shows the same):
    loss, validation NDCG@10, seconds and the process's peak resident memory so far, which
    stays flat after the first epoch when memory does not grow with epochs. Epochs of more than
    `long_epoch` batches (large data) also log about every tenth of the epoch, so a long run is
    never silent; the batch count is read from Keras without waiting for the device.

    Args:
        name: Label of the bar (the model name).
        epochs: Planned number of epochs (early stopping may end sooner).
        long_epoch: Batches per epoch above which progress inside an epoch is logged.
    """

    _supports_tf_logs = True  # batch logs stay tensors: nothing here reads them

    def __init__(self, name: str, epochs: int, long_epoch: int = 2000) -> None:
        super().__init__()
        self.name = name
        self.epochs = epochs
        self.long_epoch = long_epoch
        self._bar = None
        self._every = 0
        self._start = 0.0
        self._epoch = 0
        self._next_log = 0

    def on_train_begin(self, logs=None):
        # disable=None: silent when stderr is not a terminal (CI, logs, tests)
        self._bar = tqdm(total=self.epochs, desc=self.name, unit="epoch", leave=False, disable=None)
        steps = (self.params or {}).get("steps") or 0
        self._every = max(1, steps // 10) if steps > self.long_epoch else 0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._epoch = epoch + 1
        self._next_log = self._every

    def on_train_batch_end(self, batch, logs=None):
        # with Keras' steps_per_execution, calls come once per group of batches: log at the first
        # call past each tenth of the epoch
        if self._every and batch + 1 >= self._next_log:
            self._next_log = next_multiple(batch + 1, self._every)
            steps = self.params["steps"]
            logger.info(
                "%s epoch %d: %d%% (%s/%s batches), %.0f s",
                self.name, self._epoch, round(100 * (batch + 1) / steps), f"{batch + 1:,}", f"{steps:,}",
                time.perf_counter() - self._start,
            )  # fmt: skip

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        shown = {"loss": logs.get("loss"), "val NDCG@10": logs.get("val_ndcg_at_10")}
        if self._bar is not None and not self._bar.disable:
            self._bar.set_postfix({k: f"{float(v):.4g}" for k, v in shown.items() if v is not None})
            self._bar.update(1)
            return
        values = ", ".join(f"{k} {float(v):.4g}" for k, v in shown.items() if v is not None)
        logger.info(
            "%s epoch %d/%d: %s, %.1f s, peak memory %s MB",
            self.name, epoch + 1, self.epochs, values, time.perf_counter() - self._start, f"{peak_rss_mb():,.0f}",
        )  # fmt: skip

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()


def next_multiple(done: int, every: int) -> int:
    """The first multiple of `every` above `done` batches: when a grouped-batch callback acts next.

    >>> next_multiple(32, 50), next_multiple(50, 50), next_multiple(64, 50)
    (50, 100, 100)
    """
    return done - done % every + every


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
