"""Superword (SuperBPE) tokenizers: one call, plain tokenizer.json, merges across spaces, word cap."""

import random

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer

from tokkit.errors import InputError
from tokkit.train import train_superword
from tokkit.train.artifacts import read_card

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
    tok = train_superword(corpus(), out, vocab_size=1200, transition=800, max_token_words=3)
    return tok.engine, out


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


@given(st.text(max_size=150))
def test_round_trip(trained, text):
    import unicodedata

    tok, _ = trained
    assert tok.decode(tok.encode(text).ids, skip_special_tokens=False) == unicodedata.normalize("NFC", text)


def _brute_force_stage2(seqs, freqs, tokens, n_new, max_token_words):
    """SuperBPE's stage 2 by recounting every pair after every merge: the most frequent allowed pair, ties
    to the smallest (left id, right id); a pair whose token spans more than max_token_words words or holds
    ': ' is never merged."""
    cur, tokens, out = [list(s) for s in seqs], list(tokens), []
    while len(out) < n_new:
        counts = {}
        for s, f in zip(cur, freqs):
            for p in zip(s, s[1:]):
                counts[p] = counts.get(p, 0) + f
        allowed = [p for p in counts if len((tokens[p[0]] + tokens[p[1]]).split()) <= max_token_words
                   and b": " not in tokens[p[0]] + tokens[p[1]]]
        if not allowed:
            break
        best = min(allowed, key=lambda p: (-counts[p], p))
        joined = tokens[best[0]] + tokens[best[1]]
        new = tokens.index(joined) if joined in tokens else len(tokens)
        if new == len(tokens):
            tokens.append(joined)
        out.append(best)
        for k, s in enumerate(cur):
            merged, j = [], 0
            while j < len(s):
                if j + 1 < len(s) and (s[j], s[j + 1]) == best:
                    merged.append(new)
                    j += 2
                else:
                    merged.append(s[j])
                    j += 1
            cur[k] = merged
    return out


@pytest.mark.slow
def test_stage2_equals_brute_force_with_id_ties():
    from tokkit.kernels.pretokenize import pretokenize_reference

    docs = corpus(40, seed=5)
    tok = train_superword(docs, vocab_size=700, transition=500, max_token_words=2, normalizer="none",
                          min_frequency=1, special_tokens=["<s>"])
    model = tok.bpe
    n1 = tok.card["vocabulary"]["stage1_merges"]
    stage1 = model.first(n1).to_tokenizer()
    counts = {}
    for d in docs:
        for p in pretokenize_reference(d, "superword"):
            counts[p] = counts.get(p, 0) + 1
    pieces = sorted(counts)
    seqs = [e.ids for e in stage1.encode_batch(pieces, add_special_tokens=False)]
    tokens = model.tokens[:model.first(n1).vocab_size]
    want = _brute_force_stage2(seqs, [counts[p] for p in pieces], tokens, 700 - len(tokens), 2)
    assert [(a, b) for a, b, _ in model.merges[n1:]] == want


def test_engines_agree_and_transition_defaults_to_90_percent():
    docs = corpus(40, seed=3)
    a = train_superword(docs, vocab_size=800, engine="native")
    b = train_superword(docs, vocab_size=800, engine="hf")
    assert a.engine.to_str() == b.engine.to_str()
    assert a.card["parameters"]["transition"] == 720 and a.card["parameters"]["max_token_words"] == 4


def test_bad_input():
    with pytest.raises(InputError, match="transition"):
        train_superword(corpus(5), vocab_size=1000, transition=2000)
    with pytest.raises(InputError, match="transition"):
        train_superword(corpus(5), vocab_size=1000, transition=100)
    with pytest.raises(InputError, match="max_token_words"):
        train_superword(corpus(5), vocab_size=1000, max_token_words=0)
    with pytest.raises(InputError, match="stage 1: .*short of vocab_size=900"):
        train_superword(corpus(2), vocab_size=1000, transition=900)
    with pytest.raises(InputError, match="short of vocab_size=20000"):
        train_superword(corpus(5), vocab_size=20000, transition=400)
    tok = train_superword(corpus(5), vocab_size=20000, transition=400, allow_smaller=True)
    assert 400 < tok.vocab_size < 20000
