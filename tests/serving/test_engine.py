"""The serving hot path gives exactly what the library gives, for every kind of model.

`ServingEngine` re-implements nothing but the per-request plumbing (id lookups, seen masks,
one-row top-k); each answer is compared element for element, scores included, with
`Recommender.recommend` / `recommend_history` / `similar_items` for the same single user.
"""

from __future__ import annotations

import numpy as np
import pytest

from movierec.errors import UnknownIdError
from movierec.serving import ServingEngine, load_model_dir

KINDS = ("popularity", "ease", "als", "model1", "auto", "sequential", "default")  # as in conftest.py


@pytest.fixture(scope="module", params=KINDS)
def engine(request, model_dirs) -> ServingEngine:
    return ServingEngine(load_model_dir(model_dirs[request.param]))


def _as_arrays(ranked: list[dict]) -> tuple[list[str], list[float]]:
    return [r["item_id"] for r in ranked], [r["score"] for r in ranked]


@pytest.mark.parametrize(("k", "include_seen"), [(1, False), (5, False), (30, False), (30, True), (1000, False)])
def test_known_users_equal_library_recommend(engine, k, include_seen):
    rec, ids = engine.recommender, engine.item_ids
    for user, user_id in enumerate(engine.model.vocab.user_ids):
        items, scores = rec.recommend(np.array([user]), k, exclude_seen=not include_seen)
        valid = items[0] >= 0
        got_ids, got_scores = _as_arrays(engine.recommend_user(str(user_id), k, include_seen))
        assert got_ids == [ids[i] for i in items[0][valid]], user_id
        assert got_scores == scores[0][valid].tolist(), user_id  # bit for bit
        ranked = engine.recommend_user(str(user_id), k, include_seen)
        assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
        assert all(r["title"] == engine.titles[engine.item_index([r["item_id"]])[0]] for r in ranked)


@pytest.mark.parametrize("liked", [["m1"], ["m1", "m2", "m3"], ["m16", "m2", "m16"], ["m30"]])
def test_new_users_equal_library_recommend_history(engine, liked):
    history = engine.item_index(liked)
    items, scores = engine.recommender.recommend_history([history], 10)
    valid = items[0] >= 0
    got_ids, got_scores = _as_arrays(engine.recommend_liked(liked, 10))
    assert got_ids == [engine.item_ids[i] for i in items[0][valid]]
    assert got_scores == scores[0][valid].tolist()
    assert not set(got_ids) & set(liked)


def test_similar_equals_library_similar_items(engine):
    for index, item_id in enumerate(engine.item_ids):
        items, scores = engine.recommender.similar_items(np.array([index]), 5)
        got_ids, got_scores = _as_arrays(engine.similar(item_id, 5))
        assert got_ids == [engine.item_ids[i] for i in items[0] if i >= 0]
        assert got_scores == scores[0][items[0] >= 0].tolist()
        assert item_id not in got_ids


def test_unknown_ids_are_named_and_cut_short(engine):
    with pytest.raises(UnknownIdError, match="unknown user id 'nobody'"):
        engine.recommend_user("nobody", 5)
    long_id = "x" * 1_000_000
    with pytest.raises(UnknownIdError) as error:
        engine.recommend_user(long_id, 5)
    assert len(str(error.value)) < 200 and "1,000,000 characters" in str(error.value)
    with pytest.raises(UnknownIdError, match="unknown item id 'm999'"):
        engine.recommend_liked(["m1", "m999"], 5)
    with pytest.raises(UnknownIdError, match="unknown item id 'zzz'"):
        engine.similar("zzz", 5)


def test_search(engine):
    assert engine.search("MOVIE 1 (", 20) == [{"item_id": "m1", "title": "Movie 1 (1990)", "genres": "Comedy|Romance"}]
    assert len(engine.search("movie", 7)) == 7
    assert engine.search("no such film", 5) == []
