"""The domain-term branch of a split pattern (each term one pre-token) and the split a recipe uses; the
patterns themselves live in the registry `tokkit.kernels.split_patterns`.

A pattern is used with `Split(Regex(p), "isolated")`: every character lands in exactly one piece, so byte-level
round trips hold whatever the pattern.
"""

from __future__ import annotations

from typing import Sequence

from ..kernels.split_patterns import PRE_TOKENIZERS, pre_tokenizer_pattern  # noqa: F401  (PRE_TOKENIZERS re-exported)


def onig_escape(s: str) -> str:
    """Every character outside [A-Za-z0-9] written as \\x{HEX}: literal in Oniguruma whatever it is."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):X}}}" for c in s)


def regex_escape(s: str) -> str:
    """The same escaping for Python's `regex` module, which has no \\x{HEX} but reads \\UXXXXXXXX."""
    return "".join(c if c.isascii() and c.isalnum() else f"\\U{ord(c):08X}" for c in s)


def term_branch(terms: Sequence[str], *, flavour: str = "oniguruma") -> str:
    """A regex branch matching any term as a whole unit, with an optional leading space.

    A term that starts (ends) with a letter or digit must not continue a word on that side, so "null" matches
    in "the null order" but not inside "nullify" or "annulled". Longer terms come first so that the longest
    term wins where one is a prefix of another. flavour: "oniguruma" (for `tokenizers.Regex`) or "regex"
    (Python's `regex` module); both match the same pieces.
    """
    if flavour == "regex":
        # the lookahead rejects at once a position where no term can start (most of them): 2.4x faster
        first = "".join(sorted({regex_escape(t[0]) for t in terms}))
        return "(?=[ ]?[" + first + "])(?: ?" + _term_trie(terms) + ")"
    escape = onig_escape
    parts = []
    for t in sorted(terms, key=lambda t: (-len(t), t)):
        body = escape(t)
        if t[0].isalnum():
            body = r"(?<![\p{L}\p{N}])" + body
        if t[-1].isalnum():
            body += r"(?![\p{L}\p{N}])"
        parts.append(body)
    return "(?: ?(?:" + "|".join(parts) + "))"


_WORD_START, _WORD_END = r"(?<![\p{L}\p{N}])", r"(?![\p{L}\p{N}])"


def _term_trie(terms: Sequence[str]) -> str:
    """The terms as one trie-shaped alternation for the `regex` module: the same matches as the flat
    alternation (at one position only terms that are prefixes of each other can match, and the trie tries
    the longer first), but a position that starts no term is rejected after one character instead of one
    attempt per term, which made the flat branch ~4x slower than the split without terms."""
    trie: dict = {}
    for t in set(terms):
        node = trie
        for c in t:
            node = node.setdefault(c, {})
        # where a term ends; one ending in a letter or digit must not continue a word
        node[""] = _WORD_END if t[-1].isalnum() else ""

    def emit(node: dict, first: bool) -> str:
        alts = [(_WORD_START if first and c.isalnum() else "") + regex_escape(c) + emit(node[c], False)
                for c in sorted(k for k in node if k)]
        if "" in node:  # after every longer continuation: the longest term wins
            alts.append(node[""])
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(trie, True)


def split_pattern(pre_tokenizer: str, *, split_digits: bool = False, terms: Sequence[str] = (),
                  flavour: str = "oniguruma") -> str:
    """The split regex of a recipe: the terms' branch (if any), then the pre-tokenizer's pattern."""
    base = pre_tokenizer_pattern(pre_tokenizer, split_digits=split_digits)
    if terms:
        return term_branch(terms, flavour=flavour) + "|" + base
    return base


def term_pretokens(term: str) -> list[str]:
    """The pre-tokens a term can appear as: with and without the leading space."""
    return [term] if term[0].isspace() else [term, " " + term]
