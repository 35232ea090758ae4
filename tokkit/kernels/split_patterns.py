"""The split patterns of the numba pre-tokenizer, by name, and their ids in the kernels.

Kept apart from the kernels (no numba here) so that code which only names a pattern, or runs the
ahead-of-time compiled kernels, does not load numba.
"""

from __future__ import annotations

from ..errors import InputError

# the reference patterns: what the kernels must reproduce
PATTERNS = {
    "gpt2": r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
    "gpt4o": "|".join([
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]),
    # a space joins the word after it; whitespace runs split like GPT-2's
    "whitespace": r""" ?\S+|\s+(?!\S)|\s+""",
    "none": None,
}
# SuperBPE's stage-2 split: digits, punctuation runs and whitespace runs stay apart, words may merge
# across single spaces
PATTERNS["superword"] = r"""\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"""
PATTERN_IDS = {"none": 0, "gpt2": 1, "gpt4o": 2, "whitespace": 3, "superword": 4}
# patterns whose matches leave gaps: the gaps are pieces too (HF Split behavior "isolated")
ISOLATED = {"superword"}


def check_pattern(pattern: str) -> int:
    if pattern not in PATTERN_IDS:
        raise InputError(f"pattern={pattern!r}: expected one of {', '.join(PATTERN_IDS)}")
    return PATTERN_IDS[pattern]
