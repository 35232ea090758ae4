"""Domain byte-level BPE: exact sizes, special tokens, terms as merges, round trips, determinism, bad input."""

import json
import os
import subprocess
import sys
import unicodedata

import pytest
from _synthetic import synthetic_corpus
from hypothesis import given
from hypothesis import strategies as st
from tokenizers import Tokenizer

import tokkit
from tokkit.errors import EmptyInputError, InputError
from tokkit.train import DEFAULT_SPECIAL_TOKENS, train_bpe
from tokkit.train.artifacts import read_card
from tokkit.train.terms import bpe_segment, chain_merges

WORDS = ("the court order shall be annulled nullify null and void plaintiff defendant motion summary judgment "
         "pursuant to section of title United States Code rule evidence party filed appeal granted denied "
         "financial statements revenue income tax government agency federal register").split()
PHRASES = ["Fed. R. Civ. P. 56(a)", "the annulled order", "28 U.S.C. 1331", "(a) the party", "$1,234.56",
           "Él café naïve — «quoted» 日本語", "\ttabbed\r\nline", "  double  spaces  "]
TERMS = ["null", "Fed. R. Civ. P.", "(a)", "U.S.C."]


SYLLABLES = "ba be bi bo ra re ri ro ta te ti to la le li lo man men min mon st tr pl gr ex in con ab ous ing".split()


def legal_corpus(n_docs=300, seed=0):
    """Legal-flavoured text with a long tail of made-up words, so that merges do not run out."""
    return synthetic_corpus(n_docs, seed=seed, units=SYLLABLES, n_words=3000, max_units=4, words_per_doc=(40, 120),
                            mix=[(0.1, PHRASES), (0.6, WORDS)])


@pytest.fixture(scope="module")
def corpus():
    return legal_corpus()


@pytest.fixture(scope="module")
def tok(corpus):
    return train_bpe(corpus, vocab_size=700, terms=TERMS, normalizer="none").engine


@pytest.fixture(scope="module")
def tok_out(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("bpe") / "tok"
    train_bpe(corpus, out, vocab_size=600, pow2=True, terms=TERMS)
    return out


def test_exact_size_and_special_ids(tok):
    assert tok.get_vocab_size() == 700
    for i, s in enumerate(DEFAULT_SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i
    # text that spells a special token is plain text (issue 18.10); the marker is matched only on request
    n = len(DEFAULT_SPECIAL_TOKENS)
    assert not [i for i in tok.encode("<|user|>hi<|/user|>").ids if i < n]
    tok.encode_special_tokens = False
    try:
        ids = tok.encode("<|user|>hi<|/user|>").ids
    finally:
        tok.encode_special_tokens = True
    assert ids[0] == DEFAULT_SPECIAL_TOKENS.index("<|user|>") and ids[-1] == DEFAULT_SPECIAL_TOKENS.index("<|/user|>")
    # ids are dense: 0..V-1 all used
    assert sorted(tok.get_vocab().values()) == list(range(700))


def test_power_of_two_by_real_merges(tok_out):
    t = Tokenizer.from_file(str(tok_out / "tokenizer.json"))
    assert t.get_vocab_size() == 1024
    model = json.loads(t.to_str())["model"]
    # every token past the specials and the 256 byte symbols is the result of a merge: no filler tokens
    merged = {a + b for a, b in (m.split(" ", 1) if isinstance(m, str) else m for m in model["merges"])}
    rest = [tk for tk, i in model["vocab"].items() if i >= len(DEFAULT_SPECIAL_TOKENS) + 256]
    assert len(rest) == 1024 - 13 - 256 and all(tk in merged for tk in rest)
    card = read_card(tok_out)
    assert card["parameters"]["vocab_size"] == 1024 and card["parameters"]["requested_vocab_size"] == 600


def _pieces(t, text):
    return [t.decode([i]) for i in t.encode(text, add_special_tokens=False).ids]


def test_terms_whole_in_context(tok):
    assert _pieces(tok, "Fed. R. Civ. P. 56(a)")[0] == "Fed. R. Civ. P."
    assert "(a)" in _pieces(tok, "Fed. R. Civ. P. 56(a)")
    assert " Fed. R. Civ. P." in _pieces(tok, "under Fed. R. Civ. P. 56(a)")
    assert " U.S.C." in _pieces(tok, "see 28 U.S.C. 1331")
    assert "(a)" in _pieces(tok, "x\n(a) the party")
    # no lone space before a term: the space is inside the term's token
    assert " " not in _pieces(tok, "see (a) and null")
    assert _pieces(tok, "see (a) and null")[-1] == " null"


def test_terms_do_not_cut_words(tok):
    # "null" is a term, yet "annulled" and "nullify" are segmented as if it were not
    model = json.loads(tok.to_str())["model"]
    ranks = {tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m): i for i, m in enumerate(model["merges"])}
    from tokkit.tokenizer.bytelevel import decode_byte_token, to_byte_symbols

    for word in (" annulled", "nullify", " nullify"):
        expected = [decode_byte_token(x) for x in bpe_segment(to_byte_symbols(word), ranks)]
        assert _pieces(tok, word) == expected
    pieces = _pieces(tok, "the annulled order")
    assert "".join(pieces) == "the annulled order" and "null" not in pieces and " " not in pieces


def test_terms_compared_with_added_tokens(corpus):
    # what KL3M does (terms as AddedTokens) cuts 'null' out of 'annulled'; ours does not
    t = train_bpe(corpus, vocab_size=700, normalizer="none").engine
    t.add_tokens(["null"])
    assert "null" in _pieces(t, "the annulled order")


def test_chain_merges_complete_every_target():
    merges = [("a", "b"), ("b", "c")]
    extra, new = chain_merges([list("abc"), list("bcab"), list("abcab")], merges, {"a", "b", "c", "ab", "bc"})
    ranks = {m: i for i, m in enumerate(merges + extra)}
    for t in ("abc", "bcab", "abcab"):
        assert bpe_segment(list(t), ranks) == [t]
    assert set(new) <= {a + b for a, b in extra}


@given(st.text(max_size=200))
def test_round_trip_any_unicode(tok, text):
    ids = tok.encode(text, add_special_tokens=False).ids
    assert tok.decode(ids, skip_special_tokens=False) == text


@given(st.text(max_size=80))
def test_round_trip_nfc(tok_out, text):
    t = Tokenizer.from_file(str(tok_out / "tokenizer.json"))
    assert t.decode(t.encode(text).ids, skip_special_tokens=False) == unicodedata.normalize("NFC", text)


@pytest.mark.parametrize("pre", ["gpt2", "gpt4o", "whitespace"])
@pytest.mark.parametrize("digits", [False, True])
def test_pre_tokenizers(corpus, pre, digits):
    t = train_bpe(corpus[:80], vocab_size=400, pre_tokenizer=pre, split_digits=digits, normalizer="none",
                  min_frequency=1).engine
    assert t.get_vocab_size() == 400
    text = "Price: $1,234.56 on 2024-01-31\n  x"
    assert t.decode(t.encode(text).ids) == text
    if digits:
        assert all(not (p.strip().isdigit() and len(p.strip()) > 1) for p in _pieces(t, text))


def test_uncased_and_nfkc(corpus):
    t = train_bpe(corpus[:80], vocab_size=400, cased=False, normalizer="NFKC", min_frequency=1,
                  terms=["Fed. R. Civ. P."]).engine
    assert t.decode(t.encode("THE Court ﬁ").ids) == "the court fi"
    assert " fed. r. civ. p." in _pieces(t, "by FED. R. CIV. P. 12")


def test_dispatcher_and_card(corpus, tmp_path):
    t = tokkit.train(corpus[:80], recipe="bpe", out=tmp_path / "a", vocab_size=400, min_frequency=1)
    assert t.vocab_size == 400 and t.card["recipe"] == "bpe" and t.card["parameters"]["engine"] == "native"
    card = read_card(tmp_path / "a")
    assert card["recipe"] == "bpe" and card["corpus"]["documents"] == 80
    assert card["corpus"]["characters"] == sum(len(d) for d in corpus[:80])
    assert {"tokenizers", "python"} <= set(card["versions"]) and card["timings"]["total"] > 0
    assert card["vocabulary"]["size_with_special_tokens"] == 400
    assert sorted(card["files"]) == ["tokenizer.json", "tokenizer_config.json"]
    with pytest.raises(InputError, match="recipe"):
        tokkit.train(corpus, recipe="wordpiece")


def test_determinism(corpus, tmp_path):
    for name in ("a", "b"):
        train_bpe(corpus, tmp_path / name, vocab_size=500, terms=TERMS)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    ca, cb = read_card(tmp_path / "a"), read_card(tmp_path / "b")
    for c in (ca, cb):
        c.pop("timings"), c.pop("created")
    assert ca == cb


def test_loads_in_transformers(tok_out):
    transformers = pytest.importorskip("transformers")
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(tok_out / "tokenizer.json"))
    plain = Tokenizer.from_file(str(tok_out / "tokenizer.json"))
    text = "Under Fed. R. Civ. P. 56(a), the annulled order — 日本"
    assert fast(text)["input_ids"] == plain.encode(text).ids
    assert fast.decode(fast(text)["input_ids"]) == text
    auto = transformers.AutoTokenizer.from_pretrained(str(tok_out))
    assert auto.pad_token_id == 2 and auto.eos_token == "<|end|>" and auto(text)["input_ids"] == plain.encode(text).ids


# --- bad input -------------------------------------------------------------------------------------------

def test_vocab_smaller_than_alphabet_plus_specials(corpus):
    with pytest.raises(InputError, match="256 byte symbols.*13 special tokens = 269"):
        train_bpe(corpus, vocab_size=269)


def test_vocab_the_corpus_cannot_fill():
    with pytest.raises(InputError, match=r"yields only \d+ tokens \(\d+ merges\).*short of vocab_size=5000"):
        train_bpe(["tiny text"] * 3, vocab_size=5000)
    for engine in ("native", "hf"):
        tok = train_bpe(["tiny text"] * 3, vocab_size=5000, allow_smaller=True, engine=engine)
        assert 269 < tok.vocab_size < 5000


def test_empty_corpus(tmp_path):
    with pytest.raises(EmptyInputError):
        train_bpe([], vocab_size=300)
    with pytest.raises(EmptyInputError):
        train_bpe(["", ""], vocab_size=300)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(EmptyInputError):
        train_bpe(str(tmp_path / "empty.jsonl"), tmp_path / "out", vocab_size=300)
    assert not (tmp_path / "out").exists()


def test_unknown_pre_tokenizer_and_normalizer(corpus):
    with pytest.raises(InputError, match="pre_tokenizer='bert'"):
        train_bpe(corpus, vocab_size=300, pre_tokenizer="bert")
    with pytest.raises(InputError, match="normalizer='NFD'"):
        train_bpe(corpus, vocab_size=300, normalizer="NFD")
    with pytest.raises(InputError, match="min_frequency"):
        train_bpe(corpus, vocab_size=300, min_frequency=-1)


def test_unwritable_output_folder(corpus, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(InputError, match="not writable"):
            train_bpe(corpus[:20], ro / "tok", vocab_size=300, min_frequency=1)
    finally:
        os.chmod(ro, 0o700)


def test_unwritable_output_folder_as_root(corpus, tmp_path):
    # a path under a regular file can never be created, whoever runs the test
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot create the output folder"):
        train_bpe(corpus[:20], tmp_path / "file" / "sub" / "tok", vocab_size=300, min_frequency=1)


def test_terms_file_errors(corpus, tmp_path):
    f = tmp_path / "terms.txt"
    f.write_text("null\n(a)\nnull\n")
    with pytest.raises(InputError, match=r"terms.txt:3: duplicate term 'null' \(first at .*terms.txt:1\)"):
        train_bpe(corpus, vocab_size=300, terms=f)
    f.write_text("null\n\n(a)\n")
    with pytest.raises(InputError, match=r"terms.txt:2: empty term"):
        train_bpe(corpus, vocab_size=300, terms=f)
    f.write_text("null\n   \n")
    with pytest.raises(InputError, match=r"terms.txt:2: empty term"):
        train_bpe(corpus, vocab_size=300, terms=f)
    f.write_text("")
    with pytest.raises(InputError, match="empty"):
        train_bpe(corpus, vocab_size=300, terms=f)
    with pytest.raises(InputError, match="not found"):
        train_bpe(corpus, vocab_size=300, terms=tmp_path / "missing.txt")
    with pytest.raises(InputError, match=r"terms\[1\]: duplicate"):
        train_bpe(corpus, vocab_size=300, terms=["a", "a"])
    f.write_text("null\r\n(a)\r\n")  # Windows line ends are fine
    t = train_bpe(corpus, vocab_size=500, terms=f).engine
    assert "(a)" in _pieces(t, "x (a) y") or " (a)" in _pieces(t, "x (a) y")


def test_cli_train_bpe(tmp_path):
    src = tmp_path / "c.txt"
    src.write_text("".join(legal_corpus(60)))
    terms = tmp_path / "terms.txt"
    terms.write_text("\n".join(TERMS) + "\n")
    r = subprocess.run([sys.executable, "-m", "tokkit", "train", "bpe", str(src), "-o", str(tmp_path / "t"),
                        "-v", "300", "--pow2", "--terms", str(terms), "--per-line", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    card = json.loads(r.stdout)
    assert card["parameters"]["vocab_size"] == 512 and card["parameters"]["terms"] == 4
    assert Tokenizer.from_file(str(tmp_path / "t" / "tokenizer.json")).get_vocab_size() == 512
    r = subprocess.run([sys.executable, "-m", "tokkit", "train", "bpe", str(src), "-o", str(tmp_path / "u"),
                        "--pre-tokenizer", "bert", "-q"], capture_output=True, text=True)
    assert r.returncode == 2 and "pre_tokenizer='bert'" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "u").exists()


# --- on the shared legal text ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def legal_tok(data_dir):
    from tokkit.corpora import read_documents

    docs = read_documents(data_dir / "domain" / "legal" / "bva_decisions.jsonl.gz", split="train")
    return train_bpe(docs, vocab_size=4096, terms=["null", "Fed. R. Civ. P.", "(a)", "U.S.C."]).engine


def test_terms_in_context_on_legal_text(legal_tok):
    pieces = _pieces(legal_tok, "Fed. R. Civ. P. 56(a)")
    assert pieces[0] == "Fed. R. Civ. P." and "(a)" in pieces and "".join(pieces) == "Fed. R. Civ. P. 56(a)"
    pieces = _pieces(legal_tok, "the annulled order")
    assert "null" not in pieces and " " not in pieces and "".join(pieces) == "the annulled order"
    assert " null" in _pieces(legal_tok, "is null and void")


def test_kl3m_added_tokens_cut_words(tokenizers_dir):
    # the behaviour the recipe avoids, on KL3M's published tokenizer
    kl3m = Tokenizer.from_file(str(tokenizers_dir / "kl3m" / "kl3m-001-32k" / "tokenizer.json"))
    toks = kl3m.encode("nullify the annulled order", add_special_tokens=False).tokens
    assert toks[:2] == ["null", "ify"] and toks.count("null") == 2 and toks.count(" ") == 3


# --- the two engines -------------------------------------------------------------------------------------

def _model(tok):
    return json.loads(tok.engine.to_str())


@pytest.fixture(scope="module")
def domain_slice(data_dir):
    """About 1.5 MB of legal and financial text."""
    from tokkit.corpora import read_documents

    out = []
    for name in ("legal/us_code", "financial/edgar_10k"):
        docs = read_documents(data_dir / "domain" / f"{name}.jsonl.gz", max_bytes=750_000)
        out += list(docs.texts())
    return out


@pytest.mark.parametrize("pre,cased,specials", [("gpt2", True, None), ("gpt4o", False, ["<|endoftext|>"]),
                                                ("gpt4o", True, [])])
@pytest.mark.slow
def test_native_and_hf_engines_are_identical_on_domain_text(domain_slice, pre, cased, specials):
    kw = dict(vocab_size=3000, pre_tokenizer=pre, cased=cased, special_tokens=specials)
    native, hf = train_bpe(domain_slice, engine="native", **kw), train_bpe(domain_slice, engine="hf", **kw)
    assert _model(native) == _model(hf)  # vocabulary, merges and the whole pipeline
    assert native.card["parameters"]["engine"] == "native" and hf.card["parameters"]["engine"] == "hf"
    n, h = dict(native.card["vocabulary"]), dict(hf.card["vocabulary"])
    assert n == h


@pytest.mark.slow
@pytest.mark.parametrize("pre,cased", [("gpt2", True), ("gpt4o", False)])
def test_native_and_hf_engines_are_identical_on_udhr(udhr, pre, cased):
    texts = [t for code in sorted(udhr.codes)[::7] for t in udhr.texts(code)]
    kw = dict(vocab_size=2500, pre_tokenizer=pre, cased=cased, min_frequency=2)
    assert _model(train_bpe(texts, **kw)) == _model(train_bpe(texts, engine="hf", **kw))


@pytest.mark.parametrize("kw", [dict(split_digits=True), dict(terms=TERMS, pre_tokenizer="gpt4o"),
                                dict(terms=TERMS, split_digits=True, cased=False, normalizer="NFKC")])
@pytest.mark.slow
def test_native_and_hf_engines_are_identical_with_custom_splits(domain_slice, corpus, kw):
    texts = domain_slice[:40] + corpus
    a = train_bpe(texts, vocab_size=1500, engine="native", **kw)
    b = train_bpe(texts, vocab_size=1500, engine="hf", **kw)
    assert _model(a) == _model(b)


@pytest.mark.parametrize("pre", ["gpt2", "gpt4o", "whitespace"])
@pytest.mark.parametrize("digits,terms", [(True, ()), (False, TERMS), (True, TERMS + ["Él café", "日本"])])
def test_regex_pieces_equal_hf_split_pieces(udhr, corpus, pre, digits, terms):
    # the native engine splits custom patterns with the `regex` module: the pieces must be HF's
    import regex
    from tokenizers import Regex, pre_tokenizers

    from tokkit.train.patterns import split_pattern

    rx = regex.compile(split_pattern(pre, split_digits=digits, terms=terms, flavour="regex"))
    hf = pre_tokenizers.Split(Regex(split_pattern(pre, split_digits=digits, terms=terms)), behavior="isolated")
    texts = corpus[:20] + PHRASES + [t[:3000] for code in ("eng", "deu", "rus", "hin", "cmn", "arb") if code in udhr
                                     for t in udhr.texts(code)]
    for text in texts:
        assert rx.findall(text) == [p for p, _ in hf.pre_tokenize_str(text)]


def test_lowercase_is_per_character_as_tokenizers_does():
    from tokenizers import normalizers

    from tokkit.train.common import normalize_text

    text = "ΟΔΟΣ ΑΣ. İstanbul ẞ ǅ Σ"
    assert normalize_text(text, "NFC", True) == normalizers.Sequence(
        [normalizers.NFC(), normalizers.Lowercase()]).normalize_str(text)


def test_bad_engine(corpus):
    with pytest.raises(InputError, match="engine='rust'"):
        train_bpe(corpus, vocab_size=300, engine="rust")
