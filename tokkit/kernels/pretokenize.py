"""Pre-tokenization over UTF-8 bytes in numba: the GPT-2 and GPT-4o (o200k) split patterns reproduced
exactly (the same pieces as the `regex` module's findall), a whitespace split, none, and SuperBPE's
stage-2 split (its matches and the text between them, as HF's Split "isolated" gives).

Each pattern is a hand-written matcher that follows the regex engine's order: alternatives left to right,
greedy quantifiers that back off one step at a time. Character classes come from `unicode_table`, built
from `regex` itself. The plain reference is `pretokenize_reference` (the `regex` module); tests compare the
two on arbitrary Unicode.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .split_patterns import ISOLATED, PATTERN_IDS, PATTERNS, check_pattern  # noqa: F401  (re-exported)
from .unicode_table import FOLD_SHIFT, LL, LM, LO, LT, LU, WS, L, M, N, class_table

_X = LU | LT | LM | LO | M  # [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
_Y = LL | LM | LO | M  # [\p{Ll}\p{Lm}\p{Lo}\p{M}]
_LN = L | N
_WLN = WS | L | N
_F_S, _F_T, _F_R, _F_E, _F_V, _F_M, _F_L, _F_D = 1, 2, 3, 4, 5, 6, 7, 8


@nb.njit(inline="always")
def _cp(buf, i, end):
    """(code point, index after it) of the UTF-8 character at i; a stray byte reads as itself."""
    b = np.int32(buf[i])
    if b < 0x80 or i + 1 >= end:
        return b, i + 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int32(buf[i + 1]) & 0x3F), i + 2
    if b < 0xF0:
        if i + 2 >= end:
            return b, i + 1
        return ((b & 0x0F) << 12) | ((np.int32(buf[i + 1]) & 0x3F) << 6) | (np.int32(buf[i + 2]) & 0x3F), i + 3
    if i + 3 >= end:
        return b, i + 1
    c = ((b & 0x07) << 18) | ((np.int32(buf[i + 1]) & 0x3F) << 12) | ((np.int32(buf[i + 2]) & 0x3F) << 6) \
        | (np.int32(buf[i + 3]) & 0x3F)
    if c >= 0x110000:
        return b, i + 1
    return c, i + 4


@nb.njit(inline="always")
def _run(buf, i, end, table, mask, inside=True, most=-1):
    """End of the run of characters in class `mask` (outside it when not inside) starting at i, at most
    `most` characters long (-1: unbounded; \\p{N}{1,3} after its first digit is `most=2`)."""
    while i < end and most != 0:
        c, j = _cp(buf, i, end)
        if ((table[c] & mask) != 0) != inside:
            break
        i = j
        most -= 1
    return i


@nb.njit(inline="always")
def _ws_tail(buf, i, end, table):
    """`\\s+(?!\\S)|\\s+` at a whitespace character i."""
    last = i
    n = 0
    j = i
    while j < end:
        c, k = _cp(buf, j, end)
        if not (table[c] & WS):
            break
        last = j
        n += 1
        j = k
    if j == end or n < 2:
        return j
    return last


@nb.njit(inline="always")
def _letter(table, c, ignore_case):
    """Which contraction letter c is (_F_S .. _F_D, in the order of FOLD_LETTERS; 0: none): with
    ignore_case any character that `regex` folds to one of them, else only the lowercase ASCII letter."""
    if not ignore_case and not 97 <= c <= 122:
        return 0
    return (table[c] >> FOLD_SHIFT) & 15


@nb.njit
def _contraction(buf, e, end, table, ignore_case):
    """End after an optional 's 't 're 've 'm 'll 'd at e."""
    if e + 1 >= end or buf[e] != 39:
        return e
    c2, k = _cp(buf, e + 1, end)
    f2 = _letter(table, c2, ignore_case)
    if f2 == _F_S or f2 == _F_T or f2 == _F_M or f2 == _F_D:
        return k
    if (f2 == _F_R or f2 == _F_V or f2 == _F_L) and k < end:
        c3, k3 = _cp(buf, k, end)
        f3 = _letter(table, c3, ignore_case)
        if (f2 == _F_L and f3 == _F_L) or (f2 != _F_L and f3 == _F_E):
            return k3
    return e


@nb.njit
def _next_gpt2(buf, i, end, table):
    c, j = _cp(buf, i, end)
    if c == 39 and j < end:  # 's|'t|'re|'ve|'m|'ll|'d
        k = _contraction(buf, i, end, table, False)
        if k > i:
            return k
    cl = table[c]
    if c == 32 and j < end:  # ' ?' then a class run
        c2, _ = _cp(buf, j, end)
        cl2 = table[c2]
        if cl2 & L:
            return _run(buf, j, end, table, L)
        if cl2 & N:
            return _run(buf, j, end, table, N)
        if not (cl2 & _WLN):
            return _run(buf, j, end, table, _WLN, False)
    if cl & L:
        return _run(buf, i, end, table, L)
    if cl & N:
        return _run(buf, i, end, table, N)
    if not (cl & WS):
        return _run(buf, i, end, table, _WLN, False)
    return _ws_tail(buf, i, end, table)


@nb.njit
def _o200k_alt1(buf, q, end, table):
    """[X]*[Y]+C? from q: X* backs off to the last position whose character is in Y."""
    p = -1
    pos = q
    while pos < end:
        c, nxt = _cp(buf, pos, end)
        cl = table[c]
        if cl & _Y:
            p = pos
        if not (cl & _X):
            break
        pos = nxt
    if p < 0:
        return -1
    return _contraction(buf, _run(buf, p, end, table, _Y), end, table, True)


@nb.njit
def _o200k_alt2(buf, q, end, table):
    """[X]+[Y]*C? from q."""
    if q >= end:
        return -1
    c, _ = _cp(buf, q, end)
    if not (table[c] & _X):
        return -1
    e = _run(buf, _run(buf, q, end, table, _X), end, table, _Y)
    return _contraction(buf, e, end, table, True)


@nb.njit
def _next_gpt4o(buf, i, end, table):
    c, j = _cp(buf, i, end)
    cl = table[c]
    is_p = (not (cl & _LN)) and c != 13 and c != 10  # [^\r\n\p{L}\p{N}]
    if is_p:
        r = _o200k_alt1(buf, j, end, table)
        if r >= 0:
            return r
    r = _o200k_alt1(buf, i, end, table)
    if r >= 0:
        return r
    if is_p:
        r = _o200k_alt2(buf, j, end, table)
        if r >= 0:
            return r
    r = _o200k_alt2(buf, i, end, table)
    if r >= 0:
        return r
    if cl & N:  # \p{N}{1,3}
        return _run(buf, j, end, table, N, True, 2)
    e = -1
    if c == 32 and j < end:  # ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
        c2, _ = _cp(buf, j, end)
        if not (table[c2] & _WLN):
            e = _run(buf, j, end, table, _WLN, False)
    if e < 0 and not (cl & _WLN):
        e = _run(buf, i, end, table, _WLN, False)
    if e >= 0:
        while e < end and (buf[e] == 13 or buf[e] == 10 or buf[e] == 47):
            e += 1
        return e
    # c is whitespace: \s*[\r\n]+ ends after the last \r or \n of the run
    k = i
    last_nl = -1
    while k < end:
        c2, k2 = _cp(buf, k, end)
        if not (table[c2] & WS):
            break
        if c2 == 13 or c2 == 10:
            last_nl = k2
        k = k2
    if last_nl >= 0:
        return last_nl
    return _ws_tail(buf, i, end, table)


@nb.njit
def _next_whitespace(buf, i, end, table):
    c, j = _cp(buf, i, end)
    if c == 32 and j < end:
        c2, _ = _cp(buf, j, end)
        if not (table[c2] & WS):
            return _run(buf, j, end, table, WS, False)
    if not (table[c] & WS):
        return _run(buf, i, end, table, WS, False)
    return _ws_tail(buf, i, end, table)


@nb.njit
def _super_match(buf, i, end, table):
    """End of a match of the superword pattern at i, or -1."""
    c, j = _cp(buf, i, end)
    cl = table[c]
    if cl & N:  # \p{N}{1,3}
        return _run(buf, j, end, table, N, True, 2)
    # ' ?[^\s\p{L}\p{N}]{2,}[\r\n/]*'
    q = -1
    if c == 32 and j < end:
        q = j
    elif not (cl & _WLN):
        q = i
    if q >= 0:
        c2, k = _cp(buf, q, end)
        if not (table[c2] & _WLN) and k < end:
            c3, _ = _cp(buf, k, end)
            if not (table[c3] & _WLN):
                e = _run(buf, q, end, table, _WLN, False)
                while e < end and (buf[e] == 13 or buf[e] == 10 or buf[e] == 47):
                    e += 1
                return e
    if c == 32:  # ' +(?!\S)'
        e = i
        while e < end and buf[e] == 32:
            e += 1
        if e == end:
            return e
        c2, _ = _cp(buf, e, end)
        if table[c2] & WS:
            return e
        if e - i >= 2:
            return e - 1
    return -1


@nb.njit
def _next_superword(buf, i, end, table):
    m = _super_match(buf, i, end, table)
    if m >= 0:
        return m
    # a gap: text up to where the next match starts
    _, j = _cp(buf, i, end)
    while j < end and _super_match(buf, j, end, table) < 0:
        _, j = _cp(buf, j, end)
    return j


@nb.njit
def next_piece(buf, i, end, pattern, table):
    """End (exclusive byte offset) of the piece that starts at i, for a document ending at `end`."""
    if pattern == 1:
        return _next_gpt2(buf, i, end, table)
    if pattern == 2:
        return _next_gpt4o(buf, i, end, table)
    if pattern == 3:
        return _next_whitespace(buf, i, end, table)
    if pattern == 4:
        return _next_superword(buf, i, end, table)
    return end


@nb.njit(cache=True, nogil=True)
def piece_bounds(buf, bounds, pattern, table):
    """Piece start offsets (int64) over documents buf[bounds[d]:bounds[d+1]]; the last entry is the end."""
    out = np.empty(max(16, buf.shape[0] // 2), dtype=np.int64)
    n = 0
    for d in range(bounds.shape[0] - 1):
        i = bounds[d]
        end = bounds[d + 1]
        while i < end:
            if n + 1 >= out.shape[0]:
                grown = np.empty(out.shape[0] * 2, dtype=np.int64)
                grown[:n] = out[:n]
                out = grown
            out[n] = i
            n += 1
            i = next_piece(buf, i, end, pattern, table)
    out[n] = bounds[-1] if bounds.shape[0] else 0
    return out[:n + 1].copy()


def pretokenize(text: str, pattern: str = "gpt2", *, unicode: str = "regex") -> list[str]:
    """Split text into pre-tokenization pieces with the numba matcher (the same pieces as
    `pretokenize_reference`; with unicode="hf", as HF tokenizers' classes of characters give)."""
    pid = check_pattern(pattern)
    data = text.encode("utf-8", "surrogatepass")
    if not data:
        return []
    buf = np.frombuffer(data, dtype=np.uint8)
    starts = piece_bounds(buf, np.array([0, len(data)], dtype=np.int64), pid, class_table(unicode))
    return [data[starts[k]:starts[k + 1]].decode("utf-8", "surrogatepass") for k in range(len(starts) - 1)]


def pretokenize_reference(text: str, pattern: str = "gpt2") -> list[str]:
    """The `regex` module's findall with the pattern: what the numba matcher must reproduce."""
    import regex

    check_pattern(pattern)
    if PATTERNS[pattern] is None:
        return [text] if text else []
    if pattern in ISOLATED:
        out, last = [], 0
        for m in regex.finditer(PATTERNS[pattern], text):
            if m.start() > last:
                out.append(text[last:m.start()])
            out.append(m.group())
            last = m.end()
        if last < len(text):
            out.append(text[last:])
        return out
    return regex.findall(PATTERNS[pattern], text)
