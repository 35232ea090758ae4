"""Where the shared corpora live: $TOKKIT_DATA, else ../shared/corpora beside the working directory or
the source checkout."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError


def data_root(required: bool = True) -> Path | None:
    env = os.environ.get("TOKKIT_DATA")
    if env:
        p = Path(env)
        if p.is_dir():
            return p
        if required:
            raise InputError(f"TOKKIT_DATA={env}: no such folder")
        return None
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        p = base.parent / "shared" / "corpora"
        if p.is_dir():
            return p
    if required:
        raise InputError("no corpora folder: set TOKKIT_DATA to the folder holding udhr/, ntrex/ and domain/")
    return None


def data_path(*parts: str) -> str:
    return str(data_root().joinpath(*parts))
