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

    Where order wins and the training data holds fewer than `config.small_ratings` ratings,
    `config.ordered_small` is trained instead of `config.ordered` (when set).

    Attributes:
        chosen: The fitted candidate (None before `fit`).
        choice: What was trained and what the order check measured (`movierec.records.ChoiceRecord`).
    """

    kind = "choice"

    def __init__(self, config: ChoiceConfig) -> None:
        # by field: `unordered`, `ordered` and, when set, `ordered_small`
        self.candidates = {
            name: config_from_dict(getattr(config, name), where=f"{config.name}.{name}")
            for name in config.member_fields()
        }
        self.candidate_configs = list(self.candidates.values())
        resolved = dataclasses.replace(config, **{name: to_dict(c) for name, c in self.candidates.items()})
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
        candidate = self.candidates[config.ordered_for(len(data)) if decision.used else "unordered"]
        # the data and budget, and the run's logging and backups: only one model trains (chosen before it
        # trains, so that the run's epoch hooks can score through this recommender)
        self.chosen = build_recommender(candidate)
        self.chosen.fit(data, options)
        sized = config.small_ratings > 0  # the size rule's numbers are recorded where there is a rule
        self.choice = ChoiceRecord(
            chosen=self.chosen.name,
            order=decision,
            ratings=len(data) if sized else 0,
            small_ratings=config.small_ratings,
        )

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
