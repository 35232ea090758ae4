"""Write docs/reference.md, the API reference, from the packages' public names (their `__all__` or lazy exports).

Every public function, class and constant of `tokkit`, `tokkit.corpora`, `tokkit.train`, `tokkit.analysis` and
`tokkit.dynamic` gets one mkdocstrings directive at the module that defines it; mkdocstrings renders its
Google-style docstring (Args / Returns / Raises, types from the annotations).

    python docs/gen_reference.py            # rewrite docs/reference.md
    python docs/gen_reference.py --check    # exit 1 when docs/reference.md is stale (the tests run this)
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# the documented packages; a name exported by several is documented in the first that exports it
PACKAGES = {
    "tokkit.corpora": "Corpora: documents, parallel corpora, word counts, splits.",
    "tokkit.train": "Training recipes and the artifacts they write.",
    "tokkit.analysis": "Metrics, premiums, sweeps, domain comparisons, plots.",
    "tokkit.dynamic": "Shortening sequences: batch merging, collators, merged embeddings.",
    "tokkit": "The top-level names not covered above: tokenizers, errors, extension, gates, pooling.",
}

HEADER = """# API reference

Generated from the packages' public names by `python docs/gen_reference.py` (the tests fail when it is stale);
each entry is rendered from its docstring. Every name below is importable from the package it is listed under
(for example `tokkit.corpora.read_documents`); the most used ones also from `tokkit` itself, imported lazily so
that `import tokkit` stays light.
"""


def public_names(package: str) -> list[str]:
    """The public names of a package: its `__all__`, else its lazy exports.

    Args:
        package: a dotted package name such as "tokkit.dynamic".

    Returns:
        The names, without modules and without `__version__`.
    """
    mod = importlib.import_module(package)
    names = getattr(mod, "__all__", None) or sorted(getattr(mod, "_EXPORTS", {}))
    return [n for n in names if not n.startswith("_") and not inspect.ismodule(getattr(mod, n))]


def home(package: str, name: str) -> str:
    """The dotted path mkdocstrings documents a public name at.

    Args:
        package: the package that exports the name.
        name: the exported name.

    Returns:
        `module.qualname` of the defining module for a function or class, else `package.name`.
    """
    obj = inspect.unwrap(getattr(importlib.import_module(package), name))
    if inspect.isfunction(obj) or inspect.isclass(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    return f"{package}.{name}"


def entries() -> dict[str, list[tuple[str, str]]]:
    """Each package's section: (name, home) pairs, a name in the first package that exports it.

    Returns:
        Package name -> sorted list of (public name, dotted home path).
    """
    seen: set[str] = set()
    out: dict[str, list[tuple[str, str]]] = {}
    for package in PACKAGES:
        rows = []
        for name in public_names(package):
            path = home(package, name)
            if path not in seen:
                seen.add(path)
                rows.append((name, path))
        out[package] = sorted(rows)
    return out


def render() -> str:
    """The text of docs/reference.md.

    Returns:
        Markdown with one `:::` directive per public name.
    """
    out = [HEADER]
    for package, rows in entries().items():
        out.append(f"## `{package}`\n\n{PACKAGES[package]}\n")
        for name, path in rows:
            out.append(f"::: {path}\n")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write or check docs/reference.md.

    Args:
        argv: command-line arguments; `--check` compares instead of writing.

    Returns:
        0 when written or current, 1 when `--check` finds it stale.
    """
    text = render()
    target = HERE / "reference.md"
    if "--check" in (argv if argv is not None else sys.argv[1:]):
        return 0 if target.exists() and target.read_text(encoding="utf-8") == text else 1
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
