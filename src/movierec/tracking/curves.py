"""A model's epochs and config in a run: the scalars and text `compare` and `train --logdir` write alike."""

from __future__ import annotations

from typing import Any

from movierec.config import TrainConfig, to_dict
from movierec.evaluation import VALIDATION_LOGS
from movierec.tracking.run_log import RunLog

__all__ = ["config_markdown", "log_curves", "log_epoch"]


def log_epoch(
    log: RunLog, epoch: int, logs: dict[str, float], train_config: TrainConfig | None, prefix: str = "train"
) -> None:
    """One epoch's training loss (per target) as `<prefix>/loss` and its validation metrics, as scalars.

    The loss is divided by the batch size the logs give (what the model trained on: the sequential kind makes
    small sets' batches smaller), else by `train_config`'s.
    """
    batch = logs.get("batch_size") or (float(train_config.batch_size) if train_config is not None else 1.0)
    names = {"val_loss": "loss"} | {log_name: key for key, log_name in VALIDATION_LOGS.items()}
    log.scalars({"loss": logs["loss"] / batch}, step=epoch, prefix=prefix)
    validation = {key: logs[name] for name, key in names.items() if name in logs}
    validation |= {name[4:]: value for name, value in logs.items() if name.startswith("val_factorized_top_")}
    if "loss" in validation:
        validation["loss"] /= batch
    log.scalars(validation, step=epoch, prefix="validation")


def log_curves(
    log: RunLog, history: dict[str, list[float]], train_config: TrainConfig | None, batch_size: float | None = None
) -> None:
    """Every epoch of `history` (a fit's curves, `loss` and `val_*` per epoch) as `log_epoch` logs it.

    `batch_size`: the batches the fit trained on, when they differ from `train_config`'s.
    """
    extra = {} if batch_size is None else {"batch_size": float(batch_size)}
    for epoch in range(len(history.get("loss", []))):
        log_epoch(log, epoch + 1, {key: values[epoch] for key, values in history.items()} | extra, train_config)


def config_markdown(model_config: Any, train_config: TrainConfig | None) -> str:
    """The resolved config as a Markdown table (the Text tab), model fields then the budget."""
    rows = [f"| {k} | `{v}` |" for k, v in to_dict(model_config).items()]
    if train_config is not None:
        rows += [f"| train.{k} | `{v}` |" for k, v in to_dict(train_config).items()]
    return "\n".join(["| field | value |", "|---|---|", *rows])
