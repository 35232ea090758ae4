"""Boundary stability: how much of a tokenizer's segmentation survives OCR-like noise elsewhere in the text.

Given clean text and a noisy copy (substitutions, insertions and deletions at a chosen rate, seeded), a token
boundary of either text is *comparable* when it lies outside every edited span (not inside one and not at its
edges); positions in the noisy text are moved back to the clean text's by the length changes of the edits
before them. A comparable boundary is *stable* when both segmentations have it. Boundary stability is the
share of comparable boundaries that are stable (a Jaccard index of the two boundary sets away from the edits).
A character tokenizer scores 1; a tokenizer with long tokens scores lower, since one edit changes how the
characters around it are cut: the clean word's boundaries vanish or new ones appear in the misspelt word.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from ..errors import InputError

# Characters OCR engines confuse, each with what it tends to be read as (both directions where sensible)
_CONFUSIONS: dict[str, list[str]] = {
    "m": ["rn", "nn"], "rn": ["m"], "w": ["vv"], "vv": ["w"], "d": ["cl"], "cl": ["d"], "h": ["li", "b"],
    "l": ["1", "I", "|"], "1": ["l", "I"], "I": ["l", "1"], "i": ["l", "í", "1"], "O": ["0", "Q"],
    "0": ["O", "o"], "o": ["0", "c", "e"], "e": ["c", "o"], "c": ["e", "("], "a": ["o", "e"],
    "S": ["5", "$"], "5": ["S"], "B": ["8", "3"], "8": ["B", "3"], "g": ["9", "q"], "9": ["g"],
    "Z": ["2"], "2": ["Z"], "u": ["v", "n"], "v": ["u", "y"], "n": ["u", "ri"], "t": ["f", "l"],
    "f": ["t"], "r": ["n"], ",": ["."], ".": [",", " ."], ";": [":"], ":": [";"], "'": ["`", ","],
    "\"": ["''"], "-": ["~", "—"], "E": ["F"], "F": ["E", "P"], "P": ["F"], "U": ["V"], "V": ["U"],
}
_INSERTS = list(".,'`-~|:;") + [" "]
_FALLBACK = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Edit:
    """One edited span: text[clean_start:clean_end] became noisy[noisy_start:noisy_end]."""
    clean_start: int
    clean_end: int
    noisy_start: int
    noisy_end: int


def ocr_noise(text: str, rate: float, seed: int = 0) -> tuple[str, list[Edit]]:
    """A noisy copy of `text` with OCR-like edits, and the edited spans.

    About `rate` edits per character: 60% substitutions of look-alike characters, 20% insertions of stray marks,
    20% deletions; newlines are never touched. The same (text, rate, seed) gives the same result on every machine.

    Args:
        text: the clean text.
        rate: edits per character.
        seed: the seed of the edits.

    Returns:
        (noisy text, edits): the edited spans, in order and non-adjacent (touching edits are joined).
    """
    if not isinstance(text, str):
        raise InputError(f"text: expected a string, got {type(text).__name__}")
    if not 0.0 <= rate <= 1.0:
        raise InputError(f"rate must lie in [0, 1], got {rate}")
    rng = random.Random(f"ocr_noise:{seed}")
    out: list[str] = []
    edits: list[list[int]] = []
    i, n, pos = 0, len(text), 0
    while i < n:
        ch = text[i]
        if ch == "\n" or rng.random() >= rate:
            out.append(ch)
            pos += 1
            i += 1
            continue
        op = rng.random()
        if op < 0.6:  # substitute (a look-alike; two-character confusions first)
            two = text[i:i + 2]
            if len(two) == 2 and two in _CONFUSIONS and rng.random() < 0.5:
                src, rep = two, rng.choice(_CONFUSIONS[two])
            elif ch in _CONFUSIONS:
                src, rep = ch, rng.choice(_CONFUSIONS[ch])
            else:
                src = ch
                rep = rng.choice([c for c in _FALLBACK if c != ch.lower()]) if not ch.isspace() else ""
        elif op < 0.8:  # insert a stray mark before the character
            src, rep = "", rng.choice(_INSERTS)
        else:  # delete
            src, rep = ch, ""
        span = [i, i + len(src), pos, pos + len(rep)]
        if edits and edits[-1][1] >= span[0] and edits[-1][3] >= span[2]:  # touching: one span
            edits[-1][1], edits[-1][3] = span[1], span[3]
        else:
            edits.append(span)
        out.append(rep)
        pos += len(rep)
        i += len(src)
        if not src:  # an insertion keeps the character itself after the mark
            out.append(ch)
            pos += 1
            i += 1
    return "".join(out), [Edit(*e) for e in edits]


def _offsets_fn(tokenizer: Any):
    """A function text -> list of (start, end) character offsets, for our loader's objects (with
    `encode_with_offsets`), a `tokenizers.Tokenizer`, or a transformers fast tokenizer."""
    if hasattr(tokenizer, "encode_with_offsets"):
        return lambda text: tokenizer.encode_with_offsets(text)[1]
    try:
        from tokenizers import Tokenizer
    except ImportError:  # pragma: no cover - tokenizers is a core dependency
        Tokenizer = None
    if Tokenizer is not None and isinstance(tokenizer, Tokenizer):
        return lambda text: tokenizer.encode(text, add_special_tokens=False).offsets
    if hasattr(tokenizer, "backend_tokenizer"):
        inner = tokenizer.backend_tokenizer
        return lambda text: inner.encode(text, add_special_tokens=False).offsets
    raise InputError(f"tokenizer: expected an object with encode_with_offsets(text) or a tokenizers.Tokenizer, "
                     f"got {type(tokenizer).__name__}")


def boundaries(offsets: Iterable[tuple[int, int]], length: int) -> set[int]:
    """Inner token boundaries (0 and the end excluded) from character offsets."""
    b: set[int] = set()
    for s, e in offsets:
        if e > s:
            b.add(s)
            b.add(e)
    b.discard(0)
    b.discard(length)
    return b


def _outside(b: int, starts: Sequence[int], ends: Sequence[int], other_ends: Sequence[int]) -> int | None:
    """b moved to the other text's coordinates, or None when b is inside or at the edge of an edited span."""
    k = bisect.bisect_right(starts, b) - 1  # the last edit starting at or before b
    if k >= 0 and b <= ends[k]:
        return None
    return b if k < 0 else b + other_ends[k] - ends[k]


def compare_boundaries(clean_b: set[int], noisy_b: set[int], edits: Sequence[Edit]) -> tuple[int, int]:
    """(stable, comparable): comparable boundaries are those of either text outside every edited span (in
    clean coordinates, counted once); stable ones are found in both texts. Counting the noisy text's
    boundaries too matters: a tokenizer that keeps whole words never moves a clean boundary, but re-cuts
    a misspelt word into pieces, and those new boundaries are instability too."""
    cs, ce = [e.clean_start for e in edits], [e.clean_end for e in edits]
    ns, ne = [e.noisy_start for e in edits], [e.noisy_end for e in edits]
    clean = {b for b in clean_b if _outside(b, cs, ce, ne) is not None}
    noisy = set()
    for b in noisy_b:
        m = _outside(b, ns, ne, ce)
        if m is not None:
            noisy.add(m)
    return len(clean & noisy), len(clean | noisy)


def boundary_stability(tokenizer: Any, texts: str | Iterable[str], *, rate: float, seed: int = 0,
                       per_text: bool = False) -> dict:
    """The share of token boundaries outside the edited spans that stay the same under OCR-like noise.

    Text i gets noise from `ocr_noise` at `rate` with seed (seed, i).

    Args:
        tokenizer: anything with `encode_with_offsets(text) -> (ids, offsets)`, or a `tokenizers.Tokenizer`.
        texts: a text or several.
        rate: edits per character.
        seed: the seed of the noise.
        per_text: also give one value per text.

    Returns:
        A dict with `stability` (pooled over all texts), the counts behind it, the characters and edits seen, and
        with `per_text` one value per text.
    """
    offsets = _offsets_fn(tokenizer)
    if isinstance(texts, str):
        texts = [texts]
    stable = comparable = chars = n_edits = n = 0
    values = []
    for i, text in enumerate(texts):
        noisy, edits = ocr_noise(text, rate, seed=seed * 1_000_003 + i)
        cb = boundaries(offsets(text), len(text))
        nb = boundaries(offsets(noisy), len(noisy))
        s, c = compare_boundaries(cb, nb, edits)
        stable += s
        comparable += c
        chars += len(text)
        n_edits += len(edits)
        n += 1
        if per_text:
            values.append(s / c if c else None)
    if n == 0:
        raise InputError("texts: no text to measure")
    out = dict(stability=stable / comparable if comparable else float("nan"), stable=stable,
               comparable=comparable, texts=n, characters=chars, edits=n_edits, rate=rate, seed=seed)
    if per_text:
        out["per_text"] = values
    return out
