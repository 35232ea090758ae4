"""Domain terms as real BPE merges.

KL3M adds its terms after training as AddedTokens. Those are matched before the model runs, anywhere in the
text: "null" is cut out of "nullify" and "annulled", and the space before every term becomes a lone token.
Here a term is instead (1) one pre-token, matched only where it stands as a whole unit (see
`patterns.term_branch`), with its leading space inside it like any other word, and (2) one token of the BPE
model, reached by merges: after training, each term's pre-token is segmented by the learnt merges and the
remaining pieces are joined left to right by appended merges. Appended merges rank after every learnt merge,
so they never change how any other word is segmented, only finish the terms; the vocabulary budget is kept
exact by training fewer merges (see `fit_terms`).
"""

from __future__ import annotations

import os
from typing import Iterable, Sequence

from ..errors import InputError

_INF = float("inf")


def read_terms(terms: str | os.PathLike | Iterable[str] | None) -> list[str]:
    """Terms from a file (one per line) or a list. Empty lines and duplicates are errors, named by line."""
    if terms is None:
        return []
    if isinstance(terms, (str, os.PathLike)):
        path = os.fspath(terms)
        if not os.path.isfile(path):
            raise InputError(f"{path}: terms file not found")
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                raw = fh.read()
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: invalid UTF-8 at byte offset {e.start}") from None
        lines = raw.split("\n")
        if lines and lines[-1] == "":  # the final newline ends the last line; it is not an empty line
            lines.pop()
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
        where = [f"{path}:{i + 1}" for i in range(len(lines))]
    else:
        lines = list(terms)
        where = [f"terms[{i}]" for i in range(len(lines))]
    seen: dict[str, str] = {}
    for w, t in zip(where, lines):
        if not isinstance(t, str):
            raise InputError(f"{w}: expected a string, got {type(t).__name__}")
        if not t.strip():
            raise InputError(f"{w}: empty term (remove the empty line)")
        if t != t.strip():
            raise InputError(f"{w}: term {t!r} has leading or trailing whitespace")
        if t in seen:
            raise InputError(f"{w}: duplicate term {t!r} (first at {seen[t]})")
        seen[t] = w
    if not lines and isinstance(terms, (str, os.PathLike)):
        raise InputError(f"{os.fspath(terms)}: the terms file is empty")
    return lines


def bpe_segment(symbols: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Apply merges by rank (lowest first, leftmost occurrence first), as tokenizers' BPE model does."""
    symbols = list(symbols)
    while len(symbols) > 1:
        best, at = _INF, -1
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]), _INF)
            if r < best:
                best, at = r, i
        if at < 0:
            break
        symbols[at:at + 2] = [symbols[at] + symbols[at + 1]]
    return symbols


def chain_merges(targets: Sequence[Sequence[str]], merges: list[tuple[str, str]],
                 vocab: set[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """The merges to append so that every target (a sequence of initial symbols) becomes one token.

    Returns (appended merges, new tokens). Each target is segmented with every merge so far, including those
    appended for earlier targets, so one target's merges cannot undo another's.
    """
    ranks = {m: i for i, m in enumerate(merges)}
    n0 = len(merges)
    extra: list[tuple[str, str]] = []
    new_tokens: list[str] = []
    have = set(vocab)
    for t in targets:
        seg = bpe_segment(list(t), ranks)
        while len(seg) > 1:
            pair = (seg[0], seg[1])
            ranks[pair] = n0 + len(extra)
            extra.append(pair)
            tok = pair[0] + pair[1]
            if tok not in have:
                have.add(tok)
                new_tokens.append(tok)
            seg = bpe_segment(seg, ranks)
    return extra, new_tokens


def fit_terms(learned: list[tuple[str, str]], base: list[str], targets: Sequence[Sequence[str]],
              vocab_size: int) -> tuple[list[str], list[tuple[str, str]], int, int]:
    """The final (vocabulary in id order, merges) of exactly `vocab_size` tokens: the first M learnt merges,
    the term merges, then more learnt merges (in their order, after the terms) to fill the budget.

    `base` is the special tokens and the alphabet. Returns (vocab, merges, M, number of term merges).
    Raises InputError when the learnt merges run out before the budget is filled.
    """
    n_base = len(base)
    m = min(len(learned), vocab_size - n_base)
    while True:
        head = learned[:m]
        vocab = set(base) | {a + b for a, b in head}
        extra, new_tokens = chain_merges(targets, head, vocab)
        over = n_base + m + len(new_tokens) - vocab_size
        if over <= 0 or m == 0:
            break
        m = max(0, m - over)
    if n_base + len(new_tokens) > vocab_size:
        raise InputError(f"vocab_size={vocab_size} cannot hold the special tokens, the alphabet and the "
                         f"{len(new_tokens)} tokens the domain terms need")
    tokens = list(base) + [a + b for a, b in head] + new_tokens
    have = set(tokens)
    merges = head + extra
    for a, b in learned[m:]:
        if len(tokens) >= vocab_size:
            break
        if a in have and b in have and a + b not in have:
            merges.append((a, b))
            tokens.append(a + b)
            have.add(a + b)
    return tokens, merges, m, len(extra)
