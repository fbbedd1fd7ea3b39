"""Movie vectors to start the sequential model from: a truncated SVD of who watched what.

The model's movie embeddings are both what the encoder reads and what the softmax scores, and a random
start leaves the first epochs to find which movies go together. The top singular vectors of the binary
user x movie matrix of the training ratings already say that (movies watched by the same users are
close), so the encoder starts from a sensible catalogue. Only the direction comes from the data: the
vectors are rescaled to the spread of Keras' default embedding start, so the encoder's and the
softmax's first steps see values of the size they would otherwise.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from movierec.data.interactions import Interactions

__all__ = ["KERAS_EMBEDDING_STD", "svd_item_vectors"]

# Keras' default `Embedding` start, uniform on [-0.05, 0.05]: its standard deviation
KERAS_EMBEDDING_STD = 0.05 / np.sqrt(3.0)


def svd_item_vectors(data: Interactions, dim: int, std: float = KERAS_EMBEDDING_STD) -> np.ndarray:
    """`[n_items, dim]` float32: right singular vectors of the binary user x movie matrix, times sqrt(singular value).

    The largest `min(dim, min(n_users, n_items) - 1)` components, scaled so that every entry together has
    standard deviation `std`; the other columns (when the data is smaller than `dim`) and the rows of movies
    nobody watched are 0. Deterministic: ARPACK starts from a fixed vector, and each component's sign is set
    so that its largest entry is positive. Where singular values repeat (data made of identical blocks), the
    vectors of their subspace are any of its bases, as with every SVD; real ratings have distinct ones.

    Example:
        >>> data = Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 0, 1, 2], n_users=3, n_items=3)
        >>> [round(float(v), 4) + 0.0 for v in svd_item_vectors(data, 1)[:, 0]]  # movies 0 and 1 together, 2 apart
        [0.0612, 0.0612, 0.0]
    """
    shape = (data.n_users, data.n_items)
    matrix = sp.csr_matrix((np.ones(len(data.users)), (data.users, data.items)), shape=shape)
    matrix.data[:] = 1.0  # a movie rated twice by one user is one watch
    vectors = np.zeros((data.n_items, dim), np.float64)
    k = min(dim, min(shape) - 1)
    if k >= 1 and matrix.nnz:
        start = np.full(min(shape), 1.0 / np.sqrt(min(shape)))
        _, values, rows = svds(matrix, k=k, v0=start)  # rows: [k, n_items] (v0 has the smaller side's length)
        order = np.argsort(-values)
        parts = rows[order].T * np.sqrt(np.maximum(values[order], 0.0))
        flip = np.sign(parts[np.abs(parts).argmax(axis=0), np.arange(k)])
        vectors[:, :k] = parts * np.where(flip == 0, 1.0, flip)
    spread = vectors.std()
    return (vectors * (std / spread if spread > 0 else 0.0)).astype(np.float32)
