"""Word ids from tokenizer offsets: HF tokenizers, transformers fast tokenizers and tokkit's duck type."""

import pytest

from tokkit.dynamic.boundaries import tokenize_with_words, word_ids_from_offsets
from tokkit.errors import InputError


def _words(tok, ids, w):
    """Group token strings by word id."""
    out = {}
    for i, x in zip(ids, w):
        out.setdefault(int(x), []).append(tok.id_to_token(int(i)))
    return out


def test_gpt2_word_mode(gpt2):
    (ids,), (w,) = tokenize_with_words(gpt2, "Hello, world. x-y\nThe  cat")
    toks = [gpt2.id_to_token(int(i)) for i in ids]
    assert toks == ["Hello", ",", "Ġworld", ".", "Ġx", "-", "y", "Ċ", "The", "Ġ", "Ġcat"]
    assert w.tolist() == [0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 5]


def test_gpt2_multibyte_characters_share_their_word(gpt2):
    (ids,), (w,) = tokenize_with_words(gpt2, "中文 字")
    assert w.tolist() == [0, 0, 0, 1, 1, 1]


def test_wordpiece_offsets_skip_spaces_and_specials_never_merge(mbert):
    (ids,), (w,) = tokenize_with_words(mbert, "Hello, wörld  x-y", add_special_tokens=True)
    assert [mbert.id_to_token(int(i)) for i in ids] == ["[CLS]", "Hello", ",", "w", "##ör", "##ld", "x", "-", "y",
                                                       "[SEP]"]
    assert w.tolist() == [-1, 1, 1, 2, 2, 2, 3, 3, 3, -1]
    (_,), (p,) = tokenize_with_words(mbert, "Hello, wörld", mode="pretokens")
    assert p.tolist() == [0, 1, 2, 2, 2]
    (_,), (s,) = tokenize_with_words(mbert, "Hello, wörld", mode="sequence", add_special_tokens=True)
    assert s.tolist() == [-1, 1, 1, 1, 1, 1, -1]           # tokkit's "sequence": across words
    (_,), (s,) = tokenize_with_words(mbert, "Hello, wörld", mode="sentence", add_special_tokens=True)
    assert s.tolist() == [-1, 1, 1, 2, 2, 2, -1]           # Dynamic BPE's "sentence": not across spaces


def test_transformers_fast_tokenizer_and_duck_type_agree(gpt2, tokenizers_dir):
    transformers = pytest.importorskip("transformers")
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(tokenizers_dir / "gpt2" / "tokenizer.json"))

    class Duck:  # what tokkit.load_tokenizer returns
        def encode_with_offsets(self, text):
            e = gpt2.encode(text)
            return e.ids, e.offsets

    texts = ["The cat's hat, 1948-1950.", "  spaces\tand\ttabs\n\nnewlines ", "", "ab"]
    a = tokenize_with_words(gpt2, texts)
    b = tokenize_with_words(fast, texts)
    c = tokenize_with_words(Duck(), texts)
    for x, y, z in zip(a[1], b[1], c[1]):
        assert x.tolist() == y.tolist() == z.tolist()
    for x, z in zip(a[0], c[0]):
        assert x.tolist() == z.tolist()
    with pytest.raises(InputError, match="pretokens"):
        tokenize_with_words(Duck(), texts, mode="pretokens")


def test_words_never_contain_inner_whitespace(gpt2, udhr):
    texts = udhr.texts("eng") + udhr.texts("rus")[:5] + udhr.texts("hin")[:5]
    ids, words = tokenize_with_words(gpt2, texts)
    for t, i, w in zip(texts, ids, words):
        e = gpt2.encode(t)
        spans = {}
        for (s, end), x in zip(e.offsets, w):
            a, b = spans.get(int(x), (s, end))
            spans[int(x)] = (min(a, s), max(b, end))
        for s, end in spans.values():
            assert t[s:end].strip() == t[s:end].lstrip() and not any(c.isspace() for c in t[s:end].strip())


def test_max_length_and_bad_input(gpt2):
    ids, w = tokenize_with_words(gpt2, ["a b c d e f"], max_length=3)
    assert len(ids[0]) == len(w[0]) == 3
    with pytest.raises(InputError, match="mode"):
        tokenize_with_words(gpt2, "x", mode="words")
    with pytest.raises(InputError, match=r"texts\[1\]"):
        tokenize_with_words(gpt2, ["x", 3])
    with pytest.raises(InputError, match="encode_with_offsets"):
        tokenize_with_words(object(), "x")
    with pytest.raises(InputError, match="max_length"):
        tokenize_with_words(gpt2, "x", max_length=0)


def test_offsets_helper_directly():
    w = word_ids_from_offsets("ab cd", [(0, 1), (1, 2), (2, 4), (4, 5), (5, 5)])
    assert w.tolist() == [0, 0, 1, 1, -1]
    assert word_ids_from_offsets("", []).tolist() == []


def test_padding_and_truncation_saved_in_the_tokenizer_are_ignored(mbert):
    from tokenizers import Tokenizer

    t = Tokenizer.from_str(mbert.to_str())
    t.enable_padding(length=16)
    t.enable_truncation(max_length=3)
    a = tokenize_with_words(t, ["Hello, wörld  x-y"], add_special_tokens=True)
    b = tokenize_with_words(mbert, ["Hello, wörld  x-y"], add_special_tokens=True)
    assert a[0][0].tolist() == b[0][0].tolist() and len(a[0][0]) == 10
    assert t.padding is not None and t.truncation is not None  # the caller's tokenizer is left as it was
