"""The project's exceptions.

Every error a user can cause (bad files, unknown ids, wrong arguments) is a
`MovierecError`; the CLI prints its message on one line and exits non-zero.
Anything else escaping to the CLI is a bug.
"""

from __future__ import annotations

__all__ = [
    "MovierecError",
    "DataError",
    "ConfigError",
    "UnknownIdError",
    "ModelDirError",
    "ModelFitError",
    "NotFittedError",
    "NotExplainableError",
]


class MovierecError(Exception):
    """Base class of the errors a user can cause; the message is shown as is."""


class DataError(MovierecError):
    """A data file or source is missing, malformed or fails its checksum."""


class ConfigError(MovierecError):
    """A configuration value or argument is invalid."""


class UnknownIdError(MovierecError):
    """A user or item id is not known to the model or dataset."""


class ModelDirError(MovierecError):
    """A directory does not hold a model saved by movierec."""


class ModelFitError(MovierecError):
    """Fitting produced an unusable model (e.g. NaN or infinite factors)."""


class NotFittedError(MovierecError):
    """A recommender was asked to score or recommend before `fit` (or `load_recommender`)."""


class NotExplainableError(MovierecError):
    """A recommender was asked why it recommends a movie, and its kind cannot say (no `explain`)."""
