"""`ChoiceRecommender` (`movierec train`'s default): the contract, and a choice that follows the order check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from movierec.choice import ChoiceRecommender
from movierec.config import ChoiceConfig, to_dict
from movierec.data import Interactions
from movierec.errors import ConfigError
from movierec.experiments import PRESETS, get_preset
from movierec.order import decide_order
from movierec.recommender import FitOptions, Recommender
from movierec.registry import config_from_dict, load_recommender
from movierec.testing import ALL_USERS, N_ITEMS, N_USERS, TRAIN, WITHHELD, RecommenderContract

EASE = {"kind": "ease", "l2": 1.0}
POPULARITY = {"kind": "popularity"}
WITHHELD_SLICE = Interactions.from_arrays(ALL_USERS, WITHHELD, n_users=N_USERS, n_items=N_ITEMS)


class TestChoice(RecommenderContract):
    kind = "choice"

    def make(self) -> Recommender:
        return ChoiceRecommender(ChoiceConfig(unordered=EASE, ordered=POPULARITY))

    def fit_options(self):
        return FitOptions(validation=WITHHELD_SLICE)

    def test_known_answer(self, fitted):
        # each user's withheld movie is the one movie of their block they have not seen: co-occurrence ranks
        # it first for everyone, so order adds nothing and the order-free EASE is trained, and answers it
        assert fitted.chosen.kind == "ease" and not fitted.decision.used
        same = decide_order(TRAIN, WITHHELD_SLICE)  # the check on the same rows: the same numbers
        assert dataclasses.replace(fitted.decision, seconds=0.0) == dataclasses.replace(same, seconds=0.0)
        items, _ = fitted.recommend(ALL_USERS, k=1)
        np.testing.assert_array_equal(items[:, 0], WITHHELD)
        assert fitted.fit_record().decisions.to_dict() == {
            "choice": {"chosen": "ease", "order": fitted.decision.to_dict()}
        }
        assert fitted.fit_record().summary().startswith("trained ease: order adds little")

    def test_load_keeps_the_decision(self, fitted, tmp_path):
        fitted.save(tmp_path / "m")
        loaded = load_recommender(tmp_path / "m")
        assert loaded.decision == fitted.decision and loaded.chosen.kind == "ease"


def _ring() -> tuple[Interactions, Interactions, list[int]]:
    """A ring of 12 movies: each of 24 users watched 4 in ring order (96 ratings) and next watches the 5th
    (see tests/test_order.py). Returns `(train, validation, each user's next movie)`."""
    users, items, times, nexts = [], [], [], []
    for u in range(24):
        for step in range(4):
            users.append(u), items.append((u + step) % 12), times.append(1000 * u + step)
        nexts.append((u + 4) % 12)
    train = Interactions.from_arrays(users, items, None, times, n_users=24, n_items=12)
    held = Interactions.from_arrays(np.arange(24), nexts, None, np.full(24, 10**6), n_users=24, n_items=12)
    return train, held, nexts


def test_the_ordered_candidate_is_trained_when_order_predicts():
    train, held, _ = _ring()
    rec = ChoiceRecommender(ChoiceConfig(unordered=EASE, ordered=POPULARITY)).fit(train, FitOptions(validation=held))
    assert rec.decision.used and rec.chosen.kind == "popularity"


@pytest.mark.parametrize(("small_ratings", "kind"), [(97, "markov"), (96, "popularity"), (0, "popularity")])
def test_below_small_ratings_the_small_data_candidate_is_trained_where_order_wins(small_ratings, kind):
    # the ring: 96 training ratings; order wins, and the size rule picks the ordered candidate
    train, held, nexts = _ring()
    config = ChoiceConfig(
        unordered=EASE, ordered=POPULARITY, ordered_small={"kind": "markov"}, small_ratings=small_ratings
    )
    rec = ChoiceRecommender(config).fit(train, FitOptions(validation=held))
    assert rec.decision.used and rec.chosen.kind == kind
    # the record keeps the rule's numbers where there is a rule (and reads as before where there is none)
    recorded = rec.fit_record().decisions.to_dict()["choice"]
    assert recorded.get("ratings") == (96 if small_ratings else None)
    assert recorded.get("small_ratings") == (small_ratings or None)
    if kind == "markov":  # the chain reads each user's latest movie: the next one on the ring comes first
        np.testing.assert_array_equal(rec.recommend(np.arange(24), k=1)[0][:, 0], nexts)
        assert (
            rec.fit_record()
            .summary()
            .endswith("96 training ratings, fewer than 97: the ordered candidate for small data")
        )


def test_without_validation_the_order_free_model_is_trained():
    rec = ChoiceRecommender(ChoiceConfig(unordered=EASE, ordered=POPULARITY)).fit(TRAIN)
    assert rec.chosen.kind == "ease" and rec.decision.users == 0


def test_the_default_preset_chooses_between_ease_blends_of_best_of_the_sequential_model_and_of_the_chain():
    config = get_preset("default")
    assert config.kind == "choice"
    assert config.unordered == to_dict(PRESETS["best_ease_recent"]) and config.ordered == to_dict(PRESETS["blend"])
    # the order-free side: `best_ease`, then blended with the latest 10% of the ratings' most-rated movies
    recent = PRESETS["best_ease_recent"]
    assert recent.first == to_dict(PRESETS["best_ease"]) and recent.second == to_dict(PRESETS["recent_popularity"])
    assert PRESETS["recent_popularity"].recent_share == 0.1
    assert recent.weight is None and recent.fallback_weight == 1.0
    blend = PRESETS["blend"]
    assert blend.first == to_dict(PRESETS["sequential"]) and blend.second["kind"] == "ease"
    assert blend.weight is None and blend.fallback_weight is None  # chosen on the validation slice, or an error
    unordered = PRESETS["best_ease"]
    assert unordered.first == to_dict(PRESETS["best"]) and unordered.second["kind"] == "ease"
    # chosen on the validation slice; without one, `best` alone (the default trains with --validation-fraction 0)
    assert unordered.weight is None and unordered.fallback_weight == 1.0
    # on fewer than 150,000 training ratings the ordered side is the Markov chain blended with EASE
    assert config.ordered_small == to_dict(PRESETS["markov_ease"]) and config.small_ratings == 150_000
    small = PRESETS["markov_ease"]
    assert small.first == to_dict(PRESETS["markov"]) and small.second == blend.second and small.weight is None
    assert (PRESETS["markov"].context, PRESETS["markov"].window) == (3, 3)  # the order check's chain
    assert config_from_dict(to_dict(config)) == config


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"ordered": {"kind": "auto"}}, "cannot itself choose"),
        ({"unordered": {"name": "x"}}, "model table with a `kind`"),
        ({"ordered": {"kind": "sequential", "blocks": 0}}, "blocks should be a positive integer"),
        ({"margin_se": -1}, "margin_se"),
        ({"check_users": 0}, "check_users"),
        ({"small_ratings": -1}, "small_ratings should be an integer >= 0"),
        ({"small_ratings": 1.5}, "small_ratings: expected int"),
        ({"ordered_small": {"kind": "choice"}}, "cannot itself choose"),
    ],
)
def test_bad_choice_config_raises(changes, phrase):
    with pytest.raises(ConfigError, match=phrase):
        config_from_dict({**to_dict(ChoiceConfig()), **changes})
