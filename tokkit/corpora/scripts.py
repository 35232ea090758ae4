"""Unicode scripts of text (ISO 15924 codes), for corpus statistics and per-script aggregation."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Iterable

import numpy as np
import regex

from .._chars import code_points

# ISO 15924 codes in the order of the Unicode Script property values; Zyyy (Common) and Zinh (Inherited)
# are shared by many scripts (digits, punctuation, combining marks) and never name a text's script.
_CODES = (
    "Latn Grek Copt Cyrl Armn Hebr Arab Syrc Thaa Nkoo Samr Mand Deva Beng Guru Gujr Orya Taml Telu Knda "
    "Mlym Sinh Thai Laoo Tibt Mymr Geor Hang Ethi Cher Cans Ogam Runr Tglg Hano Buhd Tagb Khmr Mong Limb "
    "Tale Talu Bugi Lana Bali Sund Batk Lepc Olck Brai Glag Tfng Hani Hira Kana Bopo Yiii Lisu Vaii Bamu Sylo "
    "Phag Saur Kali Rjng Java Cham Tavt Mtei Linb Lyci Cari Ital Goth Perm Ugar Xpeo Dsrt Shaw Osma Osge "
    "Elba Aghb Vith Todr Lina Cprt Armi Palm Nbat Hatr Phnx Lydi Sidt Mero Merc Khar Sarb Narb Mani Avst "
    "Prti Phli Phlp Orkh Hung Rohg Gara Yezi Sogo Sogd Ougr Chrs Elym Brah Kthi Sora Cakm Mahj Shrd Khoj "
    "Mult Sind Gran Tutg Newa Tirh Sidd Modi Takr Ahom Dogr Wara Diak Nand Zanb Soyo Pauc Sunu Bhks Marc "
    "Gonm Gong Tols Maka Kawi Xsux Pcun Cpmn Egyp Hluw Gukh Mroo Tnsa Bass Hmng Krai Medf Berf Miao Tang "
    "Nshu Kits Jurc Dupl Sgnw Hmnp Toto Wcho Nagm Onao Tayo Mend Adlm Zinh Zyyy"
).split()
SHARED = frozenset({"Zyyy", "Zinh", "Zzzz"})
# scripts written without spaces between words: whitespace "words" are clauses there, and a word does not
# follow a space in running text
SPACELESS_SCRIPTS = frozenset({"Hani", "Hira", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt", "Bali", "Java",
                               "Yiii", "Lana", "Tale", "Talu"})


@lru_cache(maxsize=None)
def _patterns() -> tuple[tuple[str, "regex.Pattern"], ...]:
    out = []
    for code in _CODES:
        try:
            out.append((code, regex.compile(r"\p{Script=%s}+" % code)))
        except regex.error:  # a script newer than the installed regex module's Unicode tables
            pass
    return tuple(out)


# character -> script, for every character looked up so far: a corpus's languages share most of their
# characters, and each lookup of new ones runs all ~180 script patterns (a fifth of loading the UDHR)
_SCRIPT_OF: dict[str, str] = {}


def scripts_of_chars(chars: str) -> dict[str, str]:
    """Script code of each distinct character ('Zzzz' for unassigned ones)."""
    distinct = set(chars)
    uniq = "".join(sorted(distinct.difference(_SCRIPT_OF)))
    if uniq:
        found = dict.fromkeys(uniq, "Zzzz")
        for code, pat in _patterns():
            for m in pat.finditer(uniq):
                for ch in m.group():
                    found[ch] = code
        _SCRIPT_OF.update(found)
    return {ch: _SCRIPT_OF[ch] for ch in distinct}


def script_counts(text: str | Counter, *, include_shared: bool = False) -> Counter:
    """Characters per script (ISO 15924 codes); counts the distinct characters first, so it is fast on long texts.

    Args:
        text: a text, or a Counter of its characters.
        include_shared: also count Common (Zyyy) and Inherited (Zinh) characters.

    Returns:
        Script code -> number of characters.
    """
    chars = text if isinstance(text, Counter) else _char_counts(text)
    table = scripts_of_chars("".join(chars))
    out: Counter = Counter()
    for ch, n in chars.items():
        code = table[ch]
        if include_shared or code not in SHARED:
            out[code] += n
    return out


def count_chars(texts: Iterable[str], *, chunk: int = 1 << 20) -> Counter:
    """Occurrences of each distinct character over many texts, in order of first occurrence (the Counter of
    their concatenation), counted about `chunk` characters at a time (see _char_counts)."""
    out: Counter = Counter()
    buf: list[str] = []
    size = 0
    for t in texts:
        buf.append(t)
        size += len(t)
        if size >= chunk:
            out.update(_char_counts("".join(buf)))
            buf, size = [], 0
    if buf:
        out.update(_char_counts("".join(buf)))
    return out


def _char_counts(text: str) -> dict[str, int]:
    """Occurrences of each distinct character: the code points' counts in numpy (a Counter makes a string
    object of every character beyond Latin-1 it reads: 10x slower, a fifth of loading the UDHR)."""
    cps, counts = np.unique(code_points(text), return_counts=True)  # a lone surrogate is a code point too
    chars, n = list(map(chr, cps.tolist())), counts.tolist()
    # in order of first occurrence, as a Counter's (most_common breaks ties so): str.index finds each of the
    # few distinct characters 4x faster than np.unique's stable sort for return_index
    first = list(map(text.index, chars))
    return {chars[i]: n[i] for i in sorted(range(len(chars)), key=first.__getitem__)}


def dominant_script(text: str | Counter) -> str:
    """The script with most characters, ignoring Common and Inherited ones.

    Args:
        text: a text, or a Counter of its characters.

    Returns:
        An ISO 15924 code; "Zyyy" if there are no characters of a specific script.
    """
    counts = script_counts(text)
    return counts.most_common(1)[0][0] if counts else "Zyyy"
