"""`AutoRecommender`: fits several candidate models and keeps the one with the best validation score.

For a user who does not know which model suits their data (`movierec train --preset auto`): each
candidate is fitted on the training rows, with the validation slice for early stopping like any
fit; each is then scored on the validation slice (the same users for all, at most
`TrainConfig.validation_users`) with `AutoConfig.metric`. Candidates are taken in order: one
replaces the choice so far only when its mean is higher by more than `AutoConfig.margin_se`
standard errors of the per-user difference, so the first (the project's default) is kept
unless another is clearly better on this data. The choice reads only `FitOptions.validation`: the test rows never reach
`fit`. Candidates start in order while `AutoConfig.time_budget` lasts.

Afterwards it is the chosen model: scores, recommendations, `add_seen` and the embeddings are
its own, and `save` stores it (a complete saved recommender of its kind, in `chosen/`) with the
record of the choice (`selection.json`: every candidate's validation score and seconds).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

import numpy as np

from movierec.config import AutoConfig, to_dict
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, NotFittedError
from movierec.evaluation import evaluate, paired_difference, sample_users
from movierec.explanation import Method
from movierec.recommender import FitOptions, Recommender
from movierec.records import CandidateResult, FitRecord, SelectionRecord
from movierec.registry import build_recommender, config_from_dict, load_recommender

__all__ = ["AutoRecommender"]

logger = logging.getLogger(__name__)

SELECTION_FILE = "selection.json"


class AutoRecommender(Recommender):
    """Chooses among candidate models on the validation slice, then acts as the chosen one.

    Attributes:
        chosen: The fitted candidate kept (None before `fit`).
        selection: The record of the choice (`movierec.records.SelectionRecord`; None before `fit`): every
            candidate's validation score and seconds, and for each after the first the per-user difference
            from the choice so far.
    """

    kind = "auto"

    def __init__(self, config: AutoConfig) -> None:
        self.candidate_configs = [
            config_from_dict(candidate, where=f"{config.name}.candidates[{position}]")
            for position, candidate in enumerate(config.candidates)
        ]
        # every field of every candidate, as resolved now: saved with the run and the model
        super().__init__(dataclasses.replace(config, candidates=tuple(to_dict(c) for c in self.candidate_configs)))
        self.chosen: Recommender | None = None
        self.selection: SelectionRecord | None = None

    @property
    def predicts_ratings(self) -> bool:
        return self.chosen is not None and self.chosen.predicts_ratings

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        config = self.config
        validation = options.validation
        if validation is None or len(validation) == 0:
            raise ConfigError(
                f"{self.name}: choosing among candidates needs a validation slice "
                "(`movierec train --validation-fraction` above 0)"
            )
        scored = sample_users(validation, options.train.validation_users)
        metric = config.metric
        # each candidate gets the data and the budget, not the run's logging, resuming or callbacks
        candidate_options = FitOptions(validation=validation, features=options.features, train=options.train)
        rows: list[CandidateResult] = []
        kept: dict[str, np.ndarray] = {}  # per-user validation metrics of the candidate chosen so far
        spent = 0.0
        self.chosen = None
        for candidate_config in self.candidate_configs:
            name, kind = candidate_config.name, candidate_config.kind
            if rows and spent >= config.time_budget:
                rows.append(CandidateResult(name, kind, "skipped"))
                logger.info("%s: %s skipped, the time budget (%.0f s) is spent", self.name, name, spent)
                continue
            started = time.perf_counter()
            candidate = build_recommender(candidate_config).fit(data, candidate_options)
            per_user: dict[str, np.ndarray] = {}
            score = float(evaluate(candidate, data, scored, ks=(10,), per_user=per_user)[metric])
            seconds = time.perf_counter() - started
            spent += seconds
            row = CandidateResult(name, kind, "fitted", validation=round(score, 6), seconds=round(seconds, 3))
            if self.chosen is None:
                replaces = True
            else:  # better than the choice so far by more than margin_se paired standard errors?
                gain = paired_difference(per_user, kept, metric)
                threshold = config.margin_se * (gain.se if np.isfinite(gain.se) else 0.0)
                replaces = gain.mean > threshold
                se = round(gain.se, 6) if np.isfinite(gain.se) else None
                row = dataclasses.replace(row, versus=self.chosen.name, gain=round(gain.mean, 6), gain_se=se)
            rows.append(row)
            logger.info("%s: %s validation %s %.4f (%.1f s)", self.name, name, metric, score, seconds)
            if replaces:
                self.chosen, kept = candidate, per_user
        assert self.chosen is not None  # the first candidate always runs
        self.selection = SelectionRecord(
            metric=metric,
            margin_se=config.margin_se,
            chosen=self.chosen.name,
            time_budget=config.time_budget,
            validation_users=len(np.unique(scored.users)),
            candidates=tuple(rows),
        )
        logger.info("%s", self.summary())

    def fit_record(self) -> FitRecord:
        """The record of the candidate kept (the training that counted), with the choice among the candidates."""
        self._check_fitted()
        record = self._model().fit_record()
        return dataclasses.replace(record, decisions=dataclasses.replace(record.decisions, selection=self.selection))

    def summary(self) -> str:
        """One line: which candidate was kept and why (every candidate's validation score)."""
        if self.selection is None:
            raise NotFittedError(f"{self.name} has not chosen yet; call fit() first")
        return self.selection.summary()

    def _model(self) -> Recommender:
        if self.chosen is None:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")
        return self.chosen

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        return {}  # the chosen candidate's own fit checked its arrays

    def score(self, users: np.ndarray) -> np.ndarray:
        """The chosen candidate's `[batch, n_items]` scores."""
        return self._model().score(users)

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        return self._model().score_history(histories)

    def predict_ratings(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return self._model().predict_ratings(users, items)

    @property
    def explanation_method(self) -> Method:
        """The chosen candidate's: explanations are its own."""
        return self._model().explanation_method

    def _histories(self, users: np.ndarray) -> list[np.ndarray]:
        return self._model()._histories(users)

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        return self._model()._contributions(histories, items, users)

    def item_embeddings(self) -> np.ndarray | None:
        return self._model().item_embeddings()

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        return self._model().similar_items(items, k)

    def add_seen(self, interactions: Interactions) -> None:
        """Marks movies as seen here and in the chosen candidate (which folds them in its own way)."""
        super().add_seen(interactions)
        self._model().add_seen(interactions)

    def set_serving_labels(self, user_ids: np.ndarray, item_ids: np.ndarray) -> None:
        """Passes the string ids on to a chosen model that exports serving signatures (two-tower)."""
        set_labels = getattr(self._model(), "set_serving_labels", None)
        if callable(set_labels):
            set_labels(user_ids, item_ids)

    def _save_state(self, directory: Path) -> None:
        self._model().save(directory / "chosen")
        if self.selection is None:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")
        (directory / SELECTION_FILE).write_text(json.dumps(self.selection.to_dict(), indent=2) + "\n")

    def _load_state(self, directory: Path) -> None:
        self.chosen = load_recommender(directory / "chosen")
        self.selection = SelectionRecord.from_dict(
            json.loads((directory / SELECTION_FILE).read_text()), where=str(directory / SELECTION_FILE)
        )
