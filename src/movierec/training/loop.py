"""Keras `fit` for the TFRS models: seeding, optimisers, tf.data pipelines."""

from __future__ import annotations

import logging
import random

import numpy as np

from movierec._env import import_tensorflow
from movierec.data.interactions import Interactions

tf, tfrs = import_tensorflow()

__all__ = ["set_seed", "make_optimizer", "make_dataset"]

logger = logging.getLogger(__name__)


def set_seed(seed: int) -> None:
    """Seeds Python, numpy and TensorFlow so a CPU run is reproducible."""
    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)


def make_optimizer(name: str, learning_rate: float):
    """A Keras 2 optimiser by name ("adagrad" as in the TFRS tutorial, "adam", "sgd")."""
    optimizers = {
        "adagrad": tf.keras.optimizers.Adagrad,
        "adam": tf.keras.optimizers.Adam,
        "sgd": tf.keras.optimizers.SGD,
    }
    return optimizers[name](learning_rate=learning_rate)


def make_dataset(data: Interactions, batch_size: int, *, shuffle: bool, seed: int):
    """`tf.data` pipeline of `{"user", "item": [batch] int32, "rating": float32, "timestamp": int64}` batches.

    Ids were mapped to indices once, in `movierec.data`. Only row indices go through the
    shuffle buffer; each batch then gathers its columns at once. That is the same order as
    shuffling the rows themselves (same seed, same permutation) at a third of the cost.
    """
    columns = {
        "user": tf.constant(data.users.astype(np.int32)),
        "item": tf.constant(data.items.astype(np.int32)),
        "rating": tf.constant(data.ratings.astype(np.float32)),
        "timestamp": tf.constant(data.timestamps.astype(np.int64)),
    }
    rows = tf.data.Dataset.range(len(data))
    if shuffle:
        rows = rows.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    batches = rows.batch(batch_size).map(
        lambda index: {name: tf.gather(column, index) for name, column in columns.items()}
    )
    return batches.prefetch(tf.data.AUTOTUNE)
