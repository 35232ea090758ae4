"""The numba counting and merge kernels against their plain-Python references, on random inputs."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokkit.kernels.bpe import bpe_reference, bpe_train
from tokkit.kernels.counting import count_words
from tokkit.kernels.wordcount import count_words_reference


def run_kernel(words: dict, n_base: int, vocab_size: int, min_frequency=0, forced=()):
    token_bytes = [bytes([i]) for i in range(n_base)]
    keys = list(words)
    sym = np.asarray([s for w in keys for s in w], np.int32)
    wstart = np.zeros(len(keys) + 1, np.int64)
    np.cumsum([len(w) for w in keys], out=wstart[1:])
    wcount = np.asarray([words[w] for w in keys], np.int64)
    pool = np.frombuffer(b"".join(token_bytes), np.uint8).copy() if n_base else np.zeros(1, np.uint8)
    off = np.arange(n_base, dtype=np.int64)
    lens = np.ones(n_base, np.int32)
    fa = np.asarray([f[0] for f in forced], np.int32)
    fb = np.asarray([f[1] for f in forced], np.int32)
    ma, mb, mt, tpool, toff, tlen, n, _ = bpe_train(sym, wstart, wcount, pool, off, lens, n_base, vocab_size,
                                                    min_frequency, fa, fb, np.zeros(1, np.int64))
    raw = tpool.tobytes()
    toks = [raw[toff[i]:toff[i] + tlen[i]] for i in range(n)]
    return list(zip(ma.tolist(), mb.tolist(), mt.tolist())), toks


words_st = st.dictionaries(st.lists(st.integers(0, 4), min_size=1, max_size=9).map(tuple),
                           st.integers(1, 50), max_size=30)


@given(words=words_st, extra=st.integers(0, 40), min_frequency=st.integers(0, 3))
def test_merge_kernel_matches_reference(words, extra, min_frequency):
    merges, toks = run_kernel(words, 5, 5 + extra, min_frequency)
    ref_merges, ref_toks = bpe_reference(words, [bytes([i]) for i in range(5)], 5 + extra, min_frequency)
    assert merges == ref_merges
    assert toks == ref_toks


@given(words=words_st, extra=st.integers(0, 30), k=st.integers(0, 10))
def test_forced_prefix_then_training_matches_reference(words, extra, k):
    """Resuming: replaying the first k merges, then training on, gives the same merges as one run."""
    full, _ = run_kernel(words, 5, 5 + extra)
    k = min(k, len(full))
    forced = [(a, b) for a, b, _ in full[:k]]
    resumed, _ = run_kernel(words, 5, 5 + extra, forced=forced)
    assert resumed == full


def test_empty_single_and_repeated_words():
    assert run_kernel({}, 3, 10) == ([], [b"\x00", b"\x01", b"\x02"])
    assert run_kernel({(1,): 7}, 3, 10)[0] == []
    # overlapping pairs: "aaaa" counts (a,a) three times but merges it twice, left to right
    merges, toks = run_kernel({(0, 0, 0, 0): 1, (0, 0, 0): 1}, 1, 5)
    assert merges == bpe_reference({(0, 0, 0, 0): 1, (0, 0, 0): 1}, [b"\x00"], 5)[0]
    assert toks[1] == b"\x00\x00"


def test_merge_result_that_already_exists_reuses_its_id():
    # "ab"+"c" and "a"+"bc" both spell "abc": the second merge must not make a second token
    words = {(0, 1, 2): 10, (9, 0, 1): 9, (1, 2, 9): 9, (3, 0, 1, 2): 1}
    merges, toks = run_kernel(words, 10, 20)
    ref, ref_toks = bpe_reference(words, [bytes([i]) for i in range(10)], 20)
    assert merges == ref and toks == ref_toks
    assert len(set(toks)) == len(toks)


@pytest.mark.parametrize("pattern", ["gpt2", "gpt4o", "whitespace", "none"])
@given(docs=st.lists(st.text(alphabet=st.sampled_from(list("ab cé\n'1٣\u0301.")), max_size=30), max_size=8))
def test_word_counts_match_reference(pattern, docs):
    assert count_words(docs, pattern, threads=2) == count_words_reference(docs, pattern)


def test_word_counts_use_64_bit_integers():
    from tokkit.kernels.counting import count_buffer, pack_texts

    buf, bounds = pack_texts(["hello hello", "x"])
    big = np.asarray([3_000_000_000, 5_000_000_000], np.int64)
    pool, off, c = count_buffer(buf, bounds, "gpt2", weights=big, threads=1).words()
    got = {pool[off[k]:off[k + 1]].tobytes(): int(c[k]) for k in range(len(c))}
    assert got == {b"hello": 3_000_000_000, b" hello": 3_000_000_000, b"x": 5_000_000_000}


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_streamed_file_counts_equal_in_memory_counts(tmp_path, block):
    from tokkit.kernels.counting import count_files

    lines = ["def f(x):\n", "    return x  # é ✓\n", "\n", "  \n", "class A:   pass\n", "last line without newline"]
    path = tmp_path / "src.txt"
    path.write_text("".join(lines * 20), encoding="utf-8")
    pool, off, c = count_files([path], "gpt2", per_line=True, threads=2, block=block).words()
    got = {pool[off[k]:off[k + 1]].tobytes(): int(c[k]) for k in range(len(c))}
    per_line = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True)]
    assert got == count_words_reference(per_line, "gpt2")
    whole = count_files([path], "gpt2", per_line=False, threads=2).words()
    raw = whole[0].tobytes()
    assert {raw[whole[1][k]:whole[1][k + 1]]: int(whole[2][k]) for k in range(len(whole[2]))} == \
        count_words_reference([path.read_text(encoding="utf-8")], "gpt2")


def test_invalid_utf8_split_across_blocks_is_reported_with_its_offset(tmp_path):
    from tokkit.errors import InputError
    from tokkit.kernels.counting import count_files

    path = tmp_path / "bad.txt"
    path.write_bytes("é\n".encode() * 10 + b"ok\xc3")
    with pytest.raises(InputError, match=r"bad.txt: invalid UTF-8 at byte offset 32"):
        count_files([path], per_line=True, block=4)
    path.write_bytes(b"ab\n\xffcd\n")
    with pytest.raises(InputError, match=r"offset 3 "):
        count_files([path], per_line=True, block=2)


@given(data=st.lists(st.sampled_from([0x41, 0x0A, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED,
                                      0xEF, 0xF0, 0xF4, 0xF5, 0xFF]), max_size=12).map(bytes))
def test_utf8_validation_matches_python(data):
    from tokkit.kernels.wordcount import utf8_error

    try:
        data.decode("utf-8")
        expected = -1
    except UnicodeDecodeError as e:
        expected = e.start
    assert utf8_error(np.frombuffer(data, np.uint8))[0] == expected
