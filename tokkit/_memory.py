"""Returning freed memory to the operating system between the phases of a long job."""

from __future__ import annotations

import ctypes
import sys
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc only; musl has no such function
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Give the heap pages freed by the last phase back to the OS. glibc keeps them after the kernels free
    their tables (its mmap threshold grows with every large free), so the next phase (building the
    tokenizer) would otherwise stack on top of the previous phase's dead arrays."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
