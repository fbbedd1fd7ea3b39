"""A causal self-attention encoder of a user's movies in time order (SASRec-style).

Position `t` of the output depends only on the movies at positions `<= t` (a causal mask, with
padding masked out as keys), so one pass over a sequence gives a query for every prefix of it:
that is how the "sequence" user tower trains on every next movie at once, and why a new user's
query is simply the output at their latest movie.

Sequences are left-padded (item index + 1, 0 = padding, most recent last) and positions are
counted from the right end, so the latest movie always has position `length - 1`, however many
movies precede it. A batch may therefore drop its all-padding columns without changing any output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from movierec._env import import_tensorflow

tf, tfrs = import_tensorflow()

__all__ = ["SequenceEncoder", "causal_mask"]


def causal_mask(valid):
    """`[batch, T, T]` bool: query position `t` may attend to key `s` iff `s <= t` and `s` is a movie.

    Args:
        valid: `[batch, T]` bool, False at padding.
    """
    size = tf.shape(valid)[1]
    lower = tf.cast(tf.linalg.band_part(tf.ones([size, size]), -1, 0), tf.bool)
    return tf.logical_and(lower[None, :, :], valid[:, None, :])


class SequenceEncoder(tf.keras.layers.Layer):  # type: ignore[name-defined]  # tf is imported at run time
    """Movie embeddings + learned positions -> pre-norm causal self-attention blocks -> layer norm.

    Args:
        n_items: Number of movies (token `i + 1` is movie `i`; token 0 pads).
        dim: Width of the embeddings and of every block.
        length: Longest sequence read; longer ones keep their latest `length` movies.
        blocks: Number of (self-attention, feed-forward) blocks.
        heads: Attention heads per block (`dim` must be a multiple).
        dropout: Rate on the embeddings, the attention weights and each block's outputs.
        activation: Of the feed-forward layer.
        item_embedding: An `Embedding(n_items (+1), dim)` to share (e.g. the movie tower's), or None.
        regularizer: L2 penalty on a new item embedding table, or None.

    Call args:
        sequence: `[batch, T]` int tokens, T <= `length` (or longer: the latest `length` are kept).
        training: Whether dropout is active.

    Returns:
        `[batch, T', dim]`, T' = min(T, length); zero at padding positions.

    Example:
        >>> encoder = SequenceEncoder(n_items=100, dim=32, length=50)  # doctest: +SKIP
        >>> encoder(tf.constant([[0, 0, 5, 9, 2]])).shape  # doctest: +SKIP
        TensorShape([1, 5, 32])
    """

    def __init__(
        self,
        n_items: int,
        dim: int,
        length: int,
        blocks: int = 2,
        heads: int = 1,
        dropout: float = 0.0,
        activation: str = "relu",
        item_embedding: Any = None,
        regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dim = dim
        self.length = length
        self.item_embedding = item_embedding or tf.keras.layers.Embedding(
            n_items, dim, embeddings_regularizer=regularizer, name="item_embedding"
        )
        self.position_embedding = tf.keras.layers.Embedding(length, dim, name="position_embedding")
        self.input_dropout = tf.keras.layers.Dropout(dropout, seed=101)
        self.attention_norms, self.attentions, self.feed_norms, self.feed_forwards = [], [], [], []
        for b in range(blocks):
            self.attention_norms.append(tf.keras.layers.LayerNormalization(epsilon=1e-6, name=f"attention_norm_{b}"))
            self.attentions.append(
                tf.keras.layers.MultiHeadAttention(heads, dim // heads, dropout=dropout, name=f"attention_{b}")
            )
            self.feed_norms.append(tf.keras.layers.LayerNormalization(epsilon=1e-6, name=f"feed_norm_{b}"))
            self.feed_forwards.append(
                tf.keras.Sequential(
                    [
                        tf.keras.layers.Dense(dim, activation=None if activation == "linear" else activation),
                        tf.keras.layers.Dense(dim),
                        tf.keras.layers.Dropout(dropout, seed=1000 + b),
                    ],
                    name=f"feed_forward_{b}",
                )
            )
        self.output_norm = tf.keras.layers.LayerNormalization(epsilon=1e-6, name="output_norm")
        self._scale = float(np.sqrt(dim))

    def call(self, sequence, training=False):
        sequence = tf.cast(sequence, tf.int32)[:, -self.length :]
        size = tf.shape(sequence)[1]
        valid = sequence > 0
        keep = tf.cast(valid, tf.float32)[:, :, None]
        positions = tf.range(self.length - size, self.length)
        x = self.item_embedding(tf.maximum(sequence - 1, 0)) * self._scale + self.position_embedding(positions)[None]
        x = self.input_dropout(x, training=training) * keep
        mask = causal_mask(valid)
        for norm, attention, feed_norm, feed_forward in zip(
            self.attention_norms, self.attentions, self.feed_norms, self.feed_forwards
        ):
            h = norm(x)
            x = x + attention(h, h, attention_mask=mask, training=training)
            x = (x + feed_forward(feed_norm(x), training=training)) * keep
        return self.output_norm(x) * keep
