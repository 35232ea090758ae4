"""PEP 562 lazy exports: a package names what it offers and where it lives, and a name's module is imported
on first access, so importing the package stays light (no torch, matplotlib, ... until needed)."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """(__getattr__, __dir__) for `package`. exports: name -> module path, absolute or relative to the
    package ('metrics'); a path ending in '.<name>' exports the module itself."""

    def __getattr__(name: str):
        mod = exports.get(name)
        if mod is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = mod if mod.startswith(package.split(".")[0] + ".") or mod == package else f"{package}.{mod}"
        module = importlib.import_module(path)
        value = module if path.endswith("." + name) else getattr(module, name)
        namespace[name] = value  # later accesses skip __getattr__
        return value

    def __dir__():
        return sorted(list(namespace) + list(exports))

    return __getattr__, __dir__
