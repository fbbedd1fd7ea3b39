"""Callbacks: per-epoch validation metrics computed once over all movies."""

from __future__ import annotations

import json
import logging
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from movierec._env import import_tensorflow
from movierec._io import atomic_path
from movierec.data.interactions import Interactions
from movierec.errors import ModelFitError
from movierec.evaluation import evaluate, sample_users
from movierec.evaluation.names import VALIDATION_LOGS

tf, tfrs = import_tensorflow()

__all__ = ["ValidationMetrics", "EpochTimer", "EpochProgress", "EpochBackup", "AveragedWeights"]

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


class AveragedWeights:
    """Shows validation, early stopping, checkpoints and the end of `fit` the optimiser's average of the weights.

    An optimiser made with `make_optimizer(..., average_momentum=m)` keeps an exponential moving average of each
    weight, updated after every step (Keras' `use_ema`). At each epoch's end `swap_in` keeps the raw weights
    aside and puts the averages in the model; `swap_back` puts the raw weights back, so training, and the
    backup a resumed run starts from, go on from them. Put `swap_in` before the callbacks that evaluate or
    keep weights (validation, early stopping, checkpoints, TensorBoard) and `swap_back` just before the
    backup's writer. When `fit` ends, Keras puts the averages in the model (`finalize_variable_values`)
    before early stopping restores its best epoch's weights, which are averages too.
    """

    def __init__(self) -> None:
        self._raw: list[Any] | None = None
        self.swap_in = _WeightSwap(self._swap_in)
        self.swap_back = _WeightSwap(self._swap_back)

    def _swap_in(self, model: Any) -> None:
        variables = model.trainable_variables
        self._raw = [variable.numpy() for variable in variables]
        model.optimizer.finalize_variable_values(variables)

    def _swap_back(self, model: Any) -> None:
        if self._raw is None:
            return
        for variable, value in zip(model.trainable_variables, self._raw, strict=True):
            variable.assign(value)
        self._raw = None


class _WeightSwap(tf.keras.callbacks.Callback):  # type: ignore[name-defined]  # tf is imported at run time
    """One of `AveragedWeights`' two epoch-end steps."""

    def __init__(self, step: Any) -> None:
        super().__init__()
        self.step = step

    def on_epoch_end(self, epoch, logs=None):
        self.step(self.model)


PROGRESS_FILE = "progress.json"  # in the backup folder: each finished epoch's logs and early-stopping state
_BEST_WEIGHTS = "best_weights.{epoch}.npz"  # the early-stopping best epoch's weights, named by that epoch (0-based)


class EpochBackup(tf.keras.callbacks.BackupAndRestore):  # type: ignore[name-defined]  # tf is imported at run time
    """Keras' `BackupAndRestore` that also keeps the fit's history and early-stopping state, so a resume continues.

    Keras backs up the weights, the optimizer and the epoch; a resumed `fit` starts every other callback afresh:
    `EarlyStopping` would count its patience from the resume, restore the best weights seen since then, and
    `fit`'s history would hold only the resumed epochs. After each epoch this keeps, in the backup folder, each
    finished epoch's logs (what Keras' `History` records), whether the epoch stopped training, the
    early-stopping state (best value, best epoch, wait count) and, when the best epoch changes, its weights
    (all written to a temporary file and renamed). On a resume the early-stopping callback and a
    `save_best_only` checkpoint are seeded from them when the first epoch begins, and `history_before` gives the
    epochs trained before the resume: patience, the restored weights, the history and its epoch numbers are
    those of an uninterrupted run.

    Put it where `BackupAndRestore` goes (before the callbacks that read the restored weights or epoch) and
    `writer` *last*: after every callback has added to the epoch's logs and early stopping has decided, it
    writes this state, then Keras' checkpoint. A run killed between the two resumes one epoch before the
    state's last, which is dropped and trained again, as it was; the previous best weights are removed only
    once Keras' checkpoint is past the new best epoch.

    Args:
        backup_dir: The folder of Keras' backup (its checkpoint goes in `backup_dir/chief`).
        early_stopping: The fit's `EarlyStopping`, if any, to seed on a resume.
        checkpoint: The fit's `save_best_only` `ModelCheckpoint`, if any: its best value is seeded too.
    """

    def __init__(self, backup_dir: str | Path, early_stopping: Any = None, checkpoint: Any = None) -> None:
        super().__init__(str(backup_dir), delete_checkpoint=False)
        self.folder = Path(backup_dir)
        self.early_stopping = early_stopping
        self.checkpoint = checkpoint
        self.records: list[dict[str, Any]] = read_progress(self.folder)  # the saved epochs, in order
        self.resumed_at: int | None = None  # the first epoch of this fit, once known
        self.writer = _EpochBackupWriter(self)

    def planned_epochs(self, epochs: int) -> int:
        """`epochs`, or fewer when the saved epochs show training stopped: a resume must not train past the stop."""
        for epoch, record in enumerate(self.records[:epochs]):
            if record.get("stop"):
                return epoch + 1
        return epochs

    def history_before(self) -> dict[str, list[float]]:
        """The logs of the epochs before this fit's first (a resume's), as Keras' `History.history`."""
        history: dict[str, list[float]] = {}
        for record in self.records[: self.resumed_at or 0]:
            for key, value in record["logs"].items():
                history.setdefault(key, []).append(value)
        return history

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        if self.resumed_at is None:  # the first epoch of this fit: Keras has set it from the restored checkpoint
            self._resume(epoch)

    def on_train_end(self, logs=None):
        if self.resumed_at is None:  # no epoch left to train: restored after the last one (before EarlyStopping's end)
            self._resume(int((self.params or {}).get("epochs") or 0))
        super().on_train_end(logs)

    def on_epoch_end(self, epoch, logs=None):
        pass  # the checkpoint is written by `writer`, after the state it must match

    def _resume(self, epoch: int) -> None:
        self.resumed_at = epoch
        if epoch == 0:
            del self.records[:]  # a fresh start (a backup of no finished epoch)
            return
        if len(self.records) < epoch:
            logger.warning(
                "the backup in %s holds no history for its epochs %d-%d; the history and early stopping restart "
                "at this resume", self.folder, len(self.records) + 1, epoch,
            )  # fmt: skip
            self.records = [{"logs": {}, "stop": False, "early_stopping": None}] * epoch
            return
        del self.records[epoch:]  # killed after writing an epoch's state but before Keras' checkpoint of it
        state = self.records[-1].get("early_stopping")
        stopper = self.early_stopping
        if stopper is not None and state is not None:
            stopper.best = state["best"]
            stopper.best_epoch = state["best_epoch"]
            stopper.wait = state["wait"]
            stopper.stopped_epoch = state["stopped_epoch"]
            if stopper.restore_best_weights and state["has_best_weights"]:
                stopper.best_weights = load_weights(self.folder / _BEST_WEIGHTS.format(epoch=state["best_epoch"]))
        if self.checkpoint is not None:  # its best value so far, as it compared each epoch's
            for record in self.records:
                value = record["logs"].get(self.checkpoint.monitor)
                if value is not None and self.checkpoint.monitor_op(value, self.checkpoint.best):
                    self.checkpoint.best = value

    def _write(self, epoch: int, logs: dict[str, Any] | None) -> None:
        stopper = self.early_stopping
        state = None
        if stopper is not None:
            has_weights = stopper.restore_best_weights and stopper.best_weights is not None
            state = {
                "best": float(stopper.best), "best_epoch": int(stopper.best_epoch), "wait": int(stopper.wait),
                "stopped_epoch": int(stopper.stopped_epoch), "has_best_weights": bool(has_weights),
            }  # fmt: skip
            best_file = self.folder / _BEST_WEIGHTS.format(epoch=state["best_epoch"])
            if has_weights and not best_file.is_file():  # the best epoch changed: only then are weights written
                save_weights(best_file, stopper.best_weights)
        logs = {key: float(value) for key, value in (logs or {}).items()}
        del self.records[epoch:]
        self.records.append({"logs": logs, "stop": bool(self.model.stop_training), "early_stopping": state})
        with atomic_path(self.folder / PROGRESS_FILE) as tmp:
            tmp.write_text(json.dumps({"epochs": self.records}))
        super().on_epoch_end(epoch, logs)  # Keras' checkpoint of this epoch
        keep = None if state is None else _BEST_WEIGHTS.format(epoch=state["best_epoch"])
        for old in self.folder.glob(_BEST_WEIGHTS.format(epoch="*")):
            if old.name != keep:
                old.unlink(missing_ok=True)


class _EpochBackupWriter(tf.keras.callbacks.Callback):  # type: ignore[name-defined]  # tf is imported at run time
    """`EpochBackup`'s end-of-epoch writes; the last callback of the fit."""

    def __init__(self, backup: EpochBackup) -> None:
        super().__init__()
        self.backup = backup

    def on_epoch_end(self, epoch, logs=None):
        self.backup._write(epoch, logs)


def read_progress(folder: Path) -> list[dict[str, Any]]:
    """The epochs `EpochBackup` saved in `folder` (none if it saved nothing there)."""
    path = folder / PROGRESS_FILE
    if not path.is_file():
        return []
    return list(json.loads(path.read_text())["epochs"])


def save_weights(path: Path, weights: list[np.ndarray]) -> None:
    """Writes a model's `get_weights()` arrays to an `.npz` file, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, *weights)


def load_weights(path: Path) -> list[np.ndarray]:
    """The arrays `save_weights` wrote, in order (for `set_weights`); never unpickles."""
    with np.load(path, allow_pickle=False) as arrays:
        return [arrays[f"arr_{number}"] for number in range(len(arrays.files))]


def next_multiple(done: int, every: int) -> int:
    """The first multiple of `every` above `done` batches: when a grouped-batch callback acts next.

    >>> next_multiple(32, 50), next_multiple(50, 50), next_multiple(64, 50)
    (50, 100, 100)
    """
    return done - done % every + every


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
