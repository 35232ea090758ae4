"""Loading tokenizers: ids and counts must equal the engines' own encode on the real shared files."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tokkit
from tokkit.errors import InputError
from tokkit.tokenizer import load_tokenizer

SAMPLE_LANGS = ["eng", "deu_1996", "rus", "cmn_hans", "hin", "mya", "amh", "arb", "jpn", "kor", "vie", "tha",
                "ell_monotonic", "heb", "yor", "tam"]


@pytest.fixture(scope="module")
def texts(data_dir):
    from tokkit.corpora import load_udhr

    pc = load_udhr(data_dir / "udhr", languages=SAMPLE_LANGS)
    out = []
    for code in SAMPLE_LANGS:
        out += pc.texts(code)[:4]
    # edge cases: empty, leading/trailing/multiple whitespace, newlines, digits, emoji, a lone combining mark
    out += ["", " ", "  leading", "trailing  ", "a\n\nb\tc", "1234567 89", "emoji 🤖👩‍👩‍👧", "\u0301x", "ﬁ ligature"]
    return out


# ---- built-ins ----

@given(st.text(max_size=60))
def test_bytes_and_chars_round_trip(text):
    b, c = load_tokenizer("bytes"), load_tokenizer("chars")
    assert b.encode(text) == list(text.encode("utf-8", "surrogatepass"))
    assert b.decode(b.encode(text)) == text  # hypothesis text has no lone surrogates
    assert c.decode(c.encode(text)) == text
    assert b.count_batch([text]) == [len(b.encode(text))]
    assert c.count_batch([text]) == [len(text)]
    ids, offs = b.encode_with_offsets(text)
    assert len(ids) == len(offs)
    # every byte's offset is the character holding it
    for (s, e), k in zip(offs, range(len(ids))):
        assert e == s + 1 and 0 <= s < len(text)
    assert [text[s] for s, _ in offs] == [ch for ch in text for _ in ch.encode("utf-8", "surrogatepass")]


def test_builtin_vocab():
    assert load_tokenizer("bytes").vocab_size == 256
    assert load_tokenizer("chars").vocab_size == 0x110000
    assert load_tokenizer("bytes").unk_id is None


# ---- real files ----

KNOWN = [  # README of the shared tokenizers: (spec, text, ids)
    ("gpt2", "hello world", [31373, 995]),
    ("r50k_base", "hello world", [31373, 995]),
    ("p50k_base", "hello world", [31373, 995]),
    ("cl100k_base", "hello world", [15339, 1917]),
    ("o200k_base", "hello world", [24912, 2375]),
    ("llama2", "Hello world", [15043, 3186]),
]


@pytest.mark.parametrize("spec,text,ids", KNOWN)
def test_known_ids(tokenizers_dir, monkeypatch, spec, text, ids):
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    tok = load_tokenizer(spec)
    assert tok.encode(text) == ids
    assert tok.decode(ids).strip() == text


def _engine_hf(path):
    from tokenizers import Tokenizer

    t = Tokenizer.from_file(str(path))
    return lambda s: t.encode(s, add_special_tokens=False).ids


def _engine_spm(path):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(path))
    return lambda s: sp.encode(s)


def _engine_tiktoken(name, tokenizers_dir):
    # tiktoken's own registry (its split pattern, its hash check), read from the shared cache: independent of
    # the patterns tokkit carries
    import tiktoken

    os.environ["TIKTOKEN_CACHE_DIR"] = str(tokenizers_dir / "tiktoken" / "cache")
    enc = tiktoken.get_encoding(name)
    return enc.encode_ordinary


ENGINES = [
    ("gpt2/tokenizer.json", "hf"), ("mistral-7b-v0.3/tokenizer.json", "hf"),
    ("bert-base-multilingual-cased/tokenizer.json", "hf"), ("kl3m/kl3m-001-32k/tokenizer.json", "hf"),
    ("kl3m/kl3m-004-char-4k-cased/tokenizer.json", "hf"),
    ("llama2/tokenizer.model", "spm"), ("mistral-7b-v0.3/tokenizer.model.v3", "spm"),
    ("tiktoken/cl100k_base.tiktoken", "cl100k_base"), ("tiktoken/o200k_base.tiktoken", "o200k_base"),
    ("tiktoken/r50k_base.tiktoken", "r50k_base"),
]


@pytest.mark.slow
@pytest.mark.parametrize("rel,engine", ENGINES, ids=[e[0] for e in ENGINES])
def test_counts_equal_engine_encode(tokenizers_dir, texts, rel, engine):
    path = tokenizers_dir / rel
    ref = (_engine_hf(path) if engine == "hf" else _engine_spm(path) if engine == "spm"
           else _engine_tiktoken(engine, tokenizers_dir))
    tok = load_tokenizer(path)
    expected = [ref(t) for t in texts]
    assert [tok.encode(t) for t in texts] == expected
    assert tok.encode_batch(texts) == expected          # batch (and no padding: kl3m's json pads batches)
    assert tok.count_batch(texts) == [len(e) for e in expected]
    assert [tok.count(t) for t in texts[:5]] == [len(e) for e in expected[:5]]
    for t, (ids, offs), exp in zip(texts, tok.encode_batch_with_offsets(texts), expected):
        assert ids == exp
        assert len(offs) == len(ids)
        assert all(0 <= s <= e <= len(t) for s, e in offs)


def test_llama3_ranks_with_its_pattern(tokenizers_dir):
    tok = load_tokenizer(tokenizers_dir / "llama3" / "tokenizer.model")
    assert tok.kind == "tiktoken" and tok.vocab_size == 128000
    assert tok.encode("hello world") == [15339, 1917]
    assert tok.decode(tok.encode("Grüße, 世界!")) == "Grüße, 世界!"


def test_folder_and_names(tokenizers_dir, monkeypatch):
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    assert load_tokenizer(tokenizers_dir / "gpt2").name == "gpt2"
    assert load_tokenizer("llama2").kind == "sentencepiece"
    assert load_tokenizer("kl3m-001-32k").kind == "hf"
    mbert = load_tokenizer("bert-base-multilingual-cased")
    assert mbert.unk_id == mbert.engine.token_to_id("[UNK]")
    assert load_tokenizer("llama2").byte_fallback_ids and load_tokenizer("llama2").unk_id == 0
    assert tokkit.load_tokenizer is load_tokenizer


def test_tiktoken_pattern_by_name(tokenizers_dir, tmp_path):
    # the same ranks under a name nobody recognises: needs pattern=, by regex or by name
    f = tmp_path / "mine.tiktoken"
    shutil.copy(tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken", f)
    with pytest.raises(InputError, match="split pattern"):
        load_tokenizer(f)
    assert load_tokenizer(f, split_pattern="cl100k_base").encode("hello world") == [15339, 1917]
    from tokkit.tokenizer.tiktoken_ranks import PATTERNS

    assert load_tokenizer(f, split_pattern=PATTERNS["cl100k_base"]).encode("hello world") == [15339, 1917]


# ---- bad input ----

def test_tiktoken_without_pattern(tmp_path):
    f = tmp_path / "ranks.tiktoken"
    f.write_text("YQ== 0\nYg== 1\nYWI= 2\n")
    with pytest.raises(InputError, match="pattern"):
        load_tokenizer(f)
    tok = load_tokenizer(f, split_pattern=r"\S+|\s+")
    assert tok.encode("ab") == [2] and tok.encode("ba") == [1, 0]


def test_corrupt_files(tmp_path):
    bad_json = tmp_path / "tokenizer.json"
    bad_json.write_text('{"model": {"type": "BPE", "vocab": ')
    with pytest.raises(InputError, match=str(bad_json)):
        load_tokenizer(bad_json)
    with pytest.raises(InputError, match="tokenizer.json"):
        load_tokenizer(tmp_path)  # a folder whose tokenizer.json is corrupt
    bad_model = tmp_path / "x.model"
    bad_model.write_bytes(b"\n\x05garbage-not-a-model")
    with pytest.raises(InputError, match="SentencePiece"):
        load_tokenizer(bad_model)
    bad_ranks = tmp_path / "bad.tiktoken"
    bad_ranks.write_text("YQ== 0\nnot base64!! x\n")
    with pytest.raises(InputError, match="bad.tiktoken:2"):
        load_tokenizer(bad_ranks, split_pattern=r"\S+")
    other = tmp_path / "notes.bin"
    other.write_bytes(b"\x00\x01 plain")
    with pytest.raises(InputError, match="unknown tokenizer format"):
        load_tokenizer(other)


def test_unknown_name(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tmp_path))
    with pytest.raises(InputError, match="no such tokenizer"):
        load_tokenizer("no-such-tokenizer")
    empty = tmp_path / "emptydir"
    empty.mkdir()
    with pytest.raises(InputError, match="no tokenizer.json"):
        load_tokenizer(empty)


@given(st.text(alphabet=st.sampled_from(list("ab é世\n🤖\u0301  xyzЖ")), max_size=40))
def test_tiktoken_offsets_equal_decode_with_offsets(tokenizers_dir, text):
    # tokkit computes offsets from token byte lengths; tiktoken's own decode_with_offsets is the reference
    tok = _cl100k(tokenizers_dir)
    ids, offs = tok.encode_with_offsets(text)
    _, starts = tok.engine.decode_with_offsets(ids)
    assert [s for s, _ in offs] == starts
    ends = starts[1:] + [len(text)]
    assert [e for _, e in offs] == [max(e, s + 1) if s < len(text) else e for s, e in zip(starts, ends)]
    assert tok.encode_batch_with_offsets([text, text]) == [(ids, offs)] * 2


_CACHE = {}


def _cl100k(tokenizers_dir):
    if "cl100k" not in _CACHE:
        _CACHE["cl100k"] = load_tokenizer(tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken")
    return _CACHE["cl100k"]


@pytest.mark.slow
def test_save_and_card(tokenizers_dir, tmp_path):
    # an HF tokenizer saves its tokenizer.json (alone, or into a folder); others say they cannot
    tok = load_tokenizer(tokenizers_dir / "gpt2")
    assert tok.card is None
    tok.save(tmp_path / "gpt2.json")
    tok.save(tmp_path / "folder")
    text = "Saving keeps every id: naïve café 1234"
    for path in (tmp_path / "gpt2.json", tmp_path / "folder"):
        assert load_tokenizer(path).encode(text) == tok.encode(text)
    with pytest.raises(InputError, match="cannot be saved"):
        load_tokenizer("bytes").save(tmp_path / "bytes.json")


def test_pattern_is_the_deprecated_spelling_of_split_pattern(tokenizers_dir):
    f = tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken"
    with pytest.warns(DeprecationWarning, match="split_pattern"):
        tok = load_tokenizer(f, pattern="cl100k_base")
    assert tok.encode("hello world") == [15339, 1917]


_B64 = st.sampled_from([b"YQ==", b"Yg==", b"YWI=", b"IA==", b"YWJj"])
_INT = st.integers(0, 9).map(lambda i: str(i).encode())
_LINE = st.one_of(
    st.tuples(_B64, _INT), st.tuples(_B64, _INT), st.tuples(_B64, _INT), st.just(()),  # well formed, blank
    st.tuples(_B64), st.tuples(_B64, _INT, _INT), st.tuples(_INT, _B64, _INT),  # one field, three fields
    st.tuples(st.sampled_from([b"not!", b"Y", b"YQ==YQ==", b"YQ"]), _INT),  # bad base64
    st.tuples(_B64, st.sampled_from([b"x", b"1.5", b"0x1"])))  # a rank that is not an integer
_SPACE = st.sampled_from([b" ", b"  ", b"\t", b" \r"])


@given(st.lists(_LINE, max_size=12), _SPACE)
@example([(b"YQ==",), (b"1", b"Yg==", b"2")], b" ")  # fields that pair up across a one- and a three-field line
def test_ranks_read_at_once_equal_line_by_line(tmp_path_factory, lines, space):
    # the fast read of a ranks file (all fields at once) gives the line-by-line read's ranks, or its error
    # naming the line: blank lines, lines of one or three fields, bad base64, ranks that are not integers
    from tokkit.tokenizer.tiktoken_ranks import _read_ranks_by_line, read_ranks

    f = tmp_path_factory.mktemp("ranks") / "r.tiktoken"
    f.write_bytes(b"\n".join(space.join(fs) for fs in lines) + b"\n")

    def outcome(read):
        try:
            return read(str(f))
        except InputError as e:
            return str(e)

    assert outcome(read_ranks) == outcome(_read_ranks_by_line)
