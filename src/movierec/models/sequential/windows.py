"""Next-movie training windows of the sequential kind, as a `tf.data` pipeline.

A user's movies in time order are cut into windows of at most `length` targets; in a window,
position `t` reads the movies up to `t` and is trained to predict the movie after it.
"""

from __future__ import annotations

import numpy as np

from movierec._env import import_tensorflow
from movierec.data.interactions import Interactions
from movierec.training.pipeline import DataEpoch, epoch_seeds, prefetched

tf, tfrs = import_tensorflow()

__all__ = ["sequence_windows", "make_sequence_dataset"]


def sequence_windows(
    data: Interactions, length: int, latest_only: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user's movies in time order, cut into next-movie windows of at most `length` targets.

    Rows are ordered by `Interactions.time_order` (ties keep row order), as `build_history` orders them. Every
    row but a user's first is the target of exactly one window; the windows of a user are cut from
    their latest movie backwards, so the most recent targets see the longest context. With
    `latest_only`, each user keeps only that latest window: every user counts once per epoch
    (SASRec's sampling), however long their history.

    Returns:
        `(flat [n] int32 item indices in that order, begins [w] int64, ends [w] int64)`: window `j`
        has targets `flat[begins[j]:ends[j]]`, each predicted from the movies before it in the
        window, `flat[begins[j] - 1:ends[j] - 1]` (so its first target sees one movie).

    Example:
        >>> train = Interactions.from_arrays([0, 0, 0, 1], [5, 6, 7, 8], timestamps=[3, 1, 2, 0], n_users=2, n_items=9)
        >>> flat, begins, ends = sequence_windows(train, length=4)
        >>> flat.tolist(), begins.tolist(), ends.tolist()
        ([6, 7, 5, 8], [1], [3])
    """
    order = data.time_order()
    users = data.users[order]
    first = np.searchsorted(users, np.arange(data.n_users))
    last = np.searchsorted(users, np.arange(data.n_users), side="right")
    n_windows = np.maximum(last - first - 1, 0) // length + ((np.maximum(last - first - 1, 0) % length) > 0)
    owner = np.repeat(np.arange(data.n_users), n_windows)
    back = np.arange(len(owner)) - np.repeat(np.cumsum(n_windows) - n_windows, n_windows)  # 0 = the latest window
    ends = last[owner] - back * length
    begins = np.maximum(first[owner] + 1, ends - length)
    if latest_only:
        begins, ends = begins[back == 0], ends[back == 0]
    return data.items[order].astype(np.int32), begins.astype(np.int64), ends.astype(np.int64)


def make_sequence_dataset(
    data: Interactions,
    length: int,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    latest_only: bool = False,
    target_window: int = 1,
    epoch: DataEpoch | None = None,
):
    """`tf.data` pipeline of next-movie batches `{"sequence", "next": [windows, T] int32}` (`sequence_windows`).

    Tokens are item indices + 1 (0 pads, on the left); `next[:, t]` is the movie after `sequence[:, t]`,
    and both are 0 at the same padding positions. Each epoch shuffles the windows, sorts them by length
    (stable: random among equal lengths) and cuts them into batches of about `batch_size` targets, then
    shuffles the batches: windows of one batch have similar lengths, so T (the batch's longest window,
    <= `length`) wastes little on padding. Only the flat item array and two bounds per window are held,
    never a table of every user's history.

    With `target_window` W > 1 (training batches only), the target of a position is drawn uniformly
    from the next `min(W, movies left)` movies of the same user instead of the very next one: the model
    learns what the user watches in the near future, not only the movie that happens to come next.

    Raises:
        ValueError: if no user has two training movies (there is nothing to predict).
    """
    flat, begins, ends = sequence_windows(data, length, latest_only)
    if len(begins) == 0:
        raise ValueError("next-movie training needs a user with at least two training movies; found none")
    items = tf.constant(flat)
    order_users = data.users[data.time_order()]
    user_end = np.searchsorted(order_users, order_users, side="right")  # flat index past each row's user's last
    room = tf.constant((user_end - np.arange(len(flat))).astype(np.int64))  # movies from this one to the user's end
    window = int(target_window) if shuffle else 1
    bounds = tf.constant(np.stack([begins, ends], axis=1))
    sizes = tf.constant(ends - begins)
    offsets = tf.range(-length - 1, 0, dtype=tf.int64)  # token positions relative to a window's end

    def window_batch(windows, target_seed=None):
        begin, end = tf.unstack(tf.gather(bounds, windows), axis=1)
        positions = end[:, None] + offsets[None, :]  # [w, length + 1]: inputs are [:, :-1], targets [:, 1:]
        valid = positions[:, 1:] >= begin[:, None]
        tokens = tf.gather(items, tf.maximum(positions, 0)) + 1
        size = tf.reduce_max(end - begin)
        targets = tokens[:, 1:]
        if window > 1 and target_seed is not None:
            at = tf.maximum(positions[:, 1:], 0)
            reach = tf.minimum(tf.gather(room, at), window)  # >= 1 at every valid target
            draw = tf.random.stateless_uniform(tf.shape(at), seed=target_seed, dtype=tf.float32)
            step = tf.cast(draw * tf.cast(reach, tf.float32), tf.int64)
            targets = tf.gather(items, at + tf.minimum(step, reach - 1)) + 1
        return {
            "sequence": tf.where(valid, tokens[:, :-1], 0)[:, length - size :],
            "next": tf.where(valid, targets, 0)[:, length - size :],
        }

    def batches(order, batch_seed):
        by_size = tf.gather(order, tf.argsort(tf.gather(sizes, order), stable=True))
        number = tf.cumsum(tf.gather(sizes, by_size), exclusive=True) // batch_size  # batch of each window
        first = tf.concat([[0], tf.where(number[1:] != number[:-1])[:, 0] + 1], axis=0)
        cuts = tf.stack([first, tf.concat([first[1:], tf.shape(by_size, out_type=tf.int64)], axis=0)], axis=1)
        if batch_seed is None:
            return tf.data.Dataset.from_tensor_slices(cuts).map(lambda cut: window_batch(by_size[cut[0] : cut[1]]))
        cuts = tf.random.experimental.stateless_shuffle(cuts, seed=batch_seed)
        return (
            tf.data.Dataset.from_tensor_slices(cuts)
            .enumerate()
            .map(lambda i, cut: window_batch(by_size[cut[0] : cut[1]], tf.stack([batch_seed[0], i + 2])))
        )

    n_windows = len(begins)
    if not shuffle:
        return prefetched(batches(tf.range(n_windows, dtype=tf.int64), None))

    def one_epoch(epoch_seed):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n_windows, dtype=tf.int64), seed=tf.stack([epoch_seed, 0])
        )
        return batches(order, tf.stack([epoch_seed, 1]))

    seeds = epoch_seeds(seed, epoch)  # by (seed, epoch) when `epoch` is given: a resumed run repeats the orders
    # the cuts depend on the sorted window lengths only, so every epoch has this many batches
    sorted_sizes = np.sort(ends - begins)
    n_batches = len(np.unique((np.cumsum(sorted_sizes) - sorted_sizes) // batch_size))
    return prefetched(seeds.flat_map(one_epoch).apply(tf.data.experimental.assert_cardinality(n_batches)))
