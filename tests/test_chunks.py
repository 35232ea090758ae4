"""Long texts cut at safe pre-token boundaries: the pieces' token counts sum to the whole text's count, for
every tokenizer the rule admits, on real multilingual text cut into many small pieces; the rule refuses the
tokenizers it cannot vouch for; and a cut elsewhere does change counts (so the equality is not trivial)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokkit.tokenizer import load_tokenizer
from tokkit.tokenizer.chunks import (
    _hf_safe,
    chunk_rule,
    chunk_safe,
    chunk_texts,
    count_chunked,
    safe_cut,
    split_text,
)

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


@pytest.mark.slow
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


def test_unproven_tokenizers_are_cut_only_beyond_long_chars(tokenizers_dir):
    long = "word " * 30000   # 150,000 characters: above MAX_CHARS, below LONG_CHARS
    for name in ["mistral-7b-v0.3", str(tokenizers_dir / "bert-base-multilingual-cased")]:
        tok = load_tokenizer(name)
        assert not chunk_safe(tok), name
        pieces, owner = chunk_texts(tok, [long])
        assert pieces == [long] and owner.tolist() == [0]


@pytest.mark.parametrize("name", ["llama2"])
def test_sentencepiece_cuts_drop_the_space_and_keep_counts(tokenizers_dir, texts, name):
    """llama2: split by whitespace, identity normalization, dummy prefix: a cut drops its space and the
    next piece's dummy prefix gives it back, so the counts are the whole text's."""
    tok = load_tokenizer(name)
    rule = chunk_rule(tok)
    assert rule.exact and rule.drop_space
    for text in texts:
        pieces = split_text(text, max_chars=64, drop_space=True)
        assert " ".join(pieces) == text and len(pieces) > 3
        assert sum(tok.count_batch(pieces)) == tok.count(text), text[:40]
    assert count_chunked(tok, texts, max_chars=50, batch_chars=500) == tok.count_batch(texts)


def test_tokkit_spm_without_dummy_prefix_keeps_the_space(tmp_path, texts):
    import tokkit

    tok = tokkit.train_spm(texts[:-1], vocab_size=3000, allow_smaller=True)  # layout-preserving defaults
    rule = chunk_rule(tok)
    assert rule.exact and not rule.drop_space
    assert count_chunked(tok, texts, max_chars=50, batch_chars=500) == tok.count_batch(texts)


def test_approximate_cuts_beyond_long_chars_are_bounded(tokenizers_dir, texts, monkeypatch):
    """Tokenizers without an exact rule are cut only past LONG_CHARS characters, and then each cut changes
    the count by a few tokens at most (the documented difference)."""
    from tokkit.tokenizer import chunks

    monkeypatch.setattr(chunks, "LONG_CHARS", 500)
    text = " ".join(texts[:-1])
    for name in ["mistral-7b-v0.3", str(tokenizers_dir / "bert-base-multilingual-cased")]:
        tok = load_tokenizer(name)
        pieces, _ = chunk_texts(tok, [text])
        cuts = len(pieces) - 1
        assert cuts >= len(text) // 500 - 1 and all(len(p) <= 500 for p in pieces)
        got, whole = count_chunked(tok, [text])[0], tok.count(text)
        assert abs(got - whole) <= 3 * cuts, (name, got, whole, cuts)


def test_unspaced_text_is_cut_at_long_chars(monkeypatch):
    from tokkit.tokenizer import chunks

    monkeypatch.setattr(chunks, "LONG_CHARS", 1000)
    text = "人人生而自由在尊严和权利上一律平等" * 400
    pieces = split_text(text, max_chars=64)
    assert "".join(pieces) == text and max(map(len, pieces)) <= 1000 and len(pieces) >= len(text) // 1000


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("ab cd  \n\t.,'s12中文éß") + ["'re", " 's", "\u00a0", "don't", "I'M"]),
                max_size=120).map("".join), st.integers(2, 40))
@pytest.mark.slow
def test_hypothesis_pieces_count_like_the_whole(text, max_chars):
    for tok in _hyp_tokenizers():
        rule = chunk_rule(tok)
        pieces = split_text(text, max_chars, drop_space=rule.drop_space)
        assert (" " if rule.drop_space else "").join(pieces) == text
        assert sum(tok.count_batch(pieces)) == tok.count(text), (tok.name, text, pieces)


_HYP: list = []


def _hyp_tokenizers():
    if not _HYP:
        _HYP.extend(load_tokenizer(n) for n in ["gpt2", "cl100k_base", "o200k_base", "llama3", "llama2"])
    return _HYP


@pytest.mark.slow
def test_evaluate_in_pieces_equals_whole(tokenizers_dir, texts, monkeypatch):
    """eval's metrics on texts cut into 64-character pieces equal those of whole-text encodes. For
    SentencePiece's dropped-space cuts, the counts are equal and the per-word figures differ by at most one
    token per cut (the documented difference: a lone dummy-prefix token of a piece spans no character of
    its own and is given the word after it, where the whole text's spans the space)."""
    from dataclasses import asdict

    from tokkit.analysis.metrics import evaluate
    from tokkit.tokenizer import chunks

    for name in ["gpt2", "o200k_base", "llama2"]:
        tok = load_tokenizer(name)
        whole = asdict(evaluate(tok, texts))
        with monkeypatch.context() as m:
            m.setattr(chunks, "MAX_CHARS", 64)
            cut = asdict(evaluate(tok, texts))
        if chunk_rule(tok).drop_space:
            cuts = sum(len(split_text(t, 64, drop_space=True)) - 1 for t in texts)
            diff = abs(cut["fertility"] - whole["fertility"]) * whole["words"]
            assert diff <= cuts, (diff, cuts)
            for k in ("token_length_histogram", "mean_token_length", "fertility", "continued_words"):
                whole.pop(k), cut.pop(k)
        assert cut == whole, name


def test_hf_trainer_merges_unchanged_by_cuts(monkeypatch):
    """train bpe (native counting and --engine hf) and train char feed pieces (cut_for_split): same merges."""
    import tokkit
    from tokkit.tokenizer import chunks

    doc = " ".join(f"word{i % 97} the{i % 13} ab{i % 7}c" for i in range(3000))
    a = tokkit.train_bpe([doc], vocab_size=400, engine="hf", min_frequency=1, allow_smaller=True)
    n1 = tokkit.train_bpe([doc], vocab_size=400, min_frequency=1, allow_smaller=True)  # native: count_corpus
    c1 = tokkit.train_char([doc], vocab_size=300, min_frequency=1)
    monkeypatch.setattr(chunks, "MAX_CHARS", 50)
    assert len(list(chunks.cut_for_split([doc], chunks.PATTERNS["gpt2"]))) > 100
    b = tokkit.train_bpe([doc], vocab_size=400, engine="hf", min_frequency=1, allow_smaller=True)
    c2 = tokkit.train_char([doc], vocab_size=300, min_frequency=1)
    n2 = tokkit.train_bpe([doc], vocab_size=400, min_frequency=1, allow_smaller=True)
    assert a.engine.to_str() == b.engine.to_str()
    assert n1.engine.to_str() == n2.engine.to_str()
    assert c1.engine.to_str() == c2.engine.to_str()


def test_spm_sentences_walk_a_long_line():
    from tokkit.train.spm import sentences

    line = ("word straße 中文 " * 5000).strip()
    out = list(sentences([line], 100))
    assert "".join(out) == line and all(len(s.encode()) <= 100 for s in out)


def test_merge_cuts_a_huge_document_into_sequences(tokenizers_dir, monkeypatch):
    from tokkit.dynamic import collate
    from tokkit.dynamic.collate import measure_reduction

    monkeypatch.setattr(collate, "SEQUENCE_CHARS", 2000)
    tok = load_tokenizer("gpt2")
    r = measure_reduction(tok, ["the cat sat on the mat " * 1000, "short one"], batch_size=4)
    assert r["texts"] == 2 and r["sequences"] >= 12 and r["exact"]
    assert r["tokens_in"] == sum(tok.count_batch(split_text("the cat sat on the mat " * 1000, 2000))) + \
        tok.count("short one")


def test_merge_reads_a_stream_of_documents_as_its_batches_go(tokenizers_dir, monkeypatch):
    # a generator is read a batch at a time: never more than one batch of sequences is pending
    from tokkit.dynamic import collate
    from tokkit.dynamic.collate import measure_reduction

    monkeypatch.setattr(collate, "SEQUENCE_CHARS", 2000)
    tok = load_tokenizer("gpt2")
    pending = []
    real = collate.tokenize_with_words

    def spy(tokenizer, texts, **kw):
        pending.append(len(texts))
        return real(tokenizer, texts, **kw)

    monkeypatch.setattr(collate, "tokenize_with_words", spy)
    docs = ("the cat sat on the mat " * (200 * k + 1) for k in range(6))
    r = measure_reduction(tok, docs, batch_size=3)
    assert r["texts"] == 6 and r["sequences"] == sum(pending) and max(pending) == 3 and r["exact"]


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


def _greedy_batches(texts, batch_chars):
    out, start, size = [], 0, 0
    for k, t in enumerate(texts):
        if size and size + len(t) > batch_chars:
            out.append((start, k))
            start, size = k, 0
        size += len(t)
    if start < len(texts):
        out.append((start, len(texts)))
    return out


@given(lengths=st.lists(st.integers(0, 50), max_size=40), budget=st.integers(1, 120))
def test_batches_are_the_greedy_ranges(lengths, budget):
    from tokkit.tokenizer.chunks import batches

    texts = ["x" * n for n in lengths]
    assert list(batches(texts, budget)) == _greedy_batches(texts, budget)
