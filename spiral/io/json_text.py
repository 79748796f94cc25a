"""JSON every parser takes: NaN and infinities written as null, numpy scalars as numbers."""

from __future__ import annotations

import json
import math


def strict_json(data: object, indent: int | None = 2) -> str:
    """Return data as JSON that every parser takes: NaN and infinities become null."""
    return json.dumps(_finite(data), indent=indent, allow_nan=False, default=str)


def _finite(data: object) -> object:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {str(k): _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    if hasattr(data, "item") and callable(data.item):  # a numpy scalar
        return _finite(data.item())
    return data
