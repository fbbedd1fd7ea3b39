"""`BlendRecommender`: two models trained on the same data, their scores mixed by a validated weight.

Each member's scores are standardised per user (mean 0, standard deviation 1 over the catalogue), so
that a softmax model's logits and EASE's regression outputs are on one scale; the blend scores
`w * z(first) + (1 - w) * z(second)`. The weight is chosen on the validation slice (NDCG@10 over
the whole catalogue, seen movies excluded, as `movierec.evaluation` scores models) among `steps + 1`
evenly spaced values, then `refine` times among the two halfway points beside the best so far (a 0.1
grid refined twice ends 0.025 apart where it matters: on MovieLens 1M leave-last-out the best weight
was 0.95, between the grid's 0.9 and 1). `w = 1` (the first alone) and `w = 0` (the second alone) are
always candidates: the blend is never chosen worse on validation than its better member. Measured on
MovieLens leave-last-out splits: a sequential model and EASE err on different users.

`save` stores each member as a complete saved recommender (`first/`, `second/`) and the weight with
its evidence (`blend.json`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from movierec.config import BlendConfig, to_dict
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, NotFittedError
from movierec.evaluation.metrics import ndcg_at_k
from movierec.evaluation.sampling import sample_users
from movierec.explanation import Method
from movierec.ranking import rank_rows
from movierec.recommender import FitOptions, Recommender
from movierec.records import BlendRecord, FitRecord
from movierec.registry import KINDS, build_recommender, config_from_dict, load_recommender

__all__ = ["BlendRecommender", "standardise"]

logger = logging.getLogger(__name__)

BLEND_FILE = "blend.json"
CHUNK = 500  # validation users scored at once


def standardise(scores: np.ndarray) -> np.ndarray:
    """`[batch, n_items]` scores shifted and scaled per row to mean 0 and standard deviation 1 (float32).

    A row whose scores are all equal becomes all zeros.

    Example:
        >>> standardise(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])).astype(np.float64).round(4).tolist()
        [[-1.2247, 0.0, 1.2247], [0.0, 0.0, 0.0]]
    """
    scores = np.asarray(scores, dtype=np.float64)
    centred = scores - scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return (centred / np.where(spread > 0, spread, 1.0)).astype(np.float32)


class BlendRecommender(Recommender):
    """Trains `config.first` and `config.second` on the same data; scores by their standardised mix.

    Attributes:
        members: The two fitted members (empty before `fit`).
        weight: The weight of the first member's standardised scores (None before `fit`).
        record: The weight and the validation curve it was chosen on (`movierec.records.BlendRecord`).
    """

    kind = "blend"

    def __init__(self, config: BlendConfig) -> None:
        self.member_configs = [
            config_from_dict(config.first, where=f"{config.name}.first"),
            config_from_dict(config.second, where=f"{config.name}.second"),
        ]
        resolved = dataclasses.replace(
            config, first=to_dict(self.member_configs[0]), second=to_dict(self.member_configs[1])
        )
        super().__init__(resolved)
        self.members: list[Recommender] = []
        self.weight: float | None = None
        self.record: BlendRecord | None = None
        self._training: Recommender | None = None  # the member in `fit` whose epochs the run's hooks see

    @property
    def trains_in_epochs(self) -> bool:
        """Whether a member trains in epochs (before `fit`: whether one is a TFRS kind)."""
        if self.members:
            return any(member.trains_in_epochs for member in self.members)
        return any(KINDS[c.kind].uses_tensorflow for c in self.member_configs)

    def _fit(self, data: Interactions, options: FitOptions) -> None:
        config = self.config
        unvalidated = options.validation is None or len(options.validation) == 0
        if config.weight is None and config.fallback_weight is None and unvalidated:
            raise ConfigError(
                f"{self.name}: choosing the blend weight needs a validation slice "
                "(`movierec train --validation-fraction` above 0), or set blend.weight"
            )
        members = [build_recommender(c) for c in self.member_configs]
        # the run's logging, backups and epoch hooks go to the first member that trains in epochs; the
        # other gets the data and the budget only (two trainings cannot share one backup folder)
        logged = next((i for i, m in enumerate(members) if m.trains_in_epochs), None)
        plain = FitOptions(
            validation=options.validation,
            features=options.features,
            train=options.train,
            shared_fits=options.shared_fits,
        )
        self.members, self.weight = [], None
        try:
            for position, member in enumerate(members):
                # while it trains, the epoch hooks (a compare's sample recommendations) score through it
                self._training = member if position == logged else None
                member.fit(data, options if position == logged else plain)
        finally:
            self._training = None
        self.members = members
        trained = next((m for m in members if m.trains_in_epochs), members[0])  # whose curves the run shows
        self.history, self.epoch_seconds = trained.history, trained.epoch_seconds
        if config.weight is not None:
            self.weight = float(config.weight)
            self.record = BlendRecord(members[0].name, members[1].name, self.weight)
        elif unvalidated:
            assert config.fallback_weight is not None
            self.weight = float(config.fallback_weight)
            self.record = BlendRecord(
                members[0].name, members[1].name, self.weight, reason="no validation slice: the fallback weight"
            )
        else:
            assert options.validation is not None
            self.record = self._choose_weight(data, options.validation, options.train.seed)
            self.weight = self.record.weight
        logger.info("%s: %s", self.name, self.record.summary())

    def _choose_weight(self, data: Interactions, validation: Interactions, seed: int) -> BlendRecord:
        """The weight of the best validation NDCG@10: an even grid, then `refine` halvings around its best."""
        started = time.perf_counter()
        scored = sample_users(validation, self.config.check_users, seed=seed)
        users = np.unique(scored.users)
        seen, relevant = data.to_csr(), scored.to_csr()

        def ndcg(weights: list[float]) -> list[float]:
            parts: list[list[np.ndarray]] = [[] for _ in weights]
            for start in range(0, len(users), CHUNK):
                chunk = users[start : start + CHUNK]
                first, second = (standardise(member.score(chunk)) for member in self.members)
                for position, weight in enumerate(weights):
                    lists = rank_rows(weight * first + (1.0 - weight) * second, 10, exclude=seen[chunk])[0]
                    parts[position].append(ndcg_at_k(lists, relevant[chunk], 10))
            return [float(np.nanmean(np.concatenate(p))) if len(users) else 0.0 for p in parts]

        grid = [round(float(w), 6) for w in np.linspace(0.0, 1.0, self.config.steps + 1)]
        curve = dict(zip(grid, ndcg(grid)))
        spacing = 1.0 / self.config.steps
        for _ in range(self.config.refine):
            # the first maximum: ties go to the smaller weight of the first member
            best = max(sorted(curve), key=lambda w: (curve[w], -w))
            spacing /= 2
            new = [w for w in (round(best - spacing, 6), round(best + spacing, 6)) if 0.0 < w < 1.0 and w not in curve]
            curve.update(zip(new, ndcg(new)))
        best = max(sorted(curve), key=lambda w: (curve[w], -w))
        return BlendRecord(
            first=self.members[0].name,
            second=self.members[1].name,
            weight=best,
            curve=tuple((w, round(curve[w], 6)) for w in sorted(curve)),
            users=int(len(users)),
            seconds=round(time.perf_counter() - started, 3),
        )

    def fit_record(self) -> FitRecord:
        """The curves of the member trained in epochs (if any), the weight chosen, and the config that refits it."""
        self._check_fitted()
        records = [member.fit_record() for member in self.members]
        trained = next((r for r, m in zip(records, self.members) if m.trains_in_epochs), records[0])
        # the curves of `fit`; a loaded blend has none of its own, and shows its members' records
        refit = dataclasses.replace(
            self.config, first=records[0].refit_config, second=records[1].refit_config, weight=self.weight
        )
        # a member blend's record goes inside this one's: `decisions` hold one blend record
        assert self.record is not None  # set by every fit
        inner = tuple(r.decisions.blend for r in records if r.decisions.blend is not None)
        decisions = dataclasses.replace(trained.decisions, blend=dataclasses.replace(self.record, members=inner))
        return FitRecord(
            model=self.name,
            kind=self.kind,
            refit_config=to_dict(refit),
            history={key: [float(v) for v in values] for key, values in self.history.items()} or trained.history,
            epoch_seconds=tuple(float(s) for s in self.epoch_seconds) or trained.epoch_seconds,
            decisions=decisions,
            train_config=trained.train_config,
        )

    def summary(self) -> str:
        if self.record is None:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")
        return self.record.summary()

    def _learned_arrays(self) -> dict[str, np.ndarray]:
        return {}  # each member's own fit checked its arrays

    def _mix(self, scores: Callable[[Recommender], np.ndarray]) -> np.ndarray:
        """The weighted sum of `scores(member)` standardised; a member of weight 0 is not scored at all."""
        weight = self._weight()
        if weight in (0.0, 1.0):
            return standardise(scores(self.members[0 if weight == 1.0 else 1]))
        return weight * standardise(scores(self.members[0])) + (1.0 - weight) * standardise(scores(self.members[1]))

    def _weight(self) -> float:
        if self.weight is None or len(self.members) != 2:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")
        return self.weight

    def score(self, users: np.ndarray) -> np.ndarray:
        """`[batch, n_items]`: the weighted sum of the members' standardised scores.

        During `fit`, the epoch hooks' calls score through the member that is training (there is no
        weight yet to mix with).
        """
        if self._training is not None:
            return self._training.score(users)
        return self._mix(lambda member: member.score(users))

    def score_history(self, histories: list[np.ndarray]) -> np.ndarray:
        return self._mix(lambda member: member.score_history(histories))

    def add_seen(self, interactions: Interactions) -> None:
        """Marks movies as seen here and in both members (each folds them into its history its own way)."""
        super().add_seen(interactions)
        for member in self.members:
            member.add_seen(interactions)

    def _by_weight(self) -> list[Recommender]:
        """The members, the one with the larger weight first (the first member on a tie)."""
        return self.members if self._weight() >= 0.5 else self.members[::-1]

    def item_embeddings(self) -> np.ndarray | None:
        """The item vectors of the member weighing more, else of the other, else None."""
        for member in self._by_weight():
            vectors = member.item_embeddings()
            if vectors is not None:
                return vectors
        return None

    def similar_items(self, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The similar movies of the member weighing more (of the other if it finds none)."""
        self._check_fitted()
        for member in self._by_weight():
            try:
                return member.similar_items(items, k)
            except NotImplementedError:
                continue
        raise NotImplementedError(f"{self.name}: neither member finds similar movies")

    # --------------------------------------------------------------- explaining
    @property
    def explanation_method(self) -> Method:
        """ "blend": each member's contributions, scaled as the blend scales its scores (`movierec.explanation`)."""
        for member in self._weighted():
            member.explanation_method  # noqa: B018  # raises NotExplainableError for a member that cannot explain
        return "blend"

    def _weighted(self) -> list[Recommender]:
        """The members whose weight is not zero."""
        weight = self._weight()
        return [m for m, share in zip(self.members, (weight, 1.0 - weight)) if share > 0]

    def _histories(self, users: np.ndarray) -> list[np.ndarray]:
        """The history of the member that weighs more (the sequential kind's keeps the order it reads)."""
        return self._by_weight()[0]._histories(users)

    def _contributions(
        self, histories: list[np.ndarray], items: np.ndarray, users: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """`w c_first / sd_first + (1 - w) c_second / sd_second` per history movie (`movierec.explanation`)."""
        weight = self._weight()
        rows = len(histories)
        merged: list[dict[int, np.ndarray]] = [{} for _ in range(rows)]
        popular = np.ones(rows, dtype=bool)
        for member, share in zip(self.members, (weight, 1.0 - weight)):
            if share == 0:
                continue
            own = member._histories(users) if users is not None else histories
            scores = member.score(users) if users is not None else member.score_history(histories)
            spread = np.asarray(scores, np.float64).std(axis=1)
            scale = share / np.where(spread > 0, spread, 1.0)
            distinct, values, member_popular = member._contributions(own, items, users)
            popular &= np.asarray(member_popular, dtype=bool)
            for row in range(rows):
                for column, movie in enumerate(np.asarray(distinct[row]).tolist()):
                    part = scale[row] * np.asarray(values[row], np.float64)[:, column]
                    merged[row][movie] = merged[row][movie] + part if movie in merged[row] else part
        k = items.shape[1]
        out_distinct = [np.array(list(parts), dtype=np.int64) for parts in merged]
        out_values = [
            np.stack(list(parts.values()), axis=1).astype(np.float32) if parts else np.zeros((k, 0), np.float32)
            for parts in merged
        ]
        return out_distinct, out_values, popular

    def set_serving_labels(self, user_ids: np.ndarray, item_ids: np.ndarray) -> None:
        """Passes the string ids on to members that export serving signatures (two-tower)."""
        for member in self.members:
            set_labels = getattr(member, "set_serving_labels", None)
            if callable(set_labels):
                set_labels(user_ids, item_ids)

    def _save_state(self, directory: Path) -> None:
        if self.record is None:
            raise NotFittedError(f"{self.name} is not fitted; call fit() first")
        for position, member in zip(("first", "second"), self.members):
            member.save(directory / position)
        (directory / BLEND_FILE).write_text(json.dumps(self.record.to_dict(), indent=2) + "\n")

    def _load_state(self, directory: Path) -> None:
        self.members = [load_recommender(directory / "first"), load_recommender(directory / "second")]
        path = directory / BLEND_FILE
        self.record = BlendRecord.from_dict(json.loads(path.read_text()), where=str(path))
        self.weight = self.record.weight
