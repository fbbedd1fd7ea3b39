"""Set up the Keras 2 environment before TensorFlow is imported.

TFRS 0.7.7 only works with Keras 2 (the `tf-keras` package). TensorFlow 2.16+
defaults `tf.keras` to Keras 3 unless `TF_USE_LEGACY_KERAS=1` is set *before*
TensorFlow is first imported, so this module is imported by `movierec/__init__`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide oneDNN / CUDA banners
# TensorFlow's CPU tensors come from malloc by default: every large temporary (the [batch, batch]
# logits of the in-batch softmax) is fresh mmap'd memory, page-faulted in and handed back each step.
# Its best-fit-with-coalescing pool (as on GPUs) reuses them: a batch-8192 step of the report's
# models takes 0.55 s instead of 1.0 s, half of which was system time (benchmarks/README.md).
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silences file descriptor 2 while TensorFlow's C++ runtime starts.

    TF 2.21 prints oneDNN / CUDA / absl banners from C++ before any log level applies;
    they would break the CLI's promise of one error line on stderr. Python exceptions
    raised meanwhile still propagate normally.
    """
    if os.environ.get("MOVIEREC_TF_STARTUP_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (e.g. captured by a test runner)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow() -> tuple[Any, Any]:
    """Import TensorFlow and TFRS, checking that Keras 2 is in use.

    Returns:
        The `(tensorflow, tensorflow_recommenders)` modules.

    Raises:
        ImportError: if `tf.keras` is Keras 3 (the variable was set too late).
    """
    if os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise ImportError(
            "movierec needs TF_USE_LEGACY_KERAS=1 (TFRS 0.7.7 refuses Keras 3); "
            f"got TF_USE_LEGACY_KERAS={os.environ.get('TF_USE_LEGACY_KERAS')!r}."
        )
    with _quiet_stderr():
        import tensorflow as tf  # noqa: PLC0415

    keras_module = tf.keras.layers.Dense.__module__
    if not keras_module.startswith("tf_keras"):
        raise ImportError(
            f"tf.keras resolves to {keras_module.split('.')[0]}, but TFRS needs Keras 2 (tf-keras). "
            "Import movierec before tensorflow, or set TF_USE_LEGACY_KERAS=1."
        )
    import tensorflow_recommenders as tfrs  # noqa: PLC0415
    from absl import logging as absl_logging  # noqa: PLC0415

    absl_logging.set_verbosity(absl_logging.WARNING)  # checkpoint saving logs every shard at INFO
    tf.get_logger().setLevel("ERROR")  # Keras' "non-serializable objects" warnings on SavedModel export

    return tf, tfrs
