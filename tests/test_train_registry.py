"""The trainers sweeps and the demo use, by algorithm name (tokkit.train.registry)."""

import subprocess
import sys

import pytest

from tokkit.corpora import WordCounts
from tokkit.errors import InputError
from tokkit.train.registry import ALGORITHMS, MULTI_SIZE, resolve_algorithm

SPACED = WordCounts({"human": 50, "rights": 40, "dignity": 30, "free": 20})
SPACELESS = WordCounts({"人人": 50, "自由": 40, "的": 30})


@pytest.fixture(scope="module")
def wordfreq_tables():
    from tokkit.corpora import wordfreq_counts

    return (wordfreq_counts("en", n_words=3000, total=300_000), wordfreq_counts("zh", n_words=3000, total=300_000))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_each_algorithm_trains_words_as_they_occur_in_running_text(name, wordfreq_tables):
    en, zh = wordfreq_tables
    train = resolve_algorithm(name)
    tok = train(en, 1500, 0)
    assert 256 < tok.vocab_size <= 1500
    text = "all human beings are born free"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    # frequent words are one token with the space before them; words trained without the space they follow
    # in running text would cost a space token each (11 or more)
    assert len(ids) <= 9, [tok.decode([i]) for i in ids]
    assert tok.count_batch([text, "free"]) == [len(ids), len(tok.encode("free"))]
    # in a script written without spaces a word follows no space: 自由 is one token inside running text
    tok = train(zh, 3000, 0)
    text = "人人生而自由的"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert len(ids) <= 6, [tok.decode([i]) for i in ids]


@pytest.mark.parametrize("lang", ["en", "hi", "zh"])
def test_hf_bpe_is_the_oracle_of_native_bpe(lang, wordfreq_tables):
    """The two byte-level algorithms are one objective on two engines: the same vocabulary and merges, in
    a spaced script, one with combining marks (Devanagari) and one written without spaces."""
    import json

    from tokkit.corpora import wordfreq_counts

    counts = dict(en=wordfreq_tables[0], zh=wordfreq_tables[1]).get(lang) or \
        wordfreq_counts(lang, n_words=3000, total=300_000)
    hf, native = ALGORITHMS["hf-bpe"](counts, 2000, 0), ALGORITHMS["native-bpe"](counts, 2000, 0)
    assert hf.vocab_size == native.vocab_size == 2000
    assert hf.engine.get_vocab() == native.engine.get_vocab()
    merges = [json.loads(t.engine.to_str())["model"]["merges"] for t in (hf, native)]
    assert merges[0] == merges[1]


def test_multi_size_gives_what_single_trainings_give():
    for name, train_sizes in MULTI_SIZE.items():
        many = train_sizes(SPACED, [270, 290, 320], 0)
        for v, tok in many.items():
            alone = ALGORITHMS[name](SPACED, v, 0)
            assert tok.engine.get_vocab() == alone.engine.get_vocab()


def test_sentencepiece_from_counts_equals_from_text():
    """The sweeps' SentencePiece is train_spm with the counts as its tsv input: the same model as training
    on the words written out as often as they occur."""
    from tokkit.train.spm import train_spm

    common = dict(vocab_size=300, model_type="bpe", special_tokens=[], add_dummy_prefix=True)
    from_counts = train_spm(word_counts=SPACED, **common).engine
    from_text = train_spm([w for w, c in SPACED.items() for _ in range(c)], **common).engine
    def pieces(sp):  # the vocabulary with scores (the model's trainer_spec records the input format too)
        return [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]

    assert pieces(from_counts) == pieces(from_text)
    assert from_counts.encode("dignity free", out_type=str) == ["\u2581dignity", "\u2581free"]
    with pytest.raises(InputError, match="one of them"):
        train_spm(["text"], word_counts=SPACED, **common)
    with pytest.raises(InputError, match="reading options"):
        train_spm(word_counts=SPACED, per_line=True, **common)
    with pytest.raises(InputError, match="no word"):
        train_spm(word_counts={"a": 0}, **common)


def test_sentencepiece_smaller_only_when_allowed():
    from tokkit.train.spm import train_spm

    common = dict(vocab_size=5000, model_type="bpe", special_tokens=[], word_counts=SPACED)
    with pytest.raises(InputError, match="SentencePiece training failed"):
        train_spm(**common)
    sp = train_spm(allow_smaller=True, **common).engine
    assert 257 < sp.get_piece_size() < 5000


def test_resolve_algorithm():
    from tokkit.analysis import sweeps
    from tokkit.train import registry

    assert resolve_algorithm("tokkit.train.registry:train_hf_bpe") is registry.train_hf_bpe
    with pytest.raises(InputError, match="unknown algorithm 'nope'"):
        resolve_algorithm("nope")
    with pytest.raises(InputError, match="cannot import"):
        resolve_algorithm("tokkit.no_such_module:f")
    # sweeps register into the same table (tokkit.analysis.sweeps.register_algorithm stays importable)
    sweeps.register_algorithm("test-chars", lambda counts, v, seed=0: None)
    try:
        assert "test-chars" in registry.ALGORITHMS
    finally:
        del registry.ALGORITHMS["test-chars"]


def test_train_does_not_import_analysis():
    code = ("import sys, tokkit.train.registry, tokkit.train.parity, tokkit.train.native, tokkit.train.spm; "
            "print(sorted(m for m in sys.modules if m.startswith('tokkit.analysis')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
