"""Optional dependencies: one import helper that turns a missing package into one clear error line."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import TokkitError


class MissingExtraError(TokkitError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module: str, extra: str, *, purpose: str = "") -> ModuleType:
    """Import `module`, or raise MissingExtraError saying `pip install 'tokkit[extra]'`."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        what = f" (needed {purpose})" if purpose else ""
        raise MissingExtraError(f"{module.split('.')[0]} is not installed{what}: pip install 'tokkit[{extra}]'"
                                f" ({e.msg if hasattr(e, 'msg') else e})") from None
