"""SentencePiece recipes: unigram and BPE from a tokkit.corpora stream, layout kept, special ids."""


import pytest
import sentencepiece as spm
from _synthetic import synthetic_corpus
from hypothesis import given
from hypothesis import strategies as st

from tokkit.corpora import from_texts
from tokkit.errors import InputError
from tokkit.train import DEFAULT_SPECIAL_TOKENS, train_spm
from tokkit.train.artifacts import read_card
from tokkit.train.spm import sentences


def corpus(n_docs=120, seed=3):
    return synthetic_corpus(n_docs, seed=seed, words_per_doc=120, suffix="\n  indented line\n")


@pytest.fixture(scope="module", params=["unigram", "bpe"])
def trained(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("spm") / request.param
    sp = train_spm(from_texts(corpus()), out, vocab_size=600, model_type=request.param).engine
    return sp, out, request.param


def test_artifact_and_special_ids(trained):
    sp, out, kind = trained
    loaded = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    assert loaded.get_piece_size() == 600
    for i, s in enumerate(DEFAULT_SPECIAL_TOKENS):
        assert loaded.id_to_piece(i) == s
    # control pieces: never matched in text (issue 18.10), only given by id (allowed_special in tokkit)
    assert all(loaded.is_control(i) for i in range(len(DEFAULT_SPECIAL_TOKENS)))
    assert not set(loaded.encode("<|user|>hi")) & set(range(len(DEFAULT_SPECIAL_TOKENS)))
    card = read_card(out)
    assert card["recipe"] == "spm" and card["parameters"]["model_type"] == kind
    assert card["files"] == ["tokenizer.model"] and card["corpus"]["documents"] == 120


@pytest.mark.parametrize("text", ["  two  spaces and\ttab", " leading space", "x\n\ny", "日本 ß 😀"])
def test_layout_kept(trained, text):
    sp, _, _ = trained
    assert sp.decode(sp.encode(text)) == text


@given(st.text(alphabet=st.characters(blacklist_characters="\u2581", blacklist_categories=("Cs",)), max_size=80))
def test_round_trip(trained, text):
    # U+2581 is SentencePiece's own space marker, the one character it cannot keep
    sp, _, _ = trained
    assert sp.decode(sp.encode(text)) == text


def test_sentences_fit_the_limit():
    long_line = " ".join(["word"] * 3000) + " ünïcödé" * 500
    out = list(sentences(["a\nb\n\n" + long_line], 100))
    assert out[:2] == ["a", "b"]
    assert all(0 < len(s.encode()) <= 100 for s in out)
    assert "".join(out[2:]) == long_line  # nothing lost


def test_bad_input():
    with pytest.raises(InputError, match="model_type"):
        train_spm(corpus(3), vocab_size=600, model_type="wordpiece")
    with pytest.raises(InputError, match="normalization"):
        train_spm(corpus(3), vocab_size=600, normalization="NFC")
    with pytest.raises(InputError, match="must exceed"):
        train_spm(corpus(3), vocab_size=200)
    with pytest.raises(InputError, match="SentencePiece training failed"):
        train_spm(["a b c"], vocab_size=5000, model_type="bpe")
