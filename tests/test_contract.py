"""The `Recommender` contract, checked against every recommender.

To cover a new model, add a factory to `RECOMMENDER_FACTORIES` (and its id to
`WITHHELD_FIRST` if it should recover the withheld items of the block data).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from movierec.baselines import AlsConfig, AlsRecommender, EaseConfig, EaseRecommender
from movierec.baselines import PopularityConfig, PopularityRecommender
from movierec.config import from_dict, model_config_from_dict, to_dict
from movierec.data.interactions import Interactions
from movierec.errors import ConfigError, ModelDirError, UnknownIdError
from movierec.recommender import Recommender, load_recommender

RECOMMENDER_FACTORIES: dict[str, Callable[[], Recommender]] = {
    "popularity": lambda: PopularityRecommender(PopularityConfig()),
    "ease": lambda: EaseRecommender(EaseConfig(l2=1.0)),
    # rank 2 = the two blocks; more factors would memorise the withheld zeros
    "als": lambda: AlsRecommender(AlsConfig(factors=2, regularization=0.1, alpha=10.0, iterations=10)),
}
WITHHELD_FIRST = {"ease", "als"}  # models that must rank each user's withheld item first

N_USERS, N_ITEMS, BLOCK = 20, 10, 5
GROUP_A = 12  # users 0-11 watch items 0-4, users 12-19 watch items 5-9


def _block_data() -> tuple[Interactions, np.ndarray]:
    """Two disjoint user groups, each watching its own block of 5 items except one withheld item.

    User u withholds item `block_start + u % 5`, so each user's one unseen item of their
    own block is the obvious recommendation (implicit's checkerboard idea).
    """
    users, items, withheld = [], [], np.empty(N_USERS, np.int64)
    for u in range(N_USERS):
        start = 0 if u < GROUP_A else BLOCK
        withheld[u] = start + u % BLOCK
        for i in range(start, start + BLOCK):
            if i != withheld[u]:
                users.append(u)
                items.append(i)
    return Interactions.from_arrays(users, items, n_users=N_USERS, n_items=N_ITEMS), withheld


TRAIN, WITHHELD = _block_data()
ALL_USERS = np.arange(N_USERS)


@pytest.fixture(params=sorted(RECOMMENDER_FACTORIES), scope="module")
def model_id(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def fitted(model_id) -> Recommender:
    return RECOMMENDER_FACTORIES[model_id]().fit(TRAIN)


def test_score_shape_and_dtype(fitted):
    scores = fitted.score(ALL_USERS)
    assert scores.shape == (N_USERS, N_ITEMS)
    assert scores.dtype == np.float32
    assert np.all(np.isfinite(scores))


def test_recommend_returns_k_items_sorted_by_score(fitted):
    items, scores = fitted.recommend(ALL_USERS, k=4)
    assert items.shape == scores.shape == (N_USERS, 4)
    assert np.all(np.diff(scores, axis=1) <= 0)
    np.testing.assert_allclose(scores, np.take_along_axis(fitted.score(ALL_USERS), items, axis=1))
    assert all(len(set(row)) == 4 for row in items.tolist())


def test_recommend_never_returns_seen_items(fitted):
    seen = TRAIN.to_csr()
    items, _ = fitted.recommend(ALL_USERS, k=N_ITEMS, exclude=seen)
    for u in ALL_USERS:
        allowed = set(range(N_ITEMS)) - set(seen[u].indices)
        assert set(items[u][items[u] >= 0]) == allowed
        assert np.sum(items[u] == -1) == N_ITEMS - len(allowed)


def test_batch_equals_single_user(fitted):
    seen = TRAIN.to_csr()
    batch_items, batch_scores = fitted.recommend(ALL_USERS, k=3, exclude=seen, batch_size=7)
    for u in ALL_USERS:
        items, scores = fitted.recommend(np.array([u]), k=3, exclude=seen)
        # BLAS may round a batch and a single row differently, so near-ties may swap places:
        # compare scores, and the single-user scores of the batch's items
        np.testing.assert_allclose(scores[0], batch_scores[u], rtol=1e-5, atol=1e-6)
        single = fitted.score(np.array([u]))[0]
        np.testing.assert_allclose(single[batch_items[u]], scores[0], rtol=1e-5, atol=1e-6)
        if np.all(np.abs(np.diff(scores[0])) > 1e-4):
            np.testing.assert_array_equal(items[0], batch_items[u])


def test_save_load_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "model")
    loaded = load_recommender(tmp_path / "model")
    assert type(loaded) is type(fitted)
    assert loaded.config == fitted.config
    assert (loaded.n_users, loaded.n_items) == (fitted.n_users, fitted.n_items)
    np.testing.assert_array_equal(loaded.score(ALL_USERS), fitted.score(ALL_USERS))
    seen = TRAIN.to_csr()
    np.testing.assert_array_equal(
        loaded.recommend(ALL_USERS, k=3, exclude=seen)[0], fitted.recommend(ALL_USERS, k=3, exclude=seen)[0]
    )


def test_known_answer(fitted, model_id):
    items, _ = fitted.recommend(ALL_USERS, k=1, exclude=TRAIN.to_csr())
    if model_id in WITHHELD_FIRST:
        np.testing.assert_array_equal(items[:, 0], WITHHELD)
    elif model_id == "popularity":
        # a most popular unseen item (items 2, 3, 4 tie at 10 interactions, so compare counts)
        counts = np.bincount(TRAIN.items, minlength=N_ITEMS).astype(float)
        masked = np.where(TRAIN.to_csr().toarray() > 0, -np.inf, counts)
        np.testing.assert_array_equal(counts[items[:, 0]], masked.max(axis=1))


def test_score_history(fitted, model_id):
    # a new user who watched items 0-3 of block A
    try:
        scores = fitted.score_history([np.array([0, 1, 2, 3]), np.array([], dtype=np.int64)])
    except NotImplementedError:
        pytest.skip(f"{model_id} does not score histories")
    assert scores.shape == (2, N_ITEMS) and scores.dtype == np.float32
    if model_id in WITHHELD_FIRST:
        assert int(np.argmax(scores[0, 4:])) + 4 == 4  # item 4 beats the other block
    with pytest.raises(UnknownIdError, match="histories"):
        fitted.score_history([np.array([N_ITEMS])])


@pytest.mark.parametrize("k", [0, -1])
def test_bad_k_raises(fitted, k):
    with pytest.raises(ConfigError, match="`k` should be a positive integer"):
        fitted.recommend(ALL_USERS, k=k)


def test_unknown_user_raises(fitted):
    with pytest.raises(UnknownIdError, match="users"):
        fitted.score(np.array([N_USERS]))
    with pytest.raises(UnknownIdError, match="users"):
        fitted.score(np.array([-1]))


def test_config_round_trip(model_id):
    config = RECOMMENDER_FACTORIES[model_id]().config
    assert from_dict(type(config), to_dict(config)) == config
    assert model_config_from_dict(to_dict(config)) == config


def test_load_from_empty_dir_raises(tmp_path):
    with pytest.raises(ModelDirError, match="not a saved recommender"):
        load_recommender(tmp_path)


@pytest.mark.parametrize("factory", [EaseRecommender, AlsRecommender], ids=["ease", "als"])
def test_users_without_history_get_popularity_not_ties(factory):
    """A user with no training rows must not get all-equal scores (which TFRS's top-k counts as hits)."""
    # users 0-2 rate items; user 3 rates nothing. Item popularity: item 1 (3) > item 0 (2) > item 2 (1) > item 3 (0)
    train = Interactions.from_arrays([0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 0, 1], n_users=4, n_items=4)
    rec = factory().fit(train)
    cold = rec.score(np.array([3]))[0]
    assert np.argsort(-cold, kind="stable").tolist() == [1, 0, 2, 3]
    assert len(np.unique(cold)) == 4
    np.testing.assert_allclose(rec.score_history([np.array([], np.int64)])[0], cold)
