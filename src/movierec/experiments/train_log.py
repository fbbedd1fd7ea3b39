"""`movierec train --logdir`: the exported model's TensorBoard run, its curves written as each epoch ends.

One run per `train` (`<logdir>/<name of --out>`), so trainings into different model folders sit side by side
in TensorBoard as `compare`'s models do, with the same tags and layout: `train/loss` (per target) and
`validation/<metric>` each epoch while the model watches its validation slice (or trains once on every
rating), `refit/loss` when it then trains again on every rating for the chosen epochs; text `config` (the
resolved config and budget), `fit` (what fitting decided: the choice, a blend weight, recency, the epochs)
and `recommendations` (what three users at the 25th, 50th and 75th percentile of activity get); the HParams
session; the embedding projector for models with movie vectors. No test metrics: `train` holds nothing out.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from movierec.config import TrainConfig, resolve_train_config
from movierec.experiments.data import PreparedData, items_in_vocab_order
from movierec.experiments.samples import sample_lists, samples_markdown, showcase_users
from movierec.recommender import Recommender
from movierec.tracking import (
    RunLog,
    comparison_layout,
    config_markdown,
    flat_hparams,
    log_epoch,
    write_projector,
)

__all__ = ["TrainLog"]

EVENTS = "events.out.tfevents.*.movierec"  # the event files movierec writes (`EventWriter`)


class TrainLog:
    """The TensorBoard run of one `train`: `on_epoch` is `fit_final`'s epoch callback, `finish` the rest.

    Args:
        run_dir: The run's folder (created).
        model_config: The config being trained.
        train_config: The budget (the model's overrides applied here, as `fit` applies them).
        fresh: Remove the event files an earlier `train` left in `run_dir` (not when resuming one).
    """

    def __init__(self, run_dir: str | Path, model_config: Any, train_config: TrainConfig, fresh: bool) -> None:
        self.run_dir = Path(run_dir)
        if fresh:
            for stale in self.run_dir.glob(EVENTS):
                stale.unlink()
        self._model_config = model_config
        self._train_config = resolve_train_config(train_config, model_config)
        self._log = RunLog(self.run_dir)
        self._log.layout(comparison_layout())
        self._log.text("config", config_markdown(model_config, self._train_config))
        self._log.flush()

    def on_epoch(self, phase: str, epoch: int, logs: dict[str, float]) -> None:
        """One epoch's curves, readable at once (`fit_final`'s phases: search, refit, fit)."""
        log_epoch(self._log, epoch, logs, self._train_config, prefix="refit" if phase == "refit" else "train")
        self._log.flush()

    def finish(self, recommender: Recommender, data: PreparedData, fit_lines: list[str]) -> None:
        """`train`'s lines on what the fit decided, the HParams session, sample lists and the movie vectors."""
        if fit_lines:
            self._log.text("fit", "\n\n".join(fit_lines))
        self._log.hparams(flat_hparams(self._model_config, recommender.train_config))
        items = items_in_vocab_order(data)
        titles = items["title"].astype(str).to_numpy()
        watchers = showcase_users(data.train)
        lists = sample_lists(recommender.score(watchers), watchers, data.train, data.vocab.user_ids, titles)
        self._log.text("recommendations", samples_markdown(lists))
        vectors = recommender.item_embeddings()
        if vectors is not None:
            write_projector(self.run_dir, vectors, items, data.train.item_counts())
        self._log.flush()

    def close(self) -> None:
        self._log.close()

    def __enter__(self) -> TrainLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
