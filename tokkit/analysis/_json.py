"""JSON-safe results: NaN and infinities (masked premiums, sizes never reached) become null, as strict JSON
readers (jq, JavaScript, Go) reject the bare NaN that Python's json module writes."""

from __future__ import annotations

import math


def jsonable(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return jsonable(obj.item())
    return obj
