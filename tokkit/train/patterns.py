"""Pre-tokenization split patterns (Oniguruma syntax, as `tokenizers.Regex` compiles them) and the domain-term
branch that keeps each term one pre-token.

A pattern is used with `Split(Regex(p), "isolated")`: every character lands in exactly one piece, so byte-level
round trips hold whatever the pattern.
"""

from __future__ import annotations

from typing import Sequence

from ..errors import InputError

_CONTRACTIONS = r"'(?:[sdmt]|ll|ve|re)"
_O200K_WORD = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
               r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
               r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"
               r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?")


def _pattern(name: str, split_digits: bool) -> str:
    if name == "gpt2":
        digits = r" ?\p{N}" if split_digits else r" ?\p{N}+"
        return rf"{_CONTRACTIONS}| ?\p{{L}}+|{digits}| ?[^\s\p{{L}}\p{{N}}]+|\s+(?!\S)|\s+"
    if name in ("gpt4o", "o200k"):
        digits = r"\p{N}" if split_digits else r"\p{N}{1,3}"
        return rf"{_O200K_WORD}|{digits}| ?[^\s\p{{L}}\p{{N}}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    if name == "whitespace":
        # words with their leading space; digits kept apart from letters only when split_digits
        if split_digits:
            return r" ?[^\s\p{N}]+|\p{N}|\s+(?!\S)|\s+"
        return r" ?\S+|\s+(?!\S)|\s+"
    raise InputError(f"pre_tokenizer={name!r}: expected one of {', '.join(PRE_TOKENIZERS)}")


PRE_TOKENIZERS = ("gpt2", "gpt4o", "whitespace")

# SuperBPE's stage-2 split: digits, punctuation runs and whitespace runs stay apart; words joined by single
# spaces form one piece, so merges may cross those spaces
SUPERWORD_STAGE2 = r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"


def onig_escape(s: str) -> str:
    """Every character outside [A-Za-z0-9] written as \\x{HEX}: literal in Oniguruma whatever it is."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):X}}}" for c in s)


def term_branch(terms: Sequence[str]) -> str:
    """A regex branch matching any term as a whole unit, with an optional leading space.

    A term that starts (ends) with a letter or digit must not continue a word on that side, so "null" matches
    in "the null order" but not inside "nullify" or "annulled". Longer terms come first so that the longest
    term wins where one is a prefix of another.
    """
    parts = []
    for t in sorted(terms, key=lambda t: (-len(t), t)):
        body = onig_escape(t)
        if t[0].isalnum():
            body = r"(?<![\p{L}\p{N}])" + body
        if t[-1].isalnum():
            body += r"(?![\p{L}\p{N}])"
        parts.append(body)
    return "(?: ?(?:" + "|".join(parts) + "))"


def split_pattern(pre_tokenizer: str, *, split_digits: bool = False, terms: Sequence[str] = ()) -> str:
    base = _pattern(pre_tokenizer, split_digits)
    if terms:
        return term_branch(terms) + "|" + base
    return base


def term_pretokens(term: str) -> list[str]:
    """The pre-tokens a term can appear as: with and without the leading space."""
    return [term] if term[0].isspace() else [term, " " + term]
