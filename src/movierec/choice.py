"""`ChoiceRecommender`: trains the order-free or the sequential model, as a seconds-long check decides.

`movierec train` without a preset uses it. Fitting both candidates and keeping the better (`auto`)
costs their two training times; here `movierec.order.decide_order` asks the validation slice whether
the order of a user's movies predicts the next ones (a Markov chain against item co-occurrence, a few
seconds), and only the chosen candidate is trained. Afterwards it is that model, as `auto` is its
choice, and `save` stores it in `chosen/` with the decision (`selection.json`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

from movierec.config import ChoiceConfig, to_dict
from movierec.data.interactions import Interactions
from movierec.errors import NotFittedError
from movierec.order import OrderDecision, decide_order
from movierec.recommender import FitOptions, Recommender
from movierec.records import ChoiceRecord, FitRecord
from movierec.registry import KINDS, build_recommender, config_from_dict, load_recommender
from movierec.selection import SELECTION_FILE, AutoRecommender

__all__ = ["ChoiceRecommender"]

logger = logging.getLogger(__name__)


class ChoiceRecommender(AutoRecommender):
    """Decides between `config.unordered` and `config.ordered` on the validation slice, trains one.

    Attributes:
        chosen: The fitted candidate (None before `fit`).
        choice: What was trained and what the order check measured (`movierec.records.ChoiceRecord`).
    """

    kind = "choice"

    def __init__(self, config: ChoiceConfig) -> None:
        self.candidate_configs = [
            config_from_dict(config.unordered, where=f"{config.name}.unordered"),
            config_from_dict(config.ordered, where=f"{config.name}.ordered"),
        ]
        resolved = dataclasses.replace(
            config, unordered=to_dict(self.candidate_configs[0]), ordered=to_dict(self.candidate_configs[1])
        )
        Recommender.__init__(self, resolved)
        self.chosen: Recommender | None = None
        self.selection = None  # `auto`'s record; this chooser's is `choice`
        self.choice: ChoiceRecord | None = None

    @property
    def decision(self) -> OrderDecision | None:
        """What the order check measured (None before `fit`)."""
        return self.choice.order if self.choice is not None else None

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        config = self.config
        decision = decide_order(
            data, options.validation, margin_se=config.margin_se, max_users=config.check_users, seed=options.train.seed
        )
        logger.info("%s: %s", self.name, decision.summary())
        candidate = self.candidate_configs[1 if decision.used else 0]
        # the data and budget, and the run's logging and backups: only one model trains (chosen before it
        # trains, so that the run's epoch hooks can score through this recommender)
        self.chosen = build_recommender(candidate)
        self.chosen.fit(data, options)
        self.choice = ChoiceRecord(chosen=self.chosen.name, order=decision)

    @property
    def trains_in_epochs(self) -> bool:
        """Before `fit`: whether either candidate is a TFRS kind (those train in epochs)."""
        if self.chosen is not None:
            return self.chosen.trains_in_epochs
        return any(KINDS[c.kind].uses_tensorflow for c in self.candidate_configs)

    def fit_record(self) -> FitRecord:
        self._check_fitted()
        record = self._model().fit_record()
        return dataclasses.replace(record, decisions=dataclasses.replace(record.decisions, choice=self.choice))

    def summary(self) -> str:
        """One line: which model was trained and why."""
        if self.choice is None:
            raise NotFittedError(f"{self.name} has not chosen yet; call fit() first")
        return self.choice.summary()

    def _save_state(self, directory: Path) -> None:
        if self.choice is None:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")
        self._model().save(directory / "chosen")
        (directory / SELECTION_FILE).write_text(json.dumps(self.choice.to_dict(), indent=2) + "\n")

    def _load_state(self, directory: Path) -> None:
        self.chosen = load_recommender(directory / "chosen")
        path = directory / SELECTION_FILE
        self.choice = ChoiceRecord.from_dict(json.loads(path.read_text()), where=str(path))
