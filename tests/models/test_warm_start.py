"""`svd_item_vectors` against numpy's SVD, and the sequential model starting from it (`item_init = "svd"`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from movierec.data import Interactions
from movierec.models.sequential.warm_start import KERAS_EMBEDDING_STD, svd_item_vectors


def _random_watches(seed: int, n_users: int = 30, n_items: int = 12, rows: int = 150) -> Interactions:
    rng = np.random.default_rng(seed)
    return Interactions.from_arrays(
        rng.integers(0, n_users, rows), rng.integers(0, n_items - 1, rows), n_users=n_users, n_items=n_items
    )  # the last movie is never watched


def _numpy_reference(data: Interactions, dim: int, std: float) -> np.ndarray:
    matrix = np.zeros((data.n_users, data.n_items))
    matrix[data.users, data.items] = 1.0
    _, values, rows = np.linalg.svd(matrix, full_matrices=False)
    k = min(dim, min(matrix.shape) - 1)
    parts = rows[:k].T * np.sqrt(values[:k])
    parts *= np.sign(parts[np.abs(parts).argmax(axis=0), np.arange(k)])  # largest entry of a column positive
    vectors = np.zeros((data.n_items, dim))
    vectors[:, :k] = parts
    return vectors * std / vectors.std()


@pytest.mark.parametrize("dim", [4, 11, 16])  # 16 > 12 - 1: the last columns stay 0
def test_the_vectors_are_numpys_singular_vectors_rescaled(dim):
    data = _random_watches(3)
    vectors = svd_item_vectors(data, dim)
    assert vectors.shape == (12, dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, _numpy_reference(data, dim, KERAS_EMBEDDING_STD), atol=2e-6)
    assert vectors.std() == pytest.approx(KERAS_EMBEDDING_STD, rel=1e-5)
    np.testing.assert_array_equal(vectors[11], 0.0)  # nobody watched it
    np.testing.assert_array_equal(vectors, svd_item_vectors(data, dim))  # the same every time


def test_a_movie_watched_twice_by_one_user_counts_once_and_std_is_as_asked():
    once = Interactions.from_arrays([0, 0, 1, 2], [0, 1, 1, 2], n_users=3, n_items=3)
    twice = Interactions.from_arrays([0, 0, 0, 1, 2], [0, 1, 1, 1, 2], n_users=3, n_items=3)
    np.testing.assert_array_equal(svd_item_vectors(once, 2, std=0.5), svd_item_vectors(twice, 2, std=0.5))
    assert svd_item_vectors(once, 2, std=0.5).std() == pytest.approx(0.5, rel=1e-6)


def test_the_sequential_model_starts_from_them():
    from movierec._env import import_tensorflow
    from movierec.config import SequentialConfig, TrainConfig
    from movierec.models.sequential import SequentialRecommender
    from movierec.recommender import FitOptions

    tf, _ = import_tensorflow()
    started = []

    class AtStart(tf.keras.callbacks.Callback):  # the movie table as training begins
        def on_train_begin(self, logs=None):
            started.append(self.model.encoder.item_embedding.embeddings.numpy().copy())

    # distinct singular values (the contract's block data repeats them, leaving the vectors arbitrary)
    data = _random_watches(5)
    data = Interactions.from_arrays(data.users, data.items, None, np.arange(len(data.users)), n_users=30, n_items=12)
    config = SequentialConfig(embedding_dim=8, max_length=6, blocks=1, dropout=0.0, item_init="svd")
    budget = TrainConfig(epochs=1, batch_size=16, learning_rate=0.05, optimizer="adam", seed=1)
    for init in ("svd", "random"):
        recommender = SequentialRecommender(dataclasses.replace(config, item_init=init))
        recommender.fit(data, FitOptions(train=budget, callbacks=(AtStart(),)))
    # equal but for ARPACK's last bits, which follow the BLAS threads in use (fewer inside a fit)
    np.testing.assert_allclose(started[0], svd_item_vectors(data, 8), rtol=0, atol=1e-9)
    assert np.abs(started[1] - svd_item_vectors(data, 8)).max() > 1e-3  # Keras' random start


def test_an_unknown_start_is_refused_by_name():
    from movierec.config import SequentialConfig
    from movierec.errors import ConfigError

    with pytest.raises(ConfigError, match="item_init must be 'random' or 'svd'. Received: 'pca'"):
        SequentialConfig(item_init="pca")
