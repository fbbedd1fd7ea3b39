"""Configuration of the retrieval loss: which negatives each positive movie is compared against.

Shared by every TFRS model kind (`TwoTowerConfig.loss`, `SequentialConfig.loss`) and read by one
class, `movierec.models.losses.RetrievalTask`. Kept here so that configs load without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from movierec._checks import check_finite_fields
from movierec.errors import ConfigError

__all__ = ["LossConfig", "LOSSES"]

LOSSES = ("in_batch", "full", "sampled", "gbce")


@dataclass(frozen=True)
class LossConfig:
    """The retrieval loss of a TFRS model.

    * `in_batch`: softmax over the batch's own positives (TFRS `Retrieval`'s default), logQ-corrected
      when the model asks for it; cheap, but popular movies are over-sampled as negatives.
    * `full`: softmax over every movie of the catalogue (the true movie against all the others).
    * `sampled`: softmax over the true movie and `negatives` movies drawn once per batch and shared by
      every query (uniformly, or from a mix with the movies' frequencies), logQ-corrected, a drawn
      negative equal to the positive removed.
    * `gbce`: gSASRec's generalised binary cross-entropy (Petrov & Macdonald, 2023) over the same
      shared uniform negatives: `-beta log sigmoid(s+) - sum log(1 - sigmoid(s-))`, with
      `beta = alpha (t (1 - 1/alpha) + 1/alpha)`, `alpha = negatives / (n_items - 1)`, `t = calibration`.

    Example:
        >>> LossConfig(kind="sampled", negatives=1000).negatives
        1000
    """

    kind: Literal["in_batch", "full", "sampled", "gbce"] = "in_batch"
    negatives: int = 256  # sampled / gbce: movies drawn per batch, shared by all its queries
    sampler: Literal["uniform", "popularity"] = "uniform"  # sampled: how the negatives are drawn
    popularity_share: float = 0.5  # sampler="popularity": share drawn by frequency, the rest uniformly
    calibration: float = 0.75  # gbce's t in [0, 1]: 0 is plain binary cross-entropy, 1 fully calibrated
    # full: the type the catalogue's `[queries, movies]` logits are multiplied in. "bfloat16" rounds queries and
    # movies to bfloat16 for the matrix products of the softmax and its gradient (sums, the loss and the weights
    # stay float32): 2.5x faster where the CPU has bfloat16 units (AMX, AVX-512 BF16), slower where it has none.
    # "auto" takes bfloat16 on such a CPU and float32 elsewhere.
    logits_dtype: Literal["float32", "bfloat16", "auto"] = "float32"

    def __post_init__(self) -> None:
        check_finite_fields(self, "loss.")
        if self.kind not in LOSSES:
            raise ConfigError(f"loss.kind must be one of {LOSSES}. Received: {self.kind!r}")
        if isinstance(self.negatives, bool) or not isinstance(self.negatives, int) or self.negatives <= 0:
            raise ConfigError(f"loss.negatives should be a positive integer. Received: {self.negatives!r}")
        if self.sampler not in ("uniform", "popularity"):
            raise ConfigError(f"loss.sampler must be 'uniform' or 'popularity'. Received: {self.sampler!r}")
        if not 0.0 <= self.popularity_share <= 1.0:
            raise ConfigError(f"loss.popularity_share must be in [0, 1]. Received: {self.popularity_share!r}")
        if not 0.0 <= self.calibration <= 1.0:
            raise ConfigError(f"loss.calibration must be in [0, 1]. Received: {self.calibration!r}")
        if self.logits_dtype not in ("float32", "bfloat16", "auto"):
            raise ConfigError(
                f"loss.logits_dtype must be 'float32', 'bfloat16' or 'auto'. Received: {self.logits_dtype!r}"
            )
        if self.logits_dtype != "float32" and self.kind != "full":
            raise ConfigError(f"loss.logits_dtype = {self.logits_dtype!r} applies to loss.kind = 'full' only")
        if self.kind == "gbce" and self.sampler != "uniform":
            raise ConfigError("loss.kind='gbce' is calibrated for uniform negatives: set loss.sampler = 'uniform'")

    @property
    def shares_negatives(self) -> bool:
        """Whether the batch's queries are scored against a shared set of drawn movies (sampled, gbce)."""
        return self.kind in ("sampled", "gbce")
