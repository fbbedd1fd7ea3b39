"""What the machine's processor can do, read once: used to settle `"auto"` choices of a model's arithmetic."""

from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["BFLOAT16_FLAGS", "cpu_multiplies_bfloat16"]

# Linux /proc/cpuinfo flags of units that multiply bfloat16 matrices natively (Intel AMX, AVX-512 BF16 on
# Intel and AMD Zen 4): without them TensorFlow converts bfloat16 to float32 and gains nothing
BFLOAT16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


@functools.cache
def cpu_multiplies_bfloat16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether the CPU lists a bfloat16 matrix unit among its flags (False where `cpuinfo` cannot be read).

    Example:
        >>> cpu_multiplies_bfloat16("/nonexistent")
        False
    """
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return not BFLOAT16_FLAGS.isdisjoint(value.split())
    return False
