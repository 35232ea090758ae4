"""Boundary stability and seeded OCR-like noise."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokkit.analysis.boundary import Edit, boundaries, boundary_stability, compare_boundaries, ocr_noise
from tokkit.errors import InputError

TEXT = ("The Secretary shall, within 90 days after the date of enactment of this Act, submit to the\n"
        "Committee on Finance a report on the annulled order under Fed. R. Civ. P. 56(a).\n") * 20


def _apply(text, noisy, edits):
    """Rebuild the noisy text from the clean one and the spans: checks that the spans are the whole truth."""
    out, pos = [], 0
    for e in edits:
        out.append(text[pos:e.clean_start])
        out.append(noisy[e.noisy_start:e.noisy_end])
        pos = e.clean_end
    out.append(text[pos:])
    return "".join(out)


@given(st.text(max_size=300), st.floats(0, 1), st.integers(0, 2**32))
def test_noise_spans_explain_every_change(text, rate, seed):
    noisy, edits = ocr_noise(text, rate, seed)
    assert _apply(text, noisy, edits) == noisy
    for a, b in zip(edits, edits[1:]):  # ordered and not touching
        assert a.clean_end < b.clean_start or a.noisy_end < b.noisy_start
    for e in edits:
        assert 0 <= e.clean_start <= e.clean_end <= len(text) and 0 <= e.noisy_start <= e.noisy_end <= len(noisy)
        # the shift before each edit is the sum of the length changes of the edits before it
    assert noisy.count("\n") == text.count("\n")


def test_noise_is_seeded_and_at_the_rate():
    a = ocr_noise(TEXT, 0.05, seed=7)
    assert a == ocr_noise(TEXT, 0.05, seed=7) and a != ocr_noise(TEXT, 0.05, seed=8)
    assert ocr_noise(TEXT, 0.0, seed=1) == (TEXT, [])
    _, edits = ocr_noise(TEXT * 5, 0.03, seed=1)
    assert 0.02 < len(edits) / len(TEXT * 5) < 0.04
    with pytest.raises(InputError):
        ocr_noise(TEXT, 1.5)


class CharTokenizer:
    """Every character a token: its boundaries can only move inside edits."""

    def encode_with_offsets(self, text):
        return list(range(len(text))), [(i, i + 1) for i in range(len(text))]


class WholeTextTokenizer:
    """One token per text: no inner boundaries at all."""

    def encode_with_offsets(self, text):
        return [0], [(0, len(text))]


class PairTokenizer:
    """Fixed 2-character tokens from the start: an insertion or deletion shifts every later boundary."""

    def encode_with_offsets(self, text):
        offs = [(i, min(i + 2, len(text))) for i in range(0, len(text), 2)]
        return list(range(len(offs))), offs


def test_extremes():
    assert boundary_stability(CharTokenizer(), [TEXT], rate=0.05)["stability"] == 1.0
    r = boundary_stability(WholeTextTokenizer(), [TEXT], rate=0.05)
    assert r["comparable"] == 0 and math.isnan(r["stability"])
    r = boundary_stability(PairTokenizer(), [TEXT], rate=0.05)
    assert r["stability"] < 0.7  # roughly half the boundaries fall out of phase after each length change


def test_compare_boundaries_by_hand():
    # clean "abcdef", noisy "abXcdef" (insertion at 2): boundaries 2 (clean) and 2, 3 (noisy) touch the edit;
    # noisy 5 is clean 4
    edits = [Edit(2, 2, 2, 3)]
    assert compare_boundaries({2, 4}, {2, 3, 5}, edits) == (1, 1)
    # clean 4 is noisy 5, not 4: one boundary lost (clean 4), one gained (noisy 4 = clean 3), 1 kept
    assert compare_boundaries({1, 4}, {1, 4}, edits) == (1, 3)
    # deletion of "c" (clean 2..3): clean 5 is noisy 4; a new noisy boundary at 1 counts against
    assert compare_boundaries({5}, {1, 4}, [Edit(2, 3, 2, 2)]) == (1, 2)
    assert boundaries([(0, 2), (2, 2), (2, 5)], 5) == {2}


def test_accepts_tokenizers_and_loader_objects():
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    r = boundary_stability(tok, TEXT, rate=0.03, seed=1)
    assert 0.9 < r["stability"] <= 1.0 and r["texts"] == 1 and r["characters"] == len(TEXT)
    per = boundary_stability(CharTokenizer(), [TEXT, TEXT[:50]], rate=0.03, per_text=True)
    assert per["per_text"] == [1.0, 1.0]
    with pytest.raises(InputError, match="encode_with_offsets"):
        boundary_stability(object(), TEXT, rate=0.01)
    with pytest.raises(InputError, match="no text"):
        boundary_stability(CharTokenizer(), [], rate=0.01)


def test_char_tokenizer_beats_byte_level_bpe():
    # on this (repetitive) text a byte-level BPE learns whole words, and a misspelt word is re-cut
    from tokkit.train import train_bpe, train_char

    docs = [TEXT] * 3
    char = train_char(docs, vocab_size=300, max_token_chars=3, min_frequency=1)
    bpe = train_bpe(docs, vocab_size=370, min_frequency=1, pre_tokenizer="whitespace")
    sc = boundary_stability(char, [TEXT], rate=0.03)["stability"]
    sb = boundary_stability(bpe, [TEXT], rate=0.03)["stability"]
    assert sc > sb
