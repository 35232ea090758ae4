"""Optional dependencies: one import helper that turns a missing package into one clear error line."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import TokkitError

# import name -> the name pip installs, where they differ
_DISTRIBUTIONS = {"google": "protobuf"}


class MissingExtraError(TokkitError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


def require(module: str, extra: str, *, purpose: str = "") -> ModuleType:
    """Import `module`, or raise MissingExtraError saying `pip install 'tokkit[extra]'`."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        top = module.split(".")[0]
        what = f" (needed {purpose})" if purpose else ""
        why = " ".join(str(getattr(e, "msg", None) or e).split())  # one line, whatever the importer said
        raise MissingExtraError(f"{_DISTRIBUTIONS.get(top, top)} is not installed{what}: "
                                f"pip install 'tokkit[{extra}]' ({why})") from None
