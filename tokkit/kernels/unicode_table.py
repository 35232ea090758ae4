"""Unicode character classes for the numba pre-tokenizers, taken from the `regex` module itself so the
kernels agree with `regex` on every code point (its Unicode database can differ from `unicodedata`'s).

One uint16 per code point (0x110000 entries, 2.2 MB), built in about 0.3 s from `regex` and cached on disk
under the cache folder, keyed by the `regex` version.
"""

from __future__ import annotations

import os

import numpy as np

L, N, WS, LU, LL, LT, LM, LO, M = 1, 2, 4, 8, 16, 32, 64, 128, 256
# bits 9-12: which contraction letter the code point matches case-insensitively (0: none)
FOLD_SHIFT = 9
FOLD_LETTERS = "strevmld"

_CLASSES = [(L, r"\p{L}"), (N, r"\p{N}"), (WS, r"\s"), (LU, r"\p{Lu}"), (LL, r"\p{Ll}"), (LT, r"\p{Lt}"),
            (LM, r"\p{Lm}"), (LO, r"\p{Lo}"), (M, r"\p{M}")]

_table: np.ndarray | None = None


def _cache_dir() -> str:
    base = os.environ.get("TOKKIT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tokkit")
    return base


def build_table() -> np.ndarray:
    import regex

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    table = np.zeros(0x110000, dtype=np.uint16)
    for bit, cls in _CLASSES:
        idx = [ord(m.group()) for m in regex.finditer(cls, every)]
        table[np.asarray(idx, dtype=np.int64)] |= bit
    for k, letter in enumerate(FOLD_LETTERS, start=1):
        idx = [ord(m.group()) for m in regex.finditer("(?i)" + letter, every)]
        table[np.asarray(idx, dtype=np.int64)] |= k << FOLD_SHIFT
    return table


def build_hf_table(base: np.ndarray) -> np.ndarray:
    """The classes as Hugging Face tokenizers' ByteLevel pre-tokenizer (Oniguruma, an older Unicode
    version) sees them: each code point that `regex` calls a letter, digit or space is probed through HF's
    GPT-2 split and reclassified; the letter subclasses are dropped where HF sees no letter."""
    from tokenizers import pre_tokenizers

    split = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True).pre_tokenize_str
    table = base.copy()
    probe = set(np.flatnonzero(base & (L | N | WS)).tolist()) | set(range(0x1C, 0x20)) | {0x180E, 0x200B, 0xFEFF}
    probe.discard(0x20)
    for c in sorted(probe):
        ch = chr(c)
        pieces = split("b" + ch + ch + "b")
        if len(pieces) == 1:
            cls = L
        elif len(pieces) == 4:
            cls = WS
        elif len(split("1" + ch)) == 1:
            cls = N
        else:
            cls = 0
        keep = table[c] & ~np.uint16(L | N | WS)
        if not cls & L:
            keep &= ~np.uint16(LU | LL | LT | LM | LO)
        table[c] = keep | cls
    return table


def class_table(source: str = "regex") -> np.ndarray:
    """The table, from the disk cache when possible. source: "regex" (the `regex` module's Unicode
    database, the reference of the pre-tokenizers) or "hf" (as HF tokenizers' GPT-2 split classifies
    characters: for identical merges on text holding characters of recent Unicode versions)."""
    if source == "hf":
        return _hf_table()
    if source != "regex":
        from ..errors import InputError

        raise InputError(f"unicode={source!r}: expected 'regex' or 'hf'")
    global _table
    if _table is not None:
        return _table
    import regex

    path = os.path.join(_cache_dir(), f"uniclass-{regex.__version__}.npy")
    table = None
    try:
        table = np.load(path)
        if table.shape != (0x110000,) or table.dtype != np.uint16:
            table = None
    except (OSError, ValueError):
        table = None
    if table is None:
        table = build_table()
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            np.save(tmp, table)
            os.replace(tmp + ".npy" if not tmp.endswith(".npy") else tmp, path)
        except OSError:
            pass  # a read-only cache folder only costs the rebuild next time
    _table = table
    return table


_hf: np.ndarray | None = None


def _hf_table() -> np.ndarray:
    global _hf
    if _hf is not None:
        return _hf
    import regex
    import tokenizers

    path = os.path.join(_cache_dir(), f"uniclass-hf-{tokenizers.__version__}-{regex.__version__}.npy")
    try:
        table = np.load(path)
    except (OSError, ValueError):
        table = build_hf_table(class_table())
        try:
            tmp = f"{path}.{os.getpid()}.tmp.npy"
            np.save(tmp, table)
            os.replace(tmp, path)
        except OSError:
            pass
    _hf = table
    return table
