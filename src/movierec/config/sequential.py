"""Configuration of the sequential model kind: a user is their latest movies in time order.

Read by `movierec.models.sequential` only; kept here so that presets and saved runs load without
TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from movierec._checks import check_finite_fields, check_non_negative
from movierec.config.loss import LossConfig
from movierec.errors import ConfigError

__all__ = ["SequentialConfig"]


@dataclass(frozen=True)
class SequentialConfig:
    """A SASRec-style next-movie model: causal self-attention over the last `max_length` movies.

    Every position of a user's sequence is trained to predict the movie after it (so one pass over a
    sequence trains on all of its movies), the query of a user is the output at their latest movie,
    and a movie's vector is the same embedding the encoder reads (input and output shared, as in
    SASRec). The defaults are the SASRec+ recipe of Klenitskiy & Vasilev (RecSys 2023): a softmax over
    the whole catalogue (`loss.kind = "full"`), 2 blocks, 1 head, the last 200 movies.

    Example:
        >>> SequentialConfig(max_length=50).loss.kind
        'full'
    """

    kind: Literal["sequential"] = "sequential"
    name: str = "sequential"  # run and report name
    embedding_dim: int = 64  # width of the movie embeddings and of every block
    max_length: int = 200  # the latest N movies of a user are read (and trained on, in windows of N)
    blocks: int = 2  # self-attention blocks (attention + feed-forward, pre-norm, residual)
    heads: int = 1  # attention heads per block; must divide embedding_dim
    dropout: float = 0.2  # on the movie embeddings, attention weights and feed-forward outputs
    activation: Literal["relu", "gelu", "swish"] = "relu"  # of the feed-forward layers
    # "sasrec": residual blocks as in SASRec; "ligr": each residual scaled by a sigmoid gate of the running
    # sequence and a gated linear unit as feed-forward (LiGR's layer, eSASRec's; pair with activation "swish")
    block: Literal["sasrec", "ligr"] = "sasrec"
    feed_forward_multiplier: int = 1  # hidden width of the feed-forward layers, in multiples of embedding_dim
    l2_normalize: bool = False  # unit-length query and movie vectors (cosine scores); pair with a temperature
    temperature: float | None = None  # divides every logit of the loss (None = 1)
    loss: LossConfig = field(default_factory=lambda: LossConfig(kind="full"))  # which negatives (see LossConfig)
    # where the movie embeddings start: "random" (Keras' uniform start) or "svd" (the top singular vectors of the
    # binary user x movie matrix of the training ratings, at the same spread; `models/sequential/warm_start.py`)
    item_init: Literal["random", "svd"] = "random"
    # what an epoch trains on: "all" cuts every user's whole history into windows of max_length targets (a
    # user with 1,000 movies weighs 5 times one with 200); "latest" keeps each user's latest window only
    # (SASRec's sampling: every user once per epoch, as every user is once in a leave-last-out test)
    windows: Literal["all", "latest"] = "all"
    # a position's target is one of the next `target_window` movies of the user, drawn uniformly each epoch
    # (1: the very next movie, SASRec's target); wider windows teach what the user watches soon
    target_window: int = 1
    # Training overrides; None uses the experiment's TrainConfig value. batch_size counts target movies.
    epochs: int | None = None
    batch_size: int | None = None
    # a small set's batches shrink to give at least this many optimizer steps per epoch (0: the batch_size as
    # given); at 4,096 targets MovieLens 100k would train 24 steps an epoch, MovieLens 1M 243
    min_batches_per_epoch: int = 0
    learning_rate: float | None = None
    learning_rate_schedule: Literal["constant", "cosine"] | None = None
    optimizer: str | None = None
    early_stopping_patience: int | None = None
    average_epochs: float | None = None  # see TrainConfig.average_epochs

    def __post_init__(self) -> None:
        check_finite_fields(self)
        steps = self.min_batches_per_epoch
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ConfigError(f"min_batches_per_epoch should be a non-negative integer. Received: {steps!r}")
        for name in ("embedding_dim", "max_length", "blocks", "heads", "target_window", "feed_forward_multiplier"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} should be a positive integer. Received: {value!r}")
        if self.embedding_dim % self.heads:
            raise ConfigError(f"heads must divide embedding_dim. Received: {self.heads!r} and {self.embedding_dim!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1). Received: {self.dropout!r}")
        if self.activation not in ("relu", "gelu", "swish"):
            raise ConfigError(f"activation must be relu, gelu or swish. Received: {self.activation!r}")
        if self.block not in ("sasrec", "ligr"):
            raise ConfigError(f"block must be 'sasrec' or 'ligr'. Received: {self.block!r}")
        if self.item_init not in ("random", "svd"):
            raise ConfigError(f"item_init must be 'random' or 'svd'. Received: {self.item_init!r}")
        if self.windows not in ("all", "latest"):
            raise ConfigError(f"windows must be 'all' or 'latest'. Received: {self.windows!r}")
        if self.average_epochs is not None:
            check_non_negative(self.average_epochs, "average_epochs")
        if self.temperature is not None and not self.temperature > 0:
            raise ConfigError(f"temperature must be > 0. Received: {self.temperature!r}")
        if not isinstance(self.loss, LossConfig):
            raise ConfigError(f"loss must be a LossConfig. Received: {self.loss!r}")
