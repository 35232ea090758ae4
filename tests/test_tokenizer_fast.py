"""Fast exact encoders (tokkit[fast]): the same ids and counts as the reference engine, and a quiet fallback
to it wherever they are not exact or not installed."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokkit._extras import MissingExtraError
from tokkit.errors import InputError
from tokkit.tokenizer import load_tokenizer
from tokkit.tokenizer.fast import ENGINES

HAVE = {name: importlib.util.find_spec({"tokie": "tokie", "splintr": "splintr"}[name]) is not None
        for name in ENGINES}


def _need(engine):
    if not HAVE[engine]:
        pytest.skip(f"{engine} is not installed (pip install 'tokkit[fast]')")


# every shared tokenizer each engine is exact for (the byte-level BPE ones, which encoder='auto' tries)
SUPPORTED = [
    ("gpt2", "tokie"), ("gpt2", "splintr"),
    ("kl3m-001-32k", "splintr"),
    ("r50k_base", "splintr"), ("p50k_base", "splintr"), ("cl100k_base", "splintr"), ("o200k_base", "splintr"),
    ("llama3", "splintr"),
]


@pytest.fixture(scope="module")
def udhr_units(udhr):
    return [t for code in udhr.codes for t in udhr.texts(code)]


@pytest.fixture(scope="module")
def domain_heldout(data_dir):
    """A sample of the held-out (eval split) domain documents, whole: long inputs with tables and notes."""
    from tokkit.corpora import read_documents
    from tokkit.errors import EmptyInputError

    files = sorted(str(p) for p in (data_dir / "domain").glob("*/*.jsonl.gz"))
    docs = []
    for f in files:  # every file with held-out documents contributes, so every source's layout is covered
        try:
            docs += [d.text for d in read_documents(f, split="eval", max_documents=3, max_bytes=400_000)]
        except EmptyInputError:  # a file of a few documents may have none in the eval split
            pass
    assert len(docs) >= len(files) // 2
    return docs


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("spec,engine", SUPPORTED, ids=[f"{s}-{e}" for s, e in SUPPORTED])
def test_fast_equals_reference_on_all_udhr_and_domain(tokenizers_dir, monkeypatch, udhr_units, domain_heldout,
                                                      spec, engine):
    _need(engine)
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    ref = load_tokenizer(spec, encoder="reference")
    fast = load_tokenizer(spec, encoder=engine)
    assert ref.encoder == "reference" and fast.encoder == engine
    for texts in (udhr_units, domain_heldout):
        want = ref.encode_batch(texts)
        got = fast.encode_batch(texts)
        bad = [t[:60] for t, a, b in zip(texts, want, got) if list(a) != list(b)]
        assert not bad, f"{len(bad)} of {len(texts)} texts differ, e.g. {bad[:3]}"
        assert list(fast.count_batch(texts)) == [len(a) for a in want]
        assert [fast.encode(t) for t in texts[::400]] == want[::400]  # the single-text call too


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["gpt2", "cl100k_base", "o200k_base", "llama3"])
def test_auto_picks_an_exact_engine_and_keeps_the_rest(tokenizers_dir, monkeypatch, spec):
    if not any(HAVE.values()):
        pytest.skip("tokkit[fast] is not installed")
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    tok, ref = load_tokenizer(spec), load_tokenizer(spec, encoder="reference")
    assert tok.encoder in ENGINES
    assert type(tok) is type(ref) and tok.kind == ref.kind and tok.vocab_size == ref.vocab_size
    text = "Grüße, 世界! It's 12345 tokens\n\n  "
    assert tok.encode(text) == ref.encode(text) and tok.count(text) == len(ref.encode(text))
    assert tok.encode_with_offsets(text) == ref.encode_with_offsets(text)  # offsets stay on the reference
    assert tok.decode(tok.encode(text)) == text


# where the engines differ from Hugging Face's: KL3M's multi-word tokenizer (both engines, digit runs),
# KL3M-001 (tokie: an apostrophe before r taken as a contraction, on 12 UDHR units), KL3M-004-char
# (splintr: Unicode spaces after a newline, in held-out bills; tokie: digit runs)
NOT_EXACT = [("kl3m-005-multi-word-example-32k", "tokie"), ("kl3m-005-multi-word-example-32k", "splintr"),
             ("kl3m-001-32k", "tokie"), ("kl3m-004-char-4k-cased", "splintr"), ("kl3m-004-char-4k-cased", "tokie")]


@pytest.mark.slow
@pytest.mark.parametrize("spec,engine", NOT_EXACT, ids=[f"{s}-{e}" for s, e in NOT_EXACT])
def test_the_probe_catches_engines_that_differ(tokenizers_dir, monkeypatch, spec, engine):
    _need(engine)
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    assert load_tokenizer(spec).encoder != engine  # auto: another engine or the reference, quietly
    with pytest.raises(InputError, match="not exact"):
        load_tokenizer(spec, encoder=engine)


def test_auto_is_quiet_without_the_extra(tokenizers_dir, monkeypatch, capsys):
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    for mod in ("tokie", "splintr"):
        monkeypatch.setitem(sys.modules, mod, None)  # import fails as if not installed
    tok = load_tokenizer("gpt2")
    assert tok.encoder == "reference" and tok.encode("hello world") == [31373, 995]
    assert capsys.readouterr() == ("", "")
    with pytest.raises(MissingExtraError, match=r"tokkit\[fast\]"):
        load_tokenizer("gpt2", encoder="tokie")


def test_engine_choices_and_unsupported_formats(tokenizers_dir, monkeypatch):
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    with pytest.raises(InputError, match="encoder must be one of"):
        load_tokenizer("gpt2", encoder="fastest")
    assert load_tokenizer("llama2").encoder == "reference"  # SentencePiece: no fast engine
    assert load_tokenizer("bytes", encoder="reference").encoder == "reference"
    _need("tokie")
    with pytest.raises(InputError, match="tokenizer.json files only"):
        load_tokenizer("cl100k_base", encoder="tokie")


def test_engine_of_a_loaded_tokenizer_object(tokenizers_dir, monkeypatch):
    _need("tokie")
    _need("splintr")
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    tok = load_tokenizer("gpt2", encoder="tokie")
    assert load_tokenizer(tok) is tok and tok.encoder == "tokie"  # auto keeps what the caller chose
    assert load_tokenizer(tok, encoder="splintr").encoder == "splintr"
    back = load_tokenizer(tok, encoder="reference")
    assert back.encoder == "reference" and "encode_batch" not in vars(back)
    ref = load_tokenizer("gpt2", encoder="reference")
    assert load_tokenizer(ref).encoder == "reference"


GPT2_AS_WRITTEN_ELSEWHERE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


@pytest.mark.parametrize("split_pattern", [r"\S+|\s+", r"\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++|\s+",
                                           GPT2_AS_WRITTEN_ELSEWHERE])
def test_ranks_with_a_custom_pattern(tokenizers_dir, split_pattern):
    # a pattern other than the public ones goes to splintr as written (possessive quantifiers, which its
    # regex engine lacks, make it fail to load): whichever engine load_tokenizer keeps, the ids are tiktoken's
    _need("splintr")
    path = tokenizers_dir / "tiktoken" / "r50k_base.tiktoken"
    ref = load_tokenizer(path, split_pattern=split_pattern, encoder="reference")
    tok = load_tokenizer(path, split_pattern=split_pattern)
    texts = ["Hello world", "It's 2024, naïve café!\n\n  x", "Все люди 人人生而自由"]
    assert tok.encode_batch(texts) == ref.encode_batch(texts)
    assert tok.count_batch(texts) == [len(x) for x in ref.encode_batch(texts)]


def _count_in_child(tok, texts, q):
    q.put((tok.count_batch(texts), tok.encode_batch(texts[:3])))


@pytest.mark.parametrize("spec", ["gpt2", "cl100k_base"])
def test_engines_work_in_a_forked_child(tokenizers_dir, monkeypatch, spec):
    # tokkit's local task runner forks; splintr's thread pool does not survive fork (the child hung)
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork on this platform")
    if not any(HAVE.values()):
        pytest.skip("tokkit[fast] is not installed")
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tokenizers_dir))
    tok = load_tokenizer(spec)
    texts = [f"hello world {i}, naïve café" for i in range(3000)]
    want = (tok.count_batch(texts), tok.encode_batch(texts[:3]))  # the parent's thread pool is running now
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_count_in_child, args=(tok, texts, q))
    p.start()
    p.join(60)
    hung = p.is_alive()
    if hung:
        p.kill()
    assert not hung, f"{tok.encoder} hung in a forked child"
    assert q.get(timeout=10) == want


class _Spelled:
    """A tokenizer stub for _PlainText: special tokens with different first characters (and, optionally, an
    empty one, which every text holds)."""

    def __init__(self, specials):
        self.special_tokens = {s: k for k, s in enumerate(specials)}

    def encode_ordinary(self, text):
        return text

    encode_batch = count_batch = encode_ordinary


@given(texts=st.lists(st.text("<|a>[X] bé", max_size=12), max_size=12),
       specials=st.sampled_from([(), ("<|a|>",), ("<|a|>", "[X]", "<|endoftext|>"), ("<|a|>", "")]))
def test_texts_spelling_a_special_token_go_to_the_reference_engine(texts, specials):
    # the one-character prefilter picks exactly the texts that spell a special token; the rest go to the fast
    # engine in one call, and every answer lands in its text's place
    from tokkit.tokenizer.fast import _PlainText

    class Fast:
        name = "fast"
        calls = 0

        def count_batch(self, ts):
            Fast.calls += 1
            return [("fast", t) for t in ts]

    plain = _PlainText(_Spelled(specials), Fast())
    got = plain._split(texts, plain._fast.count_batch, lambda ts: [("ref", t) for t in ts])
    assert got == [("ref" if any(s in t for s in specials) else "fast", t) for t in texts]
    assert Fast.calls == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_spelled_special_tokens_count_as_the_reference_engine_does(tokenizers_dir, engine):
    _need(engine)
    texts = ["plain", "a <|endoftext|> b", "<| not one", "x<|endoftext|>", "<|endoftext|><|endoftext|>", "", "<"]
    fast = load_tokenizer(str(tokenizers_dir / "gpt2"), encoder=engine)
    ref = load_tokenizer(str(tokenizers_dir / "gpt2"), encoder="reference")
    assert fast.count_batch(texts) == ref.count_batch(texts)
    assert [list(x) for x in fast.encode_batch(texts)] == [list(x) for x in ref.encode_batch(texts)]
