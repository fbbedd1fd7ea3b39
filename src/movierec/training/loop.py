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

    Ids were mapped to indices once, in `movierec.data`; nothing is looked up per batch.
    """
    ds = tf.data.Dataset.from_tensor_slices(
        {
            "user": data.users.astype(np.int32),
            "item": data.items.astype(np.int32),
            "rating": data.ratings.astype(np.float32),
            "timestamp": data.timestamps.astype(np.int64),
        }
    )
    if shuffle:
        ds = ds.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
