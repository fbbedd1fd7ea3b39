"""The shared `Recommender` contract (tests/test_contract.py), run against the TFRS two-tower model.

The contract's test functions are imported and collected here with this module's own
`model_id` / `fitted` fixtures, so they run on a small two-tower model fitted on the
contract's block data (20 users, 10 items) without editing the shared file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from movierec._env import import_tensorflow
from movierec.config import TrainConfig, from_dict, model_config_from_dict, to_dict
from movierec.models.presets import PRESETS
from movierec.errors import UnknownIdError
from movierec.models.recommender import TwoTowerRecommender
from movierec.recommender import load_recommender

tf, _ = import_tensorflow()

TESTS_DIR = str(Path(__file__).resolve().parents[1])  # where test_contract lives
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)
import test_contract as contract  # noqa: E402
from test_contract import (  # noqa: E402, F401  (collected here, with the fixtures below)
    test_bad_k_raises,
    test_batch_equals_single_user,
    test_recommend_never_returns_seen_items,
    test_recommend_returns_k_items_sorted_by_score,
    test_score_shape_and_dtype,
)

# A fast model1: 10 items, 80 rows -> 5 batches of 16, enough epochs to separate the blocks.
TWO_TOWER_FACTORIES = {
    "two_tower": lambda: TwoTowerRecommender(
        PRESETS["model1"], TrainConfig(epochs=30, batch_size=16, learning_rate=0.1, seed=42)
    ),
}


@pytest.fixture(params=sorted(TWO_TOWER_FACTORIES), scope="module")
def model_id(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def fitted(model_id):
    return TWO_TOWER_FACTORIES[model_id]().fit(contract.TRAIN)


def test_known_answer(fitted):
    # in-batch softmax learns the two blocks: each user's top unseen item is in their own block
    items, _ = fitted.recommend(contract.ALL_USERS, k=1, exclude=contract.TRAIN.to_csr())
    own_block = contract.WITHHELD // contract.BLOCK
    np.testing.assert_array_equal(items[:, 0] // contract.BLOCK, own_block)


def test_config_round_trip(model_id):
    config = TWO_TOWER_FACTORIES[model_id]().config
    assert from_dict(type(config), to_dict(config)) == config
    assert model_config_from_dict(to_dict(config)) == config


# Contract tests the two-tower model fails today (bugs in src/movierec/models/, reported to the
# lead). strict=True: once fixed they XPASS, which fails the run, so this list gets emptied.
def test_unknown_user_raises(fitted):
    contract.test_unknown_user_raises(fitted)


def test_score_history(fitted, model_id):
    contract.test_score_history(fitted, model_id)


def test_save_load_round_trip(fitted, tmp_path):
    contract.test_save_load_round_trip(fitted, tmp_path)
