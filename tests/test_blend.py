"""`BlendRecommender`: the contract, a weight chosen on validation against a numpy recomputation, the mix."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.blend import BlendRecommender, standardise
from movierec.config import BlendConfig, to_dict
from movierec.data import Interactions
from movierec.errors import ConfigError
from movierec.recommender import FitOptions, Recommender
from movierec.records import BlendRecord, FitRecord
from movierec.registry import build_recommender, config_from_dict, load_recommender
from movierec.testing import ALL_USERS, N_ITEMS, N_USERS, TRAIN, WITHHELD, RecommenderContract

EASE = {"kind": "ease", "l2": 1.0}
POPULARITY = {"kind": "popularity"}
WITHHELD_SLICE = Interactions.from_arrays(ALL_USERS, WITHHELD, n_users=N_USERS, n_items=N_ITEMS)


def numpy_z(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, np.float64)
    return (scores - scores.mean(1, keepdims=True)) / scores.std(1, keepdims=True)


def numpy_ndcg(weight, first, second, seen, relevant) -> float:
    """Mean NDCG@10 of one weight, one relevant movie per user, recomputed without movierec's ranking."""
    mixed = weight * numpy_z(first) + (1 - weight) * numpy_z(second)
    mixed[seen] = -np.inf
    order = np.argsort(-mixed, axis=1, kind="stable")[:, :10]
    return float(np.mean([1 / np.log2(list(row).index(r) + 2) if r in row else 0.0 for row, r in zip(order, relevant)]))


def numpy_curve(first, second, seen, relevant, steps: int, refine: int = 0):
    """The weights `_choose_weight` tries: `steps + 1` even ones, then `refine` times the two halfway points
    beside the best so far (first maximum: the smaller weight on ties); `(weight, NDCG@10)` sorted."""
    curve = {round(float(w), 6): numpy_ndcg(w, first, second, seen, relevant) for w in np.linspace(0, 1, steps + 1)}
    spacing = 1 / steps
    for _ in range(refine):
        best = max(sorted(curve), key=lambda w: (curve[w], -w))
        spacing /= 2
        for w in (round(best - spacing, 6), round(best + spacing, 6)):
            if 0 < w < 1 and w not in curve:
                curve[w] = numpy_ndcg(w, first, second, seen, relevant)
    return sorted(curve.items())


class TestBlend(RecommenderContract):
    kind = "blend"

    def make(self) -> Recommender:
        return BlendRecommender(BlendConfig(first=POPULARITY, second=EASE, steps=4, refine=0))

    def fit_options(self):
        return FitOptions(validation=WITHHELD_SLICE)

    def test_known_answer(self, fitted):
        # EASE finds each user's withheld movie (the one of their block not seen), popularity does not:
        # the validation curve is recomputed with numpy, and the weight is its first maximum
        popularity, ease = (build_recommender(config_from_dict(c)).fit(TRAIN) for c in (POPULARITY, EASE))
        first, second = popularity.score(ALL_USERS), ease.score(ALL_USERS)
        expected = numpy_curve(first, second, TRAIN.to_csr().toarray() > 0, WITHHELD, steps=4)
        record = fitted.record
        assert [w for w, _ in record.curve] == [0.0, 0.25, 0.5, 0.75, 1.0]
        np.testing.assert_allclose([v for _, v in record.curve], [v for _, v in expected], atol=1e-6)
        assert record.curve[0][1] == pytest.approx(1.0)  # EASE alone answers every user
        assert record.weight == max(expected, key=lambda point: (point[1], -point[0]))[0]
        assert record.users == N_USERS and (record.first, record.second) == ("popularity", "ease")
        # the scores are the weighted standardised scores of the members
        w = record.weight
        np.testing.assert_allclose(
            fitted.score(ALL_USERS), w * numpy_z(first) + (1 - w) * numpy_z(second), rtol=1e-5, atol=1e-5
        )
        items, _ = fitted.recommend(ALL_USERS, k=1)
        np.testing.assert_array_equal(items[:, 0], WITHHELD)
        assert fitted.fit_record().decisions.blend == record
        assert "blended" in fitted.fit_record().summary()

    def test_load_keeps_the_weight_and_the_scores(self, fitted, tmp_path):
        fitted.save(tmp_path / "m")
        loaded = load_recommender(tmp_path / "m")
        assert loaded.record == fitted.record and [m.kind for m in loaded.members] == ["popularity", "ease"]
        np.testing.assert_array_equal(loaded.score(ALL_USERS), fitted.score(ALL_USERS))


class FixedScores:
    """A member whose scores are a given table (what `_choose_weight` reads of a member)."""

    def __init__(self, name: str, table: np.ndarray) -> None:
        self.name, self.table = name, table

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.table[users]


def test_refining_finds_a_weight_between_the_grid_points():
    # random member scores for 60 users and 40 movies; one withheld movie per user, three seen ones
    rng = np.random.default_rng(36)
    users, items = 60, 40
    first, second = rng.normal(size=(users, items)), rng.normal(size=(users, items))
    picks = np.stack([rng.choice(items, 4, replace=False) for _ in range(users)])
    relevant = picks[:, 0]
    first[np.arange(users), relevant] += 1.2  # the first member knows more, the second a little
    second[np.arange(users), relevant] += 0.6
    seen = np.zeros((users, items), dtype=bool)
    seen[np.arange(users)[:, None], picks[:, 1:]] = True
    rows, cols = np.nonzero(seen)
    data = Interactions.from_arrays(rows, cols, n_users=users, n_items=items)
    validation = Interactions.from_arrays(np.arange(users), relevant, n_users=users, n_items=items)
    blend = BlendRecommender(BlendConfig(first=POPULARITY, second=EASE, steps=4, refine=2))
    blend.members = [FixedScores("a", first), FixedScores("b", second)]
    record = blend._choose_weight(data, validation, seed=0)
    expected = numpy_curve(first, second, seen, relevant, steps=4, refine=2)
    assert [w for w, _ in record.curve] == [w for w, _ in expected]
    np.testing.assert_allclose([v for _, v in record.curve], [v for _, v in expected], atol=1e-6)
    assert len(record.curve) == 5 + 2 + 2  # the grid, then two new weights a round
    assert record.weight == max(expected, key=lambda point: (point[1], -point[0]))[0]
    assert record.weight == 0.625  # this instance's best lies between grid points (the grid's 0.75, then 0.625 twice)
    grid_only = BlendRecommender(BlendConfig(first=POPULARITY, second=EASE, steps=4, refine=0))
    grid_only.members = blend.members
    coarse = grid_only._choose_weight(data, validation, seed=0)
    assert [w for w, _ in coarse.curve] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert dict(record.curve)[0.625] > max(v for _, v in coarse.curve) + 0.02  # 0.521 against 0.496


def test_standardise_matches_numpy_and_leaves_flat_rows_at_zero():
    rng = np.random.default_rng(0)
    scores = rng.normal(3.0, 5.0, size=(4, 30))
    np.testing.assert_allclose(standardise(scores), numpy_z(scores), rtol=1e-5, atol=1e-6)
    assert standardise(np.full((1, 5), 7.0)).tolist() == [[0.0] * 5]


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_a_configured_weight_is_used_as_given(weight):
    rec = BlendRecommender(BlendConfig(first=POPULARITY, second=EASE, weight=weight)).fit(TRAIN)
    popularity, ease = (build_recommender(config_from_dict(c)).fit(TRAIN) for c in (POPULARITY, EASE))
    expected = weight * numpy_z(popularity.score(ALL_USERS)) + (1 - weight) * numpy_z(ease.score(ALL_USERS))
    np.testing.assert_allclose(rec.score(ALL_USERS), expected, rtol=1e-5, atol=1e-5)
    assert rec.record == BlendRecord("popularity", "ease", weight)
    assert rec.fit_record().summary().endswith("the configured weight")
    # new users: the same mix of the members' history scores
    histories = [np.array([0, 1]), np.array([5])]
    mixed = weight * numpy_z(popularity.score_history(histories)) + (1 - weight) * numpy_z(
        ease.score_history(histories)
    )
    np.testing.assert_allclose(rec.score_history(histories), mixed, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_a_member_of_weight_zero_is_never_scored(weight, monkeypatch):
    rec = BlendRecommender(BlendConfig(first=POPULARITY, second=EASE, weight=weight)).fit(TRAIN)
    expected = rec.score(ALL_USERS), rec.score_history([np.array([0, 1])])
    unused = rec.members[1 if weight == 1.0 else 0]

    def refuse(*args):
        raise AssertionError(f"{unused.name} has weight 0 and was scored")

    monkeypatch.setattr(unused, "score", refuse)
    monkeypatch.setattr(unused, "score_history", refuse)
    np.testing.assert_array_equal(rec.score(ALL_USERS), expected[0])
    np.testing.assert_array_equal(rec.score_history([np.array([0, 1])]), expected[1])


def test_choosing_the_weight_needs_a_validation_slice():
    with pytest.raises(ConfigError, match="needs a validation slice"):
        BlendRecommender(BlendConfig(first=POPULARITY, second=EASE)).fit(TRAIN)


@pytest.mark.parametrize("fallback", [0.0, 0.25, 1.0])
def test_without_a_validation_slice_the_fallback_weight_is_used(fallback):
    config = BlendConfig(first=POPULARITY, second=EASE, fallback_weight=fallback)
    rec = BlendRecommender(config).fit(TRAIN)
    popularity, ease = (build_recommender(config_from_dict(c)).fit(TRAIN) for c in (POPULARITY, EASE))
    expected = fallback * numpy_z(popularity.score(ALL_USERS)) + (1 - fallback) * numpy_z(ease.score(ALL_USERS))
    np.testing.assert_allclose(rec.score(ALL_USERS), expected, rtol=1e-5, atol=1e-5)
    assert rec.weight == fallback and rec.record is not None and rec.record.curve == ()
    assert rec.fit_record().summary().endswith("no validation slice: the fallback weight")
    assert BlendRecord.from_dict(rec.record.to_dict()) == rec.record
    # with a validation slice the weight is chosen there, as without a fallback
    chosen = BlendRecommender(config).fit(TRAIN, FitOptions(validation=WITHHELD_SLICE))
    assert len(chosen.record.curve) > 2 and chosen.record.users == N_USERS and chosen.record.reason == ""


def test_add_seen_reaches_both_members():
    rec = BlendRecommender(BlendConfig(first=POPULARITY, second=EASE, weight=0.5)).fit(TRAIN)
    rec.add_seen(WITHHELD_SLICE)
    for member in (rec, *rec.members):
        assert all(member.seen[u, WITHHELD[u]] == 1 for u in ALL_USERS)


def test_the_fit_record_refits_with_the_chosen_weight():
    rec = BlendRecommender(BlendConfig(first=POPULARITY, second=EASE, steps=2)).fit(
        TRAIN, FitOptions(validation=WITHHELD_SLICE)
    )
    record = rec.fit_record()
    refit = config_from_dict(record.refit_config)
    assert refit.kind == "blend" and refit.weight == rec.weight
    assert refit.second == to_dict(config_from_dict(EASE))
    assert FitRecord.from_dict(record.to_dict()) == record


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"first": {"kind": "auto"}}, "cannot itself choose"),
        ({"second": {"kind": "choice"}}, "cannot itself choose"),
        ({"second": {"kind": "blend", "first": {"kind": "auto"}}}, "second: blend.first: a member cannot itself"),
        ({"first": "ease"}, "must be a model table"),
        ({"weight": 1.5}, "blend.weight must be a number in"),
        ({"fallback_weight": -0.1}, "blend.fallback_weight must be a number in"),
        ({"weight": float("nan")}, "finite number"),
        ({"steps": 0}, "blend.steps should be a positive integer"),
        ({"refine": -1}, "blend.refine should be an integer from 0 to 20"),
        ({"refine": 2.5}, "refine: expected int"),
        ({"refine": 21}, "blend.refine should be an integer from 0 to 20"),
        ({"second": {"kind": "ease", "l2": -1}}, "second"),
    ],
)
def test_invalid_blend_config_raises(changes, phrase):
    with pytest.raises(ConfigError, match=phrase):
        config_from_dict({**to_dict(BlendConfig()), **changes})


def test_explanations_of_two_exact_members_add_up_to_the_blended_score():
    # EASE's score is the sum of its terms B[j, i]; the blend's terms are each member's, scaled as the blend scales
    # its scores (weight / the member's per-user standard deviation), so they add up to the blended score up to a
    # per-user constant (the members' means): differences between two movies match exactly
    rec = BlendRecommender(
        BlendConfig(first={"kind": "ease", "name": "a", "l2": 1.0}, second={"kind": "ease", "name": "b", "l2": 30.0},
                    weight=0.3)
    ).fit(TRAIN)  # fmt: skip
    items = np.tile(np.arange(N_ITEMS), (N_USERS, 1))
    distinct, values, popular = rec._contributions(rec._histories(ALL_USERS), items, ALL_USERS)
    assert not popular.any() and rec.explanation_method == "blend"
    scores = rec.score(ALL_USERS)
    seen = TRAIN.to_csr()
    for u in ALL_USERS:
        assert set(distinct[u].tolist()) == set(seen[u].indices.tolist())
        totals = values[u].sum(axis=1)  # [n_items]: the sum of every history movie's term
        np.testing.assert_allclose(totals - totals[0], scores[u] - scores[u, 0], rtol=1e-4, atol=1e-4)
    # and each term is the members' own, scaled: a numpy recomputation for one user and one movie
    a, b = rec.members
    u, j, i = 0, int(distinct[0][0]), 4
    expected = 0.3 * a.weights[j, i] / a.score(ALL_USERS)[u].std() + 0.7 * b.weights[j, i] / b.score(ALL_USERS)[u].std()
    assert values[u][i, 0] == pytest.approx(expected, rel=1e-4)


def test_epoch_hooks_score_through_the_member_in_training():
    # a compare's epoch hook samples recommendations from the model being fitted: for a blend, before
    # its weight exists, that is the member training in epochs (which failed as "blend is not fitted")
    from movierec.config import TrainConfig
    from movierec.experiments import PRESETS

    seen: list[np.ndarray] = []
    rec = BlendRecommender(BlendConfig(first=to_dict(PRESETS["model1"]), second=EASE, steps=2))
    budget = TrainConfig(epochs=2, batch_size=16, learning_rate=0.1, seed=42)
    options = FitOptions(
        validation=WITHHELD_SLICE, train=budget, epoch_hooks=(lambda epoch, logs: seen.append(rec.score(ALL_USERS)),)
    )
    rec.fit(TRAIN, options)
    assert len(seen) == 2 and seen[0].shape == (N_USERS, N_ITEMS)
    np.testing.assert_allclose(seen[-1], rec.members[0].score(ALL_USERS), rtol=1e-6)  # the last epoch's model
    assert not np.allclose(rec.score(ALL_USERS), seen[-1])  # after fit: the mix


def test_a_blend_of_a_blend_mixes_the_inner_mix_and_records_both_weights(tmp_path):
    inner = {"kind": "blend", "name": "inner", "first": POPULARITY, "second": EASE, "weight": 0.25}
    outer = BlendRecommender(BlendConfig(name="outer", first=inner, second=POPULARITY, steps=2))
    outer.fit(TRAIN, FitOptions(validation=WITHHELD_SLICE))
    popularity, ease = (build_recommender(config_from_dict(c)).fit(TRAIN) for c in (POPULARITY, EASE))
    mix = 0.25 * numpy_z(popularity.score(ALL_USERS)) + 0.75 * numpy_z(ease.score(ALL_USERS))
    w = outer.weight
    expected = w * numpy_z(mix) + (1 - w) * numpy_z(popularity.score(ALL_USERS))
    np.testing.assert_allclose(outer.score(ALL_USERS), expected, rtol=1e-4, atol=1e-4)
    # the inner weight was configured, the outer one chosen on the slice; the record holds both, inner first
    record = outer.fit_record()
    assert record.decisions.blend.members == (BlendRecord("popularity", "ease", 0.25),)
    lines = record.summary().splitlines()
    assert lines[0] == "blended 0.25 x popularity + 0.75 x ease (standardised scores): the configured weight"
    assert lines[1].startswith(f"blended {w:g} x inner + {1 - w:g} x popularity (standardised scores): validation")
    assert FitRecord.from_dict(record.to_dict()) == record
    refit = config_from_dict(record.refit_config)
    assert refit.weight == w and refit.first["weight"] == 0.25
    outer.save(tmp_path / "nested")
    np.testing.assert_array_equal(load_recommender(tmp_path / "nested").score(ALL_USERS), outer.score(ALL_USERS))


def test_a_plain_blend_record_is_written_as_before():
    assert "members" not in BlendRecord("a", "b", 0.5).to_dict()
