"""The request and response shapes of the HTTP API, as documented in `/openapi.json`.

Responses are built as plain lists and dicts and serialised by orjson (never validated
against these models on the way out); the models describe them for the schema and the
schemathesis test, and `NewUserRequest` validates request bodies the fast path does not take.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from movierec.ranking import DEFAULT_K
from movierec.serving.engine import EXPLAIN_TOP, HISTORY_SHOWN

__all__ = [
    "MAX_K", "MAX_LIKED", "MAX_SEARCH", "MAX_QUERY", "TopK", "ErrorDetail", "HealthResponse", "RankedItem",
    "Recommendations", "SimilarMovies", "NewUserRequest", "ItemInfo", "DataSummary", "ModelInfo", "Reason",
    "HistoryItem",
]  # fmt: skip

MAX_K = 1000  # the largest top-k a request may ask for
MAX_SEARCH = 100  # the most titles one `/items` search returns
MAX_LIKED = 1000  # the most movies one new user may name
MAX_QUERY = 200  # the longest title search

# strict: a JSON `k` is an integer, never "5", 5.0 or true
TopK = Annotated[
    int,
    Field(ge=1, le=MAX_K, strict=True, description=f'number of movies, 1..{MAX_K}, a JSON integer (not 5.0 or "5")'),
]


class ErrorDetail(BaseModel):
    detail: str = Field(description="what was wrong, in one line")


class HealthResponse(BaseModel):
    status: str = Field(description='always "ok" when the model is loaded')
    model: str = Field(description="model name from model.json (preset or baseline) of the first served model")
    users: int = Field(description="users known to the model")
    items: int = Field(description="movies the model can recommend")


class Reason(BaseModel):
    item_id: str = Field(description="a movie of the user's history")
    title: str
    weight: float = Field(description="how much it raises the recommended movie's score, in score units (> 0)")


class RankedItem(BaseModel):
    rank: int = Field(description="1 for the best movie")
    item_id: str
    title: str
    score: float = Field(description="model score; higher is better, comparable within one response only")
    because: list[Reason] | None = Field(
        default=None,
        description="with explain: the user's movies that raise this movie's score most, strongest first "
        f"(at most {EXPLAIN_TOP}); empty when none does (or when the list is ranked by popularity)",
    )


class HistoryItem(BaseModel):
    item_id: str
    title: str


class Recommendations(BaseModel):
    user_id: str | None = Field(description="the known user, or null for a new user")
    items: list[RankedItem]
    explanation: Literal["exact", "similarity", "leave_one_out", "popularity", "blend"] | None = Field(
        default=None,
        description="with explain: how `because` was measured: exact (EASE, ALS: the score's own terms), "
        "similarity (two-tower: an approximation by movie-vector similarity), leave_one_out (sequential: the "
        "score drop without the movie), popularity (the list is ranked by popularity; `because` names none), "
        "blend (a blend of two models: each member's own contributions, scaled as the blend scales its scores)",
    )
    history: list[HistoryItem] | None = Field(
        default=None,
        description=f"with explain: the user's movies the explanation reads, latest first where the model "
        f"keeps their order (sequential; else by index), at most {HISTORY_SHOWN}",
    )


class SimilarMovies(BaseModel):
    item_id: str = Field(description="the movie asked about")
    title: str
    items: list[RankedItem] = Field(description="the most similar other movies, best first")


class NewUserRequest(BaseModel):
    liked: list[str] = Field(
        min_length=1, max_length=MAX_LIKED, description=f"ids of movies the new user liked (1..{MAX_LIKED}; excluded)"
    )
    k: TopK = DEFAULT_K
    explain: bool = Field(
        default=False, strict=True, description="add `because` (the liked movies that raise its score) to each movie"
    )


class ItemInfo(BaseModel):
    item_id: str
    title: str
    genres: str = Field(description="'|'-separated genres")


class DataSummary(BaseModel):
    dataset: str | None = Field(description="the training data's summary line from model.json, if recorded")
    users: int = Field(description="users known to the model")
    items: int = Field(description="movies the model can recommend")
    ratings: int | None = Field(description="ratings in the training data set, if model.json records it")


class ModelInfo(BaseModel):
    name: str = Field(description="the name in URLs: /models/{name}/...")
    model: str = Field(description="the model's own name from model.json (preset or baseline)")
    kind: str = Field(description="popularity, ease, als, two_tower, sequential or auto")
    default: bool = Field(description="whether the unprefixed routes (/users/..., /recommendations, ...) serve it")
    config: dict[str, Any] = Field(description="the model config from model.json")
    train: dict[str, Any] | None = Field(description="the training budget from model.json, if recorded")
    data: DataSummary
    metrics: dict[str, Any] | None = Field(
        description="validation metrics recorded while training (the epoch search of models with early "
        "stopping: chosen_epochs, validation_curve); null when none were recorded. Model directories "
        "store no test metrics (see `movierec evaluate`)."
    )
