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
from typing import Any

from movierec.config import ChoiceConfig, to_dict
from movierec.data.interactions import Interactions
from movierec.errors import NotFittedError
from movierec.order import OrderDecision, decide_order
from movierec.recommender import FitOptions, Recommender
from movierec.registry import KINDS, build_recommender, config_from_dict, load_recommender
from movierec.selection import SELECTION_FILE, AutoRecommender

__all__ = ["ChoiceRecommender"]

logger = logging.getLogger(__name__)


class ChoiceRecommender(AutoRecommender):
    """Decides between `config.unordered` and `config.ordered` on the validation slice, trains one.

    Attributes:
        chosen: The fitted candidate (None before `fit`).
        decision: What the order check measured (`OrderDecision`).
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
        self.selection: dict[str, Any] = {}
        self.decision: OrderDecision | None = None

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        config = self.config
        self.decision = decide_order(
            data, options.validation, margin_se=config.margin_se, max_users=config.check_users, seed=options.train.seed
        )
        logger.info("%s: %s", self.name, self.decision.summary())
        candidate = self.candidate_configs[1 if self.decision.used else 0]
        # the data and budget, and the run's logging and backups: only one model trains (chosen before it
        # trains, so that the run's epoch hooks can score through this recommender)
        self.chosen = build_recommender(candidate)
        self.chosen.fit(data, options)
        self.selection = {"chosen": self.chosen.name, "order": self.decision.to_dict()}

    @property
    def trains_in_epochs(self) -> bool:
        """Before `fit`: whether either candidate is a TFRS kind (those train in epochs)."""
        if self.chosen is not None:
            return self.chosen.trains_in_epochs
        return any(KINDS[c.kind].uses_tensorflow for c in self.candidate_configs)

    def fit_record(self) -> dict[str, Any]:
        return {**self._model().fit_record(), "choice": self.selection}

    def summary(self) -> str:
        """One line: which model was trained and why."""
        if self.decision is None:
            raise NotFittedError(f"{self.name} has not chosen yet; call fit() first")
        return f"trained {self._model().name}: {self.decision.summary()}"

    def _load_state(self, directory: Path) -> None:
        self.chosen = load_recommender(directory / "chosen")
        self.selection = json.loads((directory / SELECTION_FILE).read_text())
        self.decision = OrderDecision(**self.selection["order"])
