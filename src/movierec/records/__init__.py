"""Records that cross layers, typed: what a fit decided, a compare run's `results.json`, a model's `model.json`.

Each is a frozen dataclass with `to_dict`/`from_dict`; each file has one writer and reads through here
(older files included: fields added later have defaults, a malformed one fails with one `DataError` line).
Plain Python only: no numpy, no TensorFlow, nothing above `movierec.config`.
"""

from movierec.records.decisions import (
    BlendRecord,
    CandidateResult,
    ChoiceRecord,
    FitDecisions,
    OrderDecision,
    PrecisionDecision,
    QueryTimeDecision,
    RecencyDecision,
    SelectionRecord,
)
from movierec.records.fit import EpochSearch, FitRecord
from movierec.records.model_meta import MODEL_FORMAT, ModelMeta
from movierec.records.results import RACE_PREFIX, ModelResult, RunResults, SplitSizes, load_results

__all__ = [
    "CandidateResult",
    "BlendRecord",
    "ChoiceRecord",
    "FitDecisions",
    "OrderDecision",
    "PrecisionDecision",
    "QueryTimeDecision",
    "RecencyDecision",
    "SelectionRecord",
    "EpochSearch",
    "FitRecord",
    "MODEL_FORMAT",
    "ModelMeta",
    "RACE_PREFIX",
    "ModelResult",
    "RunResults",
    "SplitSizes",
    "load_results",
]
