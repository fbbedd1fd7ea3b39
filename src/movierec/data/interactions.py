"""Encoded interactions: the integer arrays that models and metrics consume."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec.data.vocab import Vocab

__all__ = ["Interactions"]


@dataclass(frozen=True)
class Interactions:
    """A set of (user, item, rating, timestamp) rows as integer-indexed arrays.

    Attributes:
        users: `[n]` int32 user indices.
        items: `[n]` int32 item indices.
        ratings: `[n]` float32 ratings.
        timestamps: `[n]` int64 Unix seconds.
        n_users: Size of the user vocabulary (not the number of distinct users here).
        n_items: Size of the item vocabulary (the candidate set).

    Example:
        >>> x = Interactions.from_arrays([0, 1], [1, 0], n_users=2, n_items=2)
        >>> x.to_csr().toarray().tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    n_users: int
    n_items: int

    @classmethod
    def from_arrays(cls, users, items, ratings=None, timestamps=None, *, n_users: int, n_items: int):
        users = np.asarray(users, dtype=np.int32)
        items = np.asarray(items, dtype=np.int32)
        n = len(users)
        ratings = np.ones(n, np.float32) if ratings is None else np.asarray(ratings, np.float32)
        timestamps = np.zeros(n, np.int64) if timestamps is None else np.asarray(timestamps, np.int64)
        return cls(users, items, ratings, timestamps, int(n_users), int(n_items))

    @classmethod
    def from_frame(cls, ratings: pd.DataFrame, vocab: Vocab) -> "Interactions":
        """Encodes a canonical ratings frame; raises `UnknownIdError` on ids outside `vocab`."""
        return cls.from_arrays(
            vocab.user_index(ratings["user_id"]),
            vocab.item_index(ratings["item_id"]),
            ratings["rating"].to_numpy(),
            ratings["timestamp"].to_numpy(),
            n_users=vocab.n_users,
            n_items=vocab.n_items,
        )

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, mask_or_index) -> "Interactions":
        """Rows selected by a boolean mask or an index array, same vocabulary sizes."""
        return Interactions(
            self.users[mask_or_index],
            self.items[mask_or_index],
            self.ratings[mask_or_index],
            self.timestamps[mask_or_index],
            self.n_users,
            self.n_items,
        )

    def concat(self, other: "Interactions") -> "Interactions":
        """Rows of `self` followed by rows of `other` (same vocabulary)."""
        if (self.n_users, self.n_items) != (other.n_users, other.n_items):
            raise ValueError("cannot concatenate interactions over different vocabularies")
        return Interactions(
            np.concatenate([self.users, other.users]),
            np.concatenate([self.items, other.items]),
            np.concatenate([self.ratings, other.ratings]),
            np.concatenate([self.timestamps, other.timestamps]),
            self.n_users,
            self.n_items,
        )

    def to_csr(self, *, binary: bool = True) -> sp.csr_matrix:
        """`[n_users, n_items]` sparse matrix; 1.0 per observed pair (or the rating)."""
        values = np.ones(len(self), np.float32) if binary else self.ratings
        matrix = sp.csr_matrix((values, (self.users, self.items)), shape=(self.n_users, self.n_items), dtype=np.float32)
        if binary:
            matrix.data[:] = 1.0  # duplicates summed above: keep it binary
        return matrix

    def time_order(self) -> np.ndarray:
        """Row positions sorted by (user, time); rows with equal timestamps keep their order.

        The one order every sequence reader uses (histories, next-movie windows, the order check). Ties
        keep row order because a split holds out the *later row* on equal timestamps (and held-out rows
        are appended after the training rows): on MovieLens 1M half of consecutive ratings share a second,
        so any other tie-break puts a user's held-out movie somewhere else in their sequence.

        Example:
            >>> Interactions.from_arrays([1, 0, 0, 0], [7, 9, 3, 5], timestamps=[0, 2, 2, 1], n_users=2,
            ...     n_items=10).time_order().tolist()
            [3, 1, 2, 0]
        """
        return np.lexsort((self.timestamps, self.users))

    def item_counts(self) -> np.ndarray:
        """`[n_items]` number of interactions per item."""
        return np.bincount(self.items, minlength=self.n_items)

    def user_counts(self) -> np.ndarray:
        """`[n_users]` number of interactions per user."""
        return np.bincount(self.users, minlength=self.n_users)
