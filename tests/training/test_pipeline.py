"""`make_dataset`: the batches Keras trains on (known answers on a 7-row table)."""

from __future__ import annotations

import numpy as np

from movierec.data import Interactions
from movierec.training.pipeline import make_dataset

TRAIN = Interactions.from_arrays(
    [0, 0, 1, 1, 2, 2, 2], [3, 1, 4, 1, 5, 0, 2], ratings=[5, 4, 3, 2, 1, 2, 3], timestamps=[7, 6, 5, 4, 3, 2, 1],
    n_users=3, n_items=6,
)  # fmt: skip


def test_unshuffled_batches_are_the_rows_in_order():
    batches = list(make_dataset(TRAIN, batch_size=3, shuffle=False, seed=0))
    assert [len(b["user"]) for b in batches] == [3, 3, 1]
    joined = {name: np.concatenate([b[name].numpy() for b in batches]) for name in batches[0]}
    np.testing.assert_array_equal(joined["user"], TRAIN.users)
    np.testing.assert_array_equal(joined["item"], TRAIN.items)
    np.testing.assert_array_equal(joined["rating"], TRAIN.ratings)
    np.testing.assert_array_equal(joined["timestamp"], TRAIN.timestamps)


def test_each_epoch_is_a_new_permutation_of_every_row_and_the_same_for_the_same_seed():
    def epochs(seed):
        dataset = make_dataset(TRAIN, batch_size=3, shuffle=True, seed=seed)
        return [
            [(int(u), int(i)) for b in dataset for u, i in zip(b["user"].numpy(), b["item"].numpy())] for _ in range(3)
        ]

    rows = sorted(zip(TRAIN.users.tolist(), TRAIN.items.tolist()))
    first = epochs(seed=5)
    assert all(sorted(epoch) == rows for epoch in first)
    assert len({tuple(epoch) for epoch in first}) > 1  # reshuffled between epochs
    assert epochs(seed=5) == first


def test_pipelines_do_not_autotune():
    """Keras drops each epoch's iterator unfinished; with tf.data's autotuning thread running, that
    deletion waited up to a second per epoch (`benchmarks/default_model.py` shows the time)."""
    for dataset in (
        make_dataset(TRAIN, batch_size=3, shuffle=True, seed=0),
        make_dataset(TRAIN, batch_size=3, shuffle=False, seed=0),
    ):
        assert dataset.options().autotune.enabled is False
