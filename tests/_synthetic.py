"""The one synthetic corpus generator of the tests (not collected: no test_ prefix): made-up words over a set
of units (syllables or characters), documents of words drawn from them, optionally mixed with real words and
phrases. Seeded, so a test's corpus is the same on every run and machine."""

from __future__ import annotations

import random
from typing import Callable, Sequence

SYLLABLES = "ba be bi ko ra re ti to la man st tr ex in con ous ing".split()


def made_up_words(rng: random.Random, units: Sequence[str], n: int, max_units: int = 3,
                  min_units: int = 1) -> list[str]:
    """n words, each min_units..max_units random units joined."""
    return ["".join(rng.choice(units) for _ in range(rng.randint(min_units, max_units))) for _ in range(n)]


def synthetic_corpus(n_docs: int = 120, *, seed: int = 0, units: Sequence[str] = SYLLABLES, n_words: int = 1500,
                     max_units: int = 3, words: Sequence[str] | None = None,
                     words_per_doc: int | tuple[int, int] = 150, mix: Sequence[tuple[float, Sequence[str]]] = (),
                     suffix: str | Callable[[random.Random], str] = "\n") -> list[str]:
    """Documents of made-up words (a long tail, so that merges do not run out).

    words: the word pool (default: n_words made-up words of 1..max_units units, drawn first from the same rng);
    words_per_doc: a count, or (low, high) drawn per document; mix: (cut, pool) pairs: a draw r < cut takes a
    word from that pool instead (e.g. real words and phrases); suffix: appended to each document (a callable
    gets the rng)."""
    rng = random.Random(seed)
    pool = list(words) if words is not None else made_up_words(rng, units, n_words, max_units)
    docs = []
    for _ in range(n_docs):
        k = rng.randint(*words_per_doc) if isinstance(words_per_doc, tuple) else words_per_doc
        parts = []
        for _ in range(k):
            if mix:
                r = rng.random()
                parts.append(rng.choice(next((p for cut, p in mix if r < cut), pool)))
            else:
                parts.append(rng.choice(pool))
        docs.append(" ".join(parts) + (suffix(rng) if callable(suffix) else suffix))
    return docs
