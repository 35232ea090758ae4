"""The one registry of pre-tokenization split patterns: names, exact strings, kernel ids, the split_digits
variants, SuperBPE's stage-2 split and the split patterns of the public tiktoken encodings.

Every string here compiles to the same matcher in Python's `regex` module and in Oniguruma (what
`tokenizers.Regex` compiles); where a spelling works in only one of them, `ONIGURUMA` holds the other form.
Kept apart from the kernels (no numba here) so that code which only names a pattern, or runs the
ahead-of-time compiled kernels, does not load numba.
"""

from __future__ import annotations

from ..errors import InputError

# GPT-2's split (the regex of tokenizers' ByteLevel pre-tokenizer, and of tiktoken's r50k/p50k)
GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_O200K_WORDS = [
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
]
_O200K_REST = [r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""", r"""\s*[\r\n]+""", r"""\s+(?!\S)""", r"""\s+"""]
# GPT-4o's split (tiktoken's o200k_base)
GPT4O = "|".join(_O200K_WORDS + [r"""\p{N}{1,3}"""] + _O200K_REST)
# a space joins the word after it; whitespace runs split like GPT-2's
WHITESPACE = r""" ?\S+|\s+(?!\S)|\s+"""
# SuperBPE's stage-2 split: digits, punctuation runs and whitespace runs stay apart; words joined by single
# spaces are the gaps between matches (pieces too, HF Split behavior "isolated"), so merges may cross those
# spaces
SUPERWORD = r"""\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"""

# the kernels' patterns by name (None: no split, each text or table entry is one piece)
PATTERNS: dict[str, str | None] = {"gpt2": GPT2, "gpt4o": GPT4O, "whitespace": WHITESPACE, "none": None,
                                   "superword": SUPERWORD}
PATTERN_IDS = {"none": 0, "gpt2": 1, "gpt4o": 2, "whitespace": 3, "superword": 4}
# patterns whose matches leave gaps: the gaps are pieces too (HF Split behavior "isolated")
ISOLATED = {"superword"}

# the pre-tokenizers a recipe offers (`--pre-tokenizer`), and their spellings with split_digits=True: every
# digit its own piece (the only change is the digit branch)
PRE_TOKENIZERS = ("gpt2", "gpt4o", "whitespace")
ALIASES = {"o200k": "gpt4o", "o200k_base": "gpt4o"}
SPLIT_DIGITS = {
    "gpt2": GPT2.replace(r" ?\p{N}+", r" ?\p{N}"),
    "gpt4o": "|".join(_O200K_WORDS + [r"""\p{N}"""] + _O200K_REST),
    "whitespace": r""" ?[^\s\p{N}]+|\p{N}|\s+(?!\S)|\s+""",
}

# the split patterns of tiktoken's public encodings (a ranks file does not carry its own)
_CL100K = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
           r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s""")
_LLAMA3 = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
           r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
ENCODINGS = {"r50k_base": GPT2, "p50k_base": GPT2, "gpt2": GPT2, "cl100k_base": _CL100K, "o200k_base": GPT4O,
             "llama3": _LLAMA3}

# Oniguruma spellings of strings above that it reads differently (none today: every pattern above is
# written in the syntax both engines share)
ONIGURUMA: dict[str, str] = {}


def check_pattern(pattern: str) -> int:
    """The kernel id of a pattern name."""
    if pattern not in PATTERN_IDS:
        raise InputError(f"pattern={pattern!r}: expected one of {', '.join(PATTERN_IDS)}")
    return PATTERN_IDS[pattern]


def pre_tokenizer_pattern(name: str, *, split_digits: bool = False) -> str:
    """The split regex of a recipe's pre-tokenizer name (gpt2, gpt4o or o200k, whitespace)."""
    key = ALIASES.get(name, name)
    if key not in PRE_TOKENIZERS:
        raise InputError(f"pre_tokenizer={name!r}: expected one of {', '.join(PRE_TOKENIZERS)}")
    return SPLIT_DIGITS[key] if split_digits else PATTERNS[key]


def kernel_pattern(regex_string: str) -> str | None:
    """The kernel's name for a split regex, or None when the kernels cannot run it (the caller then splits
    with the `regex` module and hands the kernels word counts)."""
    for name, p in PATTERNS.items():
        if p is not None and p == regex_string and name not in ISOLATED:
            return name
    return None


def oniguruma(regex_string: str) -> str:
    """The string to hand `tokenizers.Regex` for a split regex of this registry (or any other string)."""
    return ONIGURUMA.get(regex_string, regex_string)
