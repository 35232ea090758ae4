"""Characters of a str as numpy code points, the character classes of regular expressions on them (`\\s`,
`[ \\t\\n]`), and character spans as arrays: the vectorised forms of per-character Python loops, for the
layers that read text and token offsets."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain
from typing import Sequence

import numpy as np

# the classes are tabulated up to U+3001; no member of those used in tokkit lies above U+3000 (a test checks
# all of Unicode), so larger code points read the last entry, False
SPACE_BELOW = 0x3002


def code_points(text: str) -> np.ndarray:
    """(len(text),) uint32: each character's code point (a lone surrogate too), indexed as the str is."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@lru_cache(maxsize=None)
def _class_table(pattern: str) -> np.ndarray:
    rx = re.compile(pattern)
    return np.array([rx.fullmatch(chr(i)) is not None for i in range(SPACE_BELOW)] + [False])


def in_class(cp: np.ndarray, pattern: str) -> np.ndarray:
    """Whether each code point is a member of the one-character class `pattern` (e.g. r"[ \\t\\n]"): bool,
    the shape of cp. Only for classes with no member above U+3000."""
    return _class_table(pattern)[np.minimum(cp, SPACE_BELOW)]


def is_space(cp: np.ndarray) -> np.ndarray:
    """str.isspace of each code point (what \\s matches in a str pattern): bool, the shape of cp."""
    return in_class(cp, r"\s")


def spans_array(spans: Sequence[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """(n, 2) int64 of (start, end) spans, e.g. token offsets: from a list of pairs in one pass (np.asarray
    inspects each pair: 2.3x slower)."""
    if isinstance(spans, np.ndarray):
        return spans.astype(np.int64, copy=False).reshape(-1, 2)
    return np.fromiter(chain.from_iterable(spans), dtype=np.int64, count=2 * len(spans)).reshape(-1, 2)
