"""Where the shared data lives: $TOKKIT_DATA (corpora) and $TOKKIT_TOKENIZERS (tokenizer files), else the
`shared/corpora` and `shared/tokenizers` folders beside the working directory or the source checkout.

A leaf module: `tokkit.corpora` and `tokkit.tokenizer` are both bottom layers and must not import each
other, so the one resolver of both variables lives here (`corpora.paths` re-exports the data part)."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputError


def _shared(sub: str) -> Path | None:
    # the checkout's root is the parent of this package; shared/ sits beside it (or beside the cwd)
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        p = base.parent / "shared" / sub
        if p.is_dir():
            return p
    return None


def data_root(required: bool = True) -> Path | None:
    """The data root: $TOKKIT_DATA (the folder holding udhr/, ntrex/, flores/ and domain/), else ../shared/corpora.

    Args:
        required: raise when there is none (a $TOKKIT_DATA that is not a folder always counts as none).

    Returns:
        The folder, or None when there is none and `required` is False.

    Raises:
        InputError: no data root and `required`.
    """
    env = os.environ.get("TOKKIT_DATA")
    if env:
        p = Path(env)
        if p.is_dir():
            return p
        if required:
            raise InputError(f"TOKKIT_DATA={env}: no such folder")
        return None
    p = _shared("corpora")
    if p is None and required:
        raise InputError("no corpora folder: set TOKKIT_DATA to the folder holding udhr/, ntrex/ and domain/")
    return p


def data_path(*parts: str) -> str:
    """A path under the data root.

    Args:
        *parts: path components below the root.

    Returns:
        The path, as a string.

    Raises:
        InputError: there is no data root.
    """
    return str(data_root().joinpath(*parts))


def tokenizers_root() -> Path | None:
    """$TOKKIT_TOKENIZERS, else ../shared/tokenizers; None when neither is a folder."""
    env = os.environ.get("TOKKIT_TOKENIZERS")
    if env:
        return Path(env) if Path(env).is_dir() else None
    return _shared("tokenizers")
