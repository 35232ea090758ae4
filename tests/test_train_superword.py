"""Superword (SuperBPE) tokenizers: one call, plain tokenizer.json, merges across spaces, word cap."""

import random

import pytest
import regex
from hypothesis import given, settings, strategies as st
from tokenizers import Tokenizer

from tokkit.errors import InputError
from tokkit.train import train_superword
from tokkit.train.artifacts import read_card
from tokkit.train.superword import _stage2

PHRASES = ["of the", "in accordance with", "pursuant to section", "the Secretary shall", "United States",
           "notwithstanding any other provision of law", "for the purposes of this"]


def corpus(n_docs=150, seed=2):
    rng = random.Random(seed)
    syll = "ba be bi ko ra re ti to la man st tr ex in con ous ing".split()
    words = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 3))) for _ in range(1500)]
    docs = []
    for _ in range(n_docs):
        parts = [rng.choice(PHRASES) if rng.random() < 0.3 else rng.choice(words) for _ in range(150)]
        docs.append(" ".join(parts) + ". Section 12: text.\n")
    return docs


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("sw") / "tok"
    tok = train_superword(corpus(), out, vocab_size=1200, transition=800, max_words=3)
    return tok, out


def test_plain_tokenizers_loads_it(trained):
    tok, out = trained
    loaded = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert loaded.get_vocab_size() == 1200 == tok.get_vocab_size()
    text = "notwithstanding any other provision of law, the Secretary shall"
    assert loaded.encode(text).ids == tok.encode(text).ids
    card = read_card(out)
    assert card["vocabulary"]["stage1_merges"] == 800 - 13 - 256
    assert card["parameters"]["transition"] == 800


def test_superwords_and_word_cap(trained):
    tok, _ = trained
    texts = [tok.decode([i]) for i in range(tok.get_vocab_size())]
    n_words = [len(regex.findall(r"\S+", t)) for t in texts]
    assert max(n_words) == 3  # multi-word tokens exist and respect max_words
    assert any(t.strip() == "of the" for t in texts)
    assert not any(": " in t for t in texts)
    pieces = [tok.decode([i]) for i in tok.encode("in accordance with the Secretary").ids]
    assert any(" " in p.strip() for p in pieces)


def test_stage1_tokens_have_no_inner_space(trained):
    tok, out = trained
    # the first 800 ids are stage 1: no token there crosses a space between words
    for i in range(13, 800):
        t = tok.decode([i])
        assert " " not in t.strip() or not t.strip(), t


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=150))
def test_round_trip(trained, text):
    import unicodedata

    tok, _ = trained
    assert tok.decode(tok.encode(text).ids, skip_special_tokens=False) == unicodedata.normalize("NFC", text)


def test_stage2_counts_against_brute_force():
    # the incremental pair counts give the same merges as recounting everything after every merge
    rng = random.Random(0)
    strings = list("abcd") + ["\u0120"]  # byte-level symbols; U+0120 is the space
    seqs = [[rng.randrange(5) for _ in range(rng.randint(1, 12))] for _ in range(60)]
    freqs = [rng.randint(1, 5) for _ in seqs]
    got = _stage2([list(s) for s in seqs], freqs, list(strings), 15, min_frequency=1, max_words=99)

    cur, strs, want = [list(s) for s in seqs], list(strings), []
    for _ in range(15):
        counts = {}
        for s, f in zip(cur, freqs):
            for p in zip(s, s[1:]):
                counts[p] = counts.get(p, 0) + f
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], strs[p[0]], strs[p[1]]))
        joined = strs[best[0]] + strs[best[1]]
        new = strs.index(joined) if joined in strs else len(strs)
        if new == len(strs):
            strs.append(joined)
        want.append(best)
        for k, s in enumerate(cur):
            out, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and (s[j], s[j + 1]) == best:
                    out.append(new)
                    j += 2
                else:
                    out.append(s[j])
                    j += 1
            cur[k] = out
        if len(strs) - len(strings) >= 15:
            break
    assert got == want


def test_bad_input():
    with pytest.raises(InputError, match="transition"):
        train_superword(corpus(5), vocab_size=1000, transition=2000)
    with pytest.raises(InputError, match="transition"):
        train_superword(corpus(5), vocab_size=1000, transition=100)
    with pytest.raises(InputError, match="max_words"):
        train_superword(corpus(5), vocab_size=1000, max_words=0)
