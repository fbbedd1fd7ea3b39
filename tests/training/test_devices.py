"""`cpu_multiplies_bfloat16` reads the flags line of a /proc/cpuinfo-shaped file."""

from __future__ import annotations

import pytest

from movierec.training.devices import cpu_multiplies_bfloat16

CPUINFO = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 {extra}\nbugs\t\t: spectre_v1\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [("avx512f amx_bf16 amx_tile", True), ("avx512f avx512_bf16", True), ("avx512f avx512_vnni", False), ("", False)],
)
def test_bfloat16_units_are_read_from_the_flags_line(tmp_path, extra, expected):
    path = tmp_path / "cpuinfo"
    path.write_text(CPUINFO.format(extra=extra))
    assert cpu_multiplies_bfloat16(path) is expected


def test_no_flags_line_or_no_file_means_no_units(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nbugs\t\t: avx512_bf16\n")  # the name appears, but not among the flags
    assert cpu_multiplies_bfloat16(path) is False
    assert cpu_multiplies_bfloat16(tmp_path / "missing") is False
