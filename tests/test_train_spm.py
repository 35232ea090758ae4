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


@given(rows=st.lists(st.text(min_size=1, max_size=40), max_size=60), budget=st.integers(1, 400),
       seed=st.integers(0, 3))
def test_sample_is_an_ordered_subset_within_the_budget(rows, budget, seed):
    from tokkit.train.spm import Sample

    s = Sample(rows, max_bytes=budget, seed=seed)
    kept = list(s)
    size = [len(r.encode("utf-8", "surrogatepass")) for r in rows]
    if sum(size) <= budget:  # everything fits: all of it, as it was
        assert kept == rows and not s.sampled
    else:  # an ordered subset within the budget (one sentence at least, even a long one)
        it = iter(rows)
        assert all(any(k == r for r in it) for k in kept)
        assert 1 <= len(kept) <= len(rows) and (s.kept_bytes <= budget or len(kept) == 1)
        assert s.sampled == (len(kept) < len(rows))
    assert list(Sample(rows, max_bytes=budget, seed=seed)) == kept  # seeded: the same sample again
    assert s.as_dict()["sentences_read"] == len(rows) and s.kept == len(kept)


def test_sample_is_uniform_over_the_stream():
    from tokkit.train.spm import Sample

    rows = [f"{i:05d}" for i in range(20000)]
    kept = [int(r) for r in Sample(rows, max_bytes=5 * 2000, seed=1)]
    assert len(kept) == 2000
    quarters = [sum(q * 5000 <= k < (q + 1) * 5000 for k in kept) for q in range(4)]
    assert all(400 < q < 600 for q in quarters), quarters


def test_a_corpus_over_the_budget_is_sampled_and_the_card_says_so(monkeypatch, tmp_path):
    from tokkit.train import spm as S

    monkeypatch.setattr(S, "SAMPLE_BYTES", 20_000)
    texts = synthetic_corpus(400)
    tok = train_spm(from_texts(texts), tmp_path / "s", vocab_size=400, model_type="bpe")
    card = read_card(tmp_path / "s")
    sample = card["vocabulary"]["sample"]
    assert sample["sentences_kept"] < sample["sentences_read"] and sample["bytes_kept"] <= 20_000
    assert card["parameters"]["input_sentence_size"] is None and tok.vocab_size == 400
    full = train_spm(from_texts(texts), vocab_size=400, model_type="bpe", input_sentence_size=0)
    assert "sample" not in str(full.card)
