"""Identical inputs give identical files, for every recipe (the card differs only in timings and date)."""


import pytest
from _synthetic import SYLLABLES, synthetic_corpus

from tokkit.train import train
from tokkit.train.artifacts import read_card


def corpus():
    return synthetic_corpus(120, seed=9, units=SYLLABLES + ["é", "ü"], suffix=".\n")


@pytest.mark.parametrize("recipe,kw,files", [
    ("bpe", dict(vocab_size=600, terms=["ba be", "(a)"]), ["tokenizer.json", "tokenizer_config.json"]),
    ("char", dict(vocab_size=300, max_token_chars=4), ["tokenizer.json"]),
    ("superword", dict(vocab_size=700, transition=500), ["tokenizer.json"]),
    ("spm", dict(vocab_size=500, model_type="unigram"), ["tokenizer.model"]),
    ("spm", dict(vocab_size=500, model_type="bpe"), ["tokenizer.model"]),
])
def test_identical_files(tmp_path, recipe, kw, files):
    docs = corpus()
    for name in ("a", "b"):
        train(list(docs), recipe=recipe, out=tmp_path / name, **kw)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    ca, cb = read_card(tmp_path / "a"), read_card(tmp_path / "b")
    for c in (ca, cb):
        c.pop("timings"), c.pop("created")
    assert ca == cb


def test_public_names():
    import importlib

    import tokkit

    for name in ("train", "train_bpe", "train_char", "train_superword", "train_spm", "boundary_stability",
                 "ocr_noise"):
        assert callable(getattr(tokkit, name)), name
    # importing a submodule binds the package to tokkit.train; it stays callable as the function
    importlib.import_module("tokkit.train.bpe")
    tok = tokkit.train(corpus()[:30], recipe="bpe", vocab_size=300, min_frequency=1)
    assert tok.vocab_size == 300
