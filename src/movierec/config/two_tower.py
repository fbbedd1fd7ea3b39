"""Configuration of a two-tower TFRS retrieval model.

Model 1 and Model 2 of the original report, and every improved model, are
instances of `TwoTowerConfig` (see `movierec.experiments.presets`), not subclasses.
It lives here, not in `movierec.models`, so that presets and saved configs can be read
without loading TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from movierec._checks import check_finite_fields
from movierec.config.loss import LossConfig
from movierec.errors import ConfigError

__all__ = ["TwoTowerConfig", "USER_FEATURES", "ITEM_FEATURES", "ACTIVATIONS"]

USER_FEATURES = ("age", "gender", "occupation", "history", "time")
ITEM_FEATURES = ("genres", "year")
ACTIVATIONS = ("relu", "swish", "gelu", "tanh", "sigmoid", "softmax", "linear", "elu")


@dataclass(frozen=True)
class TwoTowerConfig:
    """A user (query) tower and a movie (candidate) tower trained with `tfrs.tasks.Retrieval`.

    Each tower: id embedding (+ optional side features, concatenated) -> dense layers
    -> optional head layer -> optional L2 normalisation.

    Example:
        >>> TwoTowerConfig(name="mf", layer_sizes=()).output_dim
        32
    """

    kind: Literal["two_tower"] = "two_tower"
    name: str = "two_tower"  # run and report name
    embedding_dim: int = 32  # size of the user-id and movie-id embeddings
    layer_sizes: tuple[int, ...] = (64, 32)  # dense layers after the embeddings; () = plain factorisation
    activation: str = "relu"  # activation of the dense layers
    activate_last: bool = True  # apply `activation` to the last dense layer too
    head_size: int | None = None  # extra final dense layer (Model 2: 32 units with softmax)
    head_activation: str | None = None  # activation of that head layer
    l2_normalize: bool = False  # unit-length embeddings (cosine scores); pair with a temperature < 1
    temperature: float | None = None  # softmax temperature of the retrieval loss (None = 1)
    dropout: float = 0.0  # dropout after each hidden dense layer
    l2_regularization: float = 0.0  # L2 penalty on embedding tables
    user_id_embedding: bool = True  # False: the user tower sees only features/history (new users = known users)
    user_features: tuple[str, ...] = ()  # from USER_FEATURES: demographics and/or "history"
    item_features: tuple[str, ...] = ()  # from ITEM_FEATURES
    feature_dim: int = 8  # embedding size of each categorical side feature (= embedding_dim with "sum")
    # "concat": side features are concatenated to the id embedding (needs dense layers to mix them);
    # "sum": each is embedded at embedding_dim and added to it, so a plain factorisation can use them
    feature_combiner: Literal["concat", "sum"] = "concat"
    history_length: int = 50  # last N training movies pooled into the user tower ("history")
    history_dropout: float = 0.0  # share of history movies hidden at random in each training step
    # "time": the rating time as quantile buckets (embedded) plus a normalised scalar ("sum": the buckets only,
    # since a scalar cannot be added to a vector without a dense layer)
    time_buckets: int = 20
    # when a query is asked ("time" feature, at recommendation time): "user" at each user's latest training
    # rating, "now" at the end of the training data for everyone (what users watch next, in time);
    # "validation" decides: "now" where most of the validation slice comes after the latest training rating,
    # and elsewhere the rating time is left out (it is not the question's time)
    query_time: Literal["user", "now", "validation"] = "user"
    popularity_correction: bool = False  # logQ correction: pass candidate_sampling_probability
    logq_exponent: float = 1.0  # logQ uses probability ** exponent; > 1 over-corrects popularity (1.25 measured best)
    output_l2: float = 0.0  # L2 penalty on the raw user and movie vectors of each batch (summed, like the loss)
    # Count the latest ratings more where tastes drift: each of the latest `recent_share` of the training
    # ratings (by time) appears 1 + `recent_repeats` times per epoch. "validation" decides before training:
    # on if the validation movies are likelier under the weighted stream's movie frequencies.
    recency: Literal["off", "on", "validation"] = "off"
    recent_share: float = 0.3
    recent_repeats: int = 2
    # which negatives the retrieval softmax uses: in-batch (logQ-corrected by popularity_correction), the
    # whole catalogue, a shared sample or gBCE (see LossConfig); num_hard_negatives and negatives="mixed"
    # refine the in-batch loss only
    loss: LossConfig = field(default_factory=LossConfig)
    num_hard_negatives: int | None = None  # keep only the N hardest in-batch negatives
    negatives: Literal["in_batch", "mixed"] = "in_batch"  # "mixed": in-batch + every movie (mixed negative sampling)
    remove_accidental_hits: bool = False  # ignore in-batch negatives that are the positive movie (costs ~2x per step)
    # Ratings: a rating head on [user embedding, movie embedding] trained with tfrs.tasks.Ranking.
    retrieval_weight: float = 1.0  # weight of the retrieval loss (0: a pure rating-prediction model)
    rating_weight: float = 0.0  # weight of the rating (MSE) loss; > 0 adds the rating head (multitask)
    rating_layers: tuple[int, ...] = (64, 32)  # hidden layers of the rating head (relu)
    scoring: Literal["retrieval", "rating", "rerank"] = "retrieval"  # what score() ranks movies by
    rerank_top: int = 100  # with scoring="rerank": retrieve this many, then order them by predicted rating
    # Training overrides; None uses the experiment's TrainConfig value.
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    optimizer: str | None = None
    early_stopping_patience: int | None = None

    def __post_init__(self) -> None:
        check_finite_fields(self)
        for name in ("embedding_dim", "feature_dim", "time_buckets"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{name} should be a positive integer. Received: `{name}` = {value!r}")
        for name in ("head_size", "num_hard_negatives"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ConfigError(f"{name} should be a positive integer or unset. Received: `{name}` = {value!r}")
        for name in ("layer_sizes", "rating_layers"):
            sizes = getattr(self, name)
            if any(isinstance(size, bool) or not isinstance(size, int) or size <= 0 for size in sizes):
                raise ConfigError(f"{name} must all be positive integers. Received: `{name}` = {sizes!r}")
        for name in ("activation", "head_activation"):
            value = getattr(self, name)
            if value is not None and value not in ACTIVATIONS:
                raise ConfigError(f"{name} must be one of {ACTIVATIONS}. Received: {value!r}")
        bad = [f for f in self.user_features if f not in USER_FEATURES]
        if bad:
            raise ConfigError(f"user_features must be among {USER_FEATURES}. Received: {bad!r}")
        bad = [f for f in self.item_features if f not in ITEM_FEATURES]
        if bad:
            raise ConfigError(f"item_features must be among {ITEM_FEATURES}. Received: {bad!r}")
        if self.temperature is not None and self.temperature <= 0:
            raise ConfigError(f"temperature must be > 0. Received: {self.temperature!r}")
        if not 0.0 <= self.history_dropout < 1.0:
            raise ConfigError(f"history_dropout must be in [0, 1). Received: {self.history_dropout!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1). Received: {self.dropout!r}")
        if self.retrieval_weight < 0 or self.rating_weight < 0 or self.retrieval_weight + self.rating_weight <= 0:
            raise ConfigError(
                "retrieval_weight and rating_weight must be >= 0 with a positive sum. "
                f"Received: {self.retrieval_weight!r}, {self.rating_weight!r}"
            )
        if self.scoring not in ("retrieval", "rating", "rerank"):
            raise ConfigError(f"scoring must be retrieval, rating or rerank. Received: {self.scoring!r}")
        if self.scoring != "retrieval" and self.rating_weight <= 0:
            raise ConfigError(f"scoring={self.scoring!r} needs a rating head (rating_weight > 0)")
        if self.scoring == "retrieval" and self.retrieval_weight <= 0:
            raise ConfigError(
                "scoring='retrieval' needs retrieval_weight > 0; use scoring='rating' for a ranking model"
            )
        if self.rerank_top <= 0:
            raise ConfigError(f"rerank_top should be a positive integer. Received: {self.rerank_top!r}")
        if self.negatives not in ("in_batch", "mixed"):
            raise ConfigError(f"negatives must be 'in_batch' or 'mixed'. Received: {self.negatives!r}")
        if self.history_length <= 0:
            raise ConfigError(f"history_length should be a positive integer. Received: {self.history_length!r}")
        if not self.user_id_embedding and not self.user_features:
            raise ConfigError("user_id_embedding=False needs at least one user feature (e.g. 'history')")
        if self.feature_combiner not in ("concat", "sum"):
            raise ConfigError(f"feature_combiner must be 'concat' or 'sum'. Received: {self.feature_combiner!r}")
        if self.feature_combiner == "sum" and self.feature_dim != self.embedding_dim:
            raise ConfigError(
                "feature_combiner='sum' adds feature embeddings to the id embedding, so feature_dim must equal "
                f"embedding_dim. Received: {self.feature_dim!r} and {self.embedding_dim!r}"
            )
        if self.query_time not in ("user", "now", "validation"):
            raise ConfigError(f"query_time must be 'user', 'now' or 'validation'. Received: {self.query_time!r}")
        if self.query_time != "user" and "time" not in self.user_features:
            raise ConfigError(f"query_time = {self.query_time!r} needs the 'time' user feature (user_features)")
        if not self.logq_exponent >= 0 or not self.output_l2 >= 0:
            raise ConfigError(
                f"logq_exponent and output_l2 must be >= 0. Received: {self.logq_exponent!r}, {self.output_l2!r}"
            )
        if self.recency not in ("off", "on", "validation"):
            raise ConfigError(f"recency must be 'off', 'on' or 'validation'. Received: {self.recency!r}")
        if not 0.0 < self.recent_share <= 1.0:
            raise ConfigError(f"recent_share must be in (0, 1]. Received: {self.recent_share!r}")
        if isinstance(self.recent_repeats, bool) or not isinstance(self.recent_repeats, int) or self.recent_repeats < 1:
            raise ConfigError(f"recent_repeats should be a positive integer. Received: {self.recent_repeats!r}")
        if not isinstance(self.loss, LossConfig):
            raise ConfigError(f"loss must be a LossConfig. Received: {self.loss!r}")
        if self.loss.kind != "in_batch" and (self.num_hard_negatives is not None or self.negatives != "in_batch"):
            raise ConfigError(
                "num_hard_negatives and negatives='mixed' refine the in-batch loss; "
                f"loss.kind={self.loss.kind!r} chooses its own negatives"
            )
        has_features = bool(self.user_features or self.item_features)
        if has_features and not self.layer_sizes and self.head_size is None and self.feature_combiner == "concat":
            raise ConfigError("side features need at least one dense layer to project them (layer_sizes is empty)")

    @property
    def output_dim(self) -> int:
        """Size of the final user and movie embeddings."""
        if self.head_size is not None:
            return self.head_size
        return self.layer_sizes[-1] if self.layer_sizes else self.embedding_dim
