"""The numba pre-tokenizers give exactly the `regex` module's pieces, on tricky and arbitrary Unicode."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokkit.errors import InputError
from tokkit.kernels.pretokenize import PATTERN_IDS, pretokenize, pretokenize_reference

PATTERNS = sorted(PATTERN_IDS)

# characters where the patterns differ: apostrophes and contraction letters (incl. the long s that (?i)
# folds to s), combining marks, modifier letters, titlecase, other letters, digits of other scripts,
# CR/LF, tabs, exotic spaces, slashes, punctuation
TRICKY = list("'sStTrReEvVmMlLdDſ \t\r\n\x0b\x0c\x85\xa0\u2028\u3000/-.,!") + [
    "\u0301", "\u0308", "\u093f", "\u02b0", "\u01c5", "\u3042", "\u4e00", "\u0627", "\u0661", "\u0967", "\u2160",
    "\u00b2", "A", "a", "Z", "z", "0", "9", "\U0001f600", "\U0001d400", "\u0e01", "\u0e31", "\u200b", "\ufeff"]
tricky_text = st.lists(st.sampled_from(TRICKY), max_size=40).map("".join)
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@pytest.mark.parametrize("pattern", PATTERNS)
@given(text=tricky_text)
def test_tricky_text_matches_regex(pattern, text):
    assert pretokenize(text, pattern) == pretokenize_reference(text, pattern)


@pytest.mark.parametrize("pattern", PATTERNS)
@given(text=any_text)
def test_arbitrary_unicode_matches_regex(pattern, text):
    pieces = pretokenize(text, pattern)
    assert pieces == pretokenize_reference(text, pattern)
    assert "".join(pieces) == text  # the pieces tile the text


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("text", [
    "", "a", " ", "\n", "'", "'s", "'S", "'ſ", "'LL", "don't we'Re", "\r\n\r\n  x", "   \t  \n", "x   ",
    "١٢٣٤٥٦٧", "12345678", "e\u0301\u0301", "\u0301abc", " \u0301", "ǅungla", "HTTPServer", "foo//bar\n/",
    " " * 1000 + "x", "\n" * 50, "a" * 5000,
])
def test_edge_cases(pattern, text):
    assert pretokenize(text, pattern) == pretokenize_reference(text, pattern)


def test_real_udhr_samples(udhr):
    codes = sorted(udhr.codes)[:40]
    for code in codes:
        text = " ".join(udhr.texts(code))[:4000]
        for pattern in ("gpt2", "gpt4o"):
            assert pretokenize(text, pattern) == pretokenize_reference(text, pattern), (code, pattern)


def test_unknown_pattern_is_an_input_error():
    with pytest.raises(InputError, match="pattern"):
        pretokenize("x", "gpt5")
