"""The benchmark's reference: two-tower retrieval written the TFRS-tutorial way.

Follows the TFRS basic-retrieval tutorial's habits on purpose, since they are what
movierec is timed against:

* string ids go through `tf.keras.layers.StringLookup` *inside* each tower, every batch;
* `tfrs.tasks.Retrieval(metrics=FactorizedTopK(candidates=movies.batch(128).map(movie_model)))`,
  so factorized top-k over all movies runs on every training batch, on every
  validation batch (`validation_data`) and in `model.evaluate`.

The towers match movierec's presets: "model1" is embedding 32 -> Dense(64, relu) ->
Dense(32, relu); "model2" uses swish and adds a final Dense(32, softmax).
Only DataFrames come from movierec (the same split); no movierec model code is used.

Example:
    >>> model, timer = train_reference("model1", data.split.train, None,
    ...     users, movies, epochs=1)  # doctest: +SKIP
    >>> evaluate_reference(model, test_batches(data.split.test))  # doctest: +SKIP
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_recommenders as tfrs

import movierec  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before TensorFlow is imported)

__all__ = ["ARCHITECTURES", "EpochTimer", "to_dataset", "test_batches", "train_reference", "evaluate_reference"]

# name -> (activation of the two dense layers, optional (size, activation) head layer)
ARCHITECTURES: dict[str, tuple[str, tuple[int, str] | None]] = {
    "model1": ("relu", None),
    "model2": ("swish", (32, "softmax")),
}
EMBEDDING_DIM = 32
LAYER_SIZES = (64, 32)
BATCH_SIZE = 8192  # the tutorial's training batch
EVAL_BATCH_SIZE = 4096  # the tutorial's test batch


class EpochTimer(tf.keras.callbacks.Callback):
    """Wall seconds per epoch (validation included), and the validation share of each."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self.validation_seconds: list[float] = []
        self._epoch_start = 0.0
        self._test_start = 0.0
        self._in_fit = False

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def on_test_begin(self, logs=None):
        self._test_start = time.perf_counter()

    def on_test_end(self, logs=None):
        if self._in_fit:
            self.validation_seconds.append(time.perf_counter() - self._test_start)

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._epoch_start)


def make_tower(vocabulary: np.ndarray, architecture: str) -> tf.keras.Model:
    """StringLookup -> Embedding(32) -> Dense(64) -> Dense(32) [-> head]: `[batch]` str to `[batch, 32]`."""
    activation, head = ARCHITECTURES[architecture]
    layers = [
        tf.keras.layers.StringLookup(vocabulary=vocabulary, mask_token=None),
        tf.keras.layers.Embedding(len(vocabulary) + 1, EMBEDDING_DIM),
    ]
    layers += [tf.keras.layers.Dense(size, activation=activation) for size in LAYER_SIZES]
    if head is not None:
        layers.append(tf.keras.layers.Dense(head[0], activation=head[1]))
    return tf.keras.Sequential(layers)


class ReferenceModel(tfrs.Model):
    """The tutorial's `MovielensModel`, on `{"user_id": str, "item_id": str}` batches."""

    def __init__(self, user_model: tf.keras.Model, movie_model: tf.keras.Model, movies: tf.data.Dataset) -> None:
        super().__init__()
        self.user_model = user_model
        self.movie_model = movie_model
        self.task = tfrs.tasks.Retrieval(
            metrics=tfrs.metrics.FactorizedTopK(candidates=movies.batch(128).map(movie_model))
        )

    def compute_loss(self, features, training: bool = False):
        return self.task(self.user_model(features["user_id"]), self.movie_model(features["item_id"]))


def to_dataset(frame: pd.DataFrame) -> tf.data.Dataset:
    """Rows of `{"user_id": str, "item_id": str}`, as the tutorial maps its ratings."""
    return tf.data.Dataset.from_tensor_slices(
        {"user_id": frame["user_id"].to_numpy(dtype=str), "item_id": frame["item_id"].to_numpy(dtype=str)}
    )


def test_batches(frame: pd.DataFrame) -> tf.data.Dataset:
    """The tutorial's `cached_test`: batches of 4096, cached."""
    return to_dataset(frame).batch(EVAL_BATCH_SIZE).cache()


def train_reference(
    architecture: str,
    train: pd.DataFrame,
    validation: pd.DataFrame | None,
    users: np.ndarray,
    movies: np.ndarray,
    epochs: int,
    seed: int = 42,
) -> tuple[ReferenceModel, EpochTimer]:
    """Builds and fits one reference model with Adagrad(0.1), batch 8192.

    Args:
        architecture: A key of `ARCHITECTURES`.
        train: Ratings frame (`user_id`, `item_id` as str) to fit on.
        validation: Rows evaluated after every epoch (`validation_data`), or None.
        users: Vocabulary of the user `StringLookup`.
        movies: Vocabulary of the movie `StringLookup`, and the candidate set.
        epochs: Passes over `train`.
        seed: Seeds weights and the shuffle.

    Returns:
        The fitted model and its epoch timer.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"`architecture` must be one of {sorted(ARCHITECTURES)}. Received: {architecture!r}")
    tf.keras.utils.set_random_seed(seed)
    candidates = tf.data.Dataset.from_tensor_slices(movies)
    model = ReferenceModel(make_tower(users, architecture), make_tower(movies, architecture), candidates)
    model.compile(optimizer=tf.keras.optimizers.Adagrad(learning_rate=0.1))
    cached_train = to_dataset(train).shuffle(100_000, seed=seed).batch(BATCH_SIZE).cache()
    cached_validation = test_batches(validation) if validation is not None and len(validation) else None
    timer = EpochTimer()
    model.fit(cached_train, validation_data=cached_validation, epochs=epochs, callbacks=[timer], verbose=0)
    return model, timer


def evaluate_reference(model: ReferenceModel, batches: tf.data.Dataset) -> dict[str, float]:
    """`model.evaluate` with its factorized top-k metrics, keys shortened to `factorized_top_{k}`."""
    raw = model.evaluate(batches, return_dict=True, verbose=0)
    out: dict[str, float] = {}
    for key, value in raw.items():
        if key.startswith("factorized_top_k/top_"):
            out["factorized_top_" + key.split("top_")[-1].split("_")[0]] = float(value)
        else:
            out[key] = float(value)
    return out
