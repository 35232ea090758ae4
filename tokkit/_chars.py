"""Characters of a str as numpy code points, and which of them are whitespace: the vectorised form of
regular expressions over characters (`\\s`, `[ \\t\\n]`), for the layers that read token offsets."""

from __future__ import annotations

import numpy as np

# str.isspace (what \s matches in a str pattern) of each code point up to U+3001; none above U+3000 is a
# space (a test checks all of Unicode), so larger code points read the last entry, False
SPACE_BELOW = 0x3002
_space_table: list[np.ndarray] = []


def code_points(text: str) -> np.ndarray:
    """(len(text),) uint32: each character's code point (a lone surrogate too), indexed as the str is."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def is_space(cp: np.ndarray) -> np.ndarray:
    """str.isspace of each code point: bool, the shape of cp."""
    if not _space_table:
        _space_table.append(np.array([chr(i).isspace() for i in range(SPACE_BELOW)] + [False]))
    return _space_table[0][np.minimum(cp, SPACE_BELOW)]
