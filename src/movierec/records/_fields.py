"""Reading a JSON object field by field, with one clear line when a field is missing or of the wrong type."""

from __future__ import annotations

from typing import Any

from movierec.errors import DataError

__all__ = ["MISSING", "field_of", "object_of", "numbers_of", "curves_of"]

MISSING: Any = object()  # `field_of`'s default: the field is required


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def object_of(value: Any, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else a `DataError` naming `where`."""
    if not isinstance(value, dict):
        raise DataError(f"{where} must be a JSON object. Received: {_type_name(value)}")
    return value


def field_of(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = MISSING) -> Any:
    """`data[key]` checked to be a `kind` (None allowed only as a default); `default` if absent.

    Raises:
        DataError: `"<where>: field 'key' ..."`, saying what is missing or what was received.
    """
    if key not in data:
        if default is MISSING:
            raise DataError(f"{where}: field {key!r} is missing")
        return default
    value = data[key]
    if value is None and default is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # JSON has one number type: an int is a valid float, but a bool is not a number here
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise DataError(f"{where}: field {key!r} must be {names}. Received: {_type_name(value)} {value!r:.60}")
    return value


def numbers_of(value: Any, where: str) -> dict[str, float]:
    """A JSON object of numbers (metrics) as `{name: float}`; null values are kept out."""
    data = object_of(value, where)
    out = {}
    for key, number in data.items():
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise DataError(f"{where}: {key!r} must be a number. Received: {_type_name(number)} {number!r:.60}")
        out[key] = float(number)
    return out


def curves_of(value: Any, where: str) -> dict[str, list[float]]:
    """A JSON object of per-epoch curves as `{name: [float, ...]}`."""
    data = object_of(value, where)
    curves = {}
    for key, values in data.items():
        if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
            raise DataError(f"{where}: {key!r} must be a list of numbers. Received: {values!r:.60}")
        curves[key] = [float(v) for v in values]
    return curves
