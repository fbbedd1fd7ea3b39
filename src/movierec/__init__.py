"""movierec: movie recommendations with TensorFlow Recommenders.

Importing this package sets `TF_USE_LEGACY_KERAS=1` (see `movierec._env`), so
import it before TensorFlow.
"""

from movierec import _env  # noqa: F401  (must run before TensorFlow is imported)

__version__ = "0.1.0"
__all__ = ["__version__"]
