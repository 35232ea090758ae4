"""Errors tokkit raises for bad input: each names the file, position or argument at fault."""

from __future__ import annotations


class TokkitError(Exception):
    """Base class of every error tokkit raises on purpose."""


class InputError(TokkitError, ValueError):
    """Input that tokkit cannot use: a missing file, an unknown format, a bad argument."""


class DecodeError(InputError):
    """Bytes that are not valid UTF-8, with the file and the byte offset where decoding failed."""

    def __init__(self, path: str, offset: int, reason: str):
        self.path, self.offset, self.reason = path, offset, reason
        super().__init__(
            f"{path}: invalid UTF-8 at byte offset {offset} ({reason}); "
            "pass errors='replace' (CLI: --replace-invalid) to substitute U+FFFD instead"
        )


class EmptyInputError(InputError):
    """Reading and filtering left nothing to work on."""
