"""Character-level BPE: exact size, exact length bound in Unicode characters, no unreachable entries,
whitespace kept, round trips."""

import json

import pytest
from _synthetic import synthetic_corpus
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer

from tokkit.errors import InputError
from tokkit.train import DEFAULT_SPECIAL_TOKENS, train_char
from tokkit.train.char import byte_token, reachable_fallback_bytes

ALPHA = "abcdefghijklmnopqrstuvwxyzäöüßéèçñ"


def corpus(n_docs=200, seed=1):
    """Words over a Latin alphabet with accents (2-byte characters), spaces, tabs, newlines, digits."""
    return synthetic_corpus(n_docs, seed=seed, units=ALPHA, n_words=4000, max_units=9, words_per_doc=200,
                            suffix="\n\t 12,345.67\r\n")


@pytest.fixture(scope="module")
def tok():
    return train_char(corpus(), vocab_size=1024, max_token_chars=3).engine  # the tokenizers object


def test_exact_size_and_length_bound(tok):
    assert tok.get_vocab_size() == 1024
    vocab = tok.get_vocab()
    for i, s in enumerate(DEFAULT_SPECIAL_TOKENS):
        assert vocab[s] == i
    lengths = [len(t) for t in vocab if t not in DEFAULT_SPECIAL_TOKENS and not t.startswith("<0x")]
    # the bound is reached (tokenizers' own setting would stop one short) and never exceeded
    assert max(lengths) == 3
    # 2-byte characters count as one: tokens of 3 characters and more than 3 bytes exist
    assert any(len(t) == 3 and len(t.encode()) > 3 for t in vocab if not t.startswith("<"))


def test_no_unreachable_entries(tok):
    for t, i in tok.get_vocab().items():
        if t in DEFAULT_SPECIAL_TOKENS:
            continue
        if t.startswith("<0x"):
            continue
        # every character token and merged token comes out when its own text is encoded
        assert tok.encode(t, add_special_tokens=False).ids == [i], t
    # every byte-fallback token is produced by some character outside the alphabet
    alphabet = {t for t in tok.get_vocab() if len(t) == 1}
    produced = set()
    for cp in list(range(0x80, 0x800)) + list(range(0x800, 0x10000, 7)) + list(range(0x10000, 0x110000, 61)):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or ch in alphabet:
            continue
        produced.update(b for b in ch.encode("utf-8"))
    fallback = {t for t in tok.get_vocab() if t.startswith("<0x")}
    assert fallback == {byte_token(b) for b in produced}


@pytest.mark.slow
def test_reachable_fallback_bytes_exhaustive():
    # brute force over every code point for a few alphabets, including one that covers a whole lead byte
    for alphabet in (set(), set(ALPHA), {chr(c) for c in range(0x80, 0xC0)} | {chr(c) for c in range(0xC0, 0x100)}):
        alphabet = alphabet | {chr(i) for i in range(128)}
        need = set()
        for cp in range(0x80, 0x110000):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            ch = chr(cp)
            if ch not in alphabet:
                need.update(ch.encode("utf-8"))
        assert reachable_fallback_bytes(alphabet) == sorted(need)


@pytest.mark.parametrize("text", ["  two  spaces\n\n\nthree newlines\r\n\ttab ", "ß日本😀 x\u00a0y", ""])
def test_whitespace_and_unknown_characters_kept(tok, text):
    enc = tok.encode(text, add_special_tokens=False)
    assert tok.decode(enc.ids) == text
    # offsets cover the text without gaps
    assert "".join(text[s:e] for s, e in _dedupe(enc.offsets)) == text


def _dedupe(offsets):
    out = []
    for o in offsets:
        if not out or o != out[-1]:
            out.append(o)
    return out


@given(st.text(max_size=200))
def test_round_trip_any_unicode(tok, text):
    assert tok.decode(tok.encode(text, add_special_tokens=False).ids, skip_special_tokens=False) == text


def test_artifact(tmp_path):
    t = train_char(corpus(60), tmp_path / "c", vocab_size=400, max_token_chars=4, min_frequency=1).engine
    loaded = Tokenizer.from_file(str(tmp_path / "c" / "tokenizer.json"))
    assert loaded.get_vocab_size() == 400 and loaded.encode("zz äb").ids == t.encode("zz äb").ids
    card = json.loads((tmp_path / "c" / "tokkit.json").read_text())
    assert card["recipe"] == "char" and card["parameters"]["max_token_chars"] == 4
    assert card["vocabulary"]["max_length"] <= 4


def test_bad_input():
    with pytest.raises(InputError, match="128 ASCII characters plus the 13 special tokens = 141"):
        train_char(corpus(5), vocab_size=141)
    with pytest.raises(InputError, match="max_token_chars"):
        train_char(corpus(5), vocab_size=400, max_token_chars=0)
    with pytest.raises(InputError, match="short of"):
        train_char(["abc abc"], vocab_size=4096)
    with pytest.raises(InputError, match="cannot hold"):
        # 13 specials + 128 ASCII + 34 accented + 115 byte tokens > 250
        train_char(corpus(5), vocab_size=250)
