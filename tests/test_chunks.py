"""Long texts cut at safe pre-token boundaries: the pieces' token counts sum to the whole text's count, for
every tokenizer the rule admits, on real multilingual text cut into many small pieces; the rule refuses the
tokenizers it cannot vouch for; and a cut elsewhere does change counts (so the equality is not trivial)."""

from __future__ import annotations

import pytest

from tokkit.tokenizer import load_tokenizer
from tokkit.tokenizer.chunks import _hf_safe, chunk_safe, chunk_texts, count_chunked, safe_cut, split_text

LANGS = ["eng", "deu_1996", "rus", "cmn_hans", "jpn", "mya", "amh", "hin", "arb", "tha", "vie", "kor", "heb",
         "ell", "tam", "khm", "yor", "shn"]


@pytest.fixture(scope="module")
def texts(udhr):
    pc = udhr.select([c for c in LANGS if c in udhr])
    out = [" ".join(pc.texts(c)) for c in pc.codes]       # joined as Petrov et al. join FLORES
    out.append("\n".join(pc.texts("eng")))                  # paragraphs and newlines
    # edge cases around spaces: runs, spaces before newlines, digits, punctuation, contractions
    out.append("a  b   c \n d\t e 12 345 , . ' s 's I'm  don't !? ¿ 中 文 x" * 40 + "  \n ")
    return out


@pytest.mark.parametrize("name", ["gpt2", "r50k_base", "cl100k_base", "o200k_base", "llama3", "bytes", "chars"])
def test_chunked_counts_equal_whole_counts(tokenizers_dir, texts, name):
    tok = load_tokenizer(name)
    assert chunk_safe(tok)
    for text in texts:
        pieces = split_text(text, max_chars=64)
        assert "".join(pieces) == text and len(pieces) > 3
        assert sum(tok.count_batch(pieces)) == tok.count(text), (name, text[:40])
    # through the batched helper, with pieces and batches far smaller than the texts
    assert count_chunked(tok, texts, max_chars=50, batch_chars=500) == tok.count_batch(texts)


def test_pieces_are_bounded_where_safe_points_allow(texts):
    for text in texts[:-1]:
        pieces = split_text(text, max_chars=300)
        assert all(safe_cut(text, sum(map(len, pieces[:k]))) for k in range(1, len(pieces)))
        # a piece longer than the bound only where its first half-window has no safe point (unspaced scripts)
        for p in pieces:
            assert len(p) <= 300 or not any(safe_cut(p, i) for i in range(150, 301))
    assert split_text("abc", 2) == ["abc"] and split_text("", 4) == [""]


def test_a_cut_elsewhere_changes_counts(tokenizers_dir):
    tok = load_tokenizer("gpt2")
    text = "internationalization is hard"
    assert sum(tok.count_batch(["internation", "alization is hard"])) != tok.count(text)
    assert not safe_cut(text, 11) and not safe_cut("a  b", 1) and not safe_cut("a  b", 2) and safe_cut("a b", 1)


def test_unsafe_tokenizers_are_encoded_whole(tokenizers_dir):
    long = "word " * 30000
    for name in ["mistral-7b-v0.3", "llama2", str(tokenizers_dir / "bert-base-multilingual-cased")]:
        tok = load_tokenizer(name)
        assert not chunk_safe(tok), name
        pieces, owner = chunk_texts(tok, [long])
        assert pieces == [long] and owner.tolist() == [0]


def test_hf_spec_rule():
    split = {"type": "Split", "pattern": {"Regex": load_pattern("o200k_base")}, "behavior": "Isolated",
             "invert": False}
    bl = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}
    base = {"normalizer": None, "model": {"type": "BPE"}, "added_tokens": []}
    assert _hf_safe({**base, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split, bl]}})
    assert not _hf_safe({**base, "pre_tokenizer": bl})                       # no split at all: one piece
    custom = {**split, "pattern": {"Regex": r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"}}
    assert not _hf_safe({**base, "pre_tokenizer": {"type": "Sequence", "pretokenizers": [custom, bl]}})
    byte_level = {"type": "ByteLevel", "add_prefix_space": False}
    assert _hf_safe({**base, "pre_tokenizer": byte_level})
    assert not _hf_safe({**base, "pre_tokenizer": byte_level, "normalizer": {"type": "Lowercase"}})
    spaced = [{"content": "<a b>", "lstrip": False, "rstrip": False}]
    assert not _hf_safe({**base, "pre_tokenizer": byte_level, "added_tokens": spaced})
    strip = [{"content": "<s>", "lstrip": False, "rstrip": True}]
    assert not _hf_safe({**base, "pre_tokenizer": byte_level, "added_tokens": strip})


def load_pattern(name: str) -> str:
    from tokkit.kernels.split_patterns import ENCODINGS

    return ENCODINGS[name]
