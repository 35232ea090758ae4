"""The word-by-word replay of a merge list (kernels/replay.py) against the merge loop's own global replay
(bpe_train's forced merges), and resumed training through it against resuming on the merge loop."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tokkit.kernels.bpe import bpe_train
from tokkit.kernels.replay import replay_merges
from tokkit.train.native import learn


def merge_list(draw_pairs, n_base: int):
    """Merges over byte tokens 0..n_base-1 as a merge list has them: each part a token made before; a merge
    whose bytes spell an existing token reuses its id (so a pair may come back later, e.g. after "a bc" and
    "ab c" both make "abc")."""
    tokens = [bytes([i]) for i in range(n_base)]
    by_bytes = {t: i for i, t in enumerate(tokens)}
    fa, fb, ft = [], [], []
    for x, y in draw_pairs:
        a, b = x % len(tokens), y % len(tokens)
        new = tokens[a] + tokens[b]
        if new not in by_bytes:
            by_bytes[new] = len(tokens)
            tokens.append(new)
        fa.append(a)
        fb.append(b)
        ft.append(by_bytes[new])
    return np.asarray(fa, np.int32), np.asarray(fb, np.int32), np.asarray(ft, np.int32), tokens


def global_replay(words, tokens_before, fa, fb, n_base):
    """bpe_train with the merges forced and nothing else: every merge applied to every word in turn."""
    sym = np.asarray([s for w in words for s in w], np.int32)
    wstart = np.zeros(len(words) + 1, np.int64)
    np.cumsum([len(w) for w in words], out=wstart[1:])
    pool = np.frombuffer(b"".join(tokens_before), np.uint8).copy()
    off = np.arange(n_base, dtype=np.int64)
    *_, wlen = bpe_train(sym, wstart, np.ones(len(words), np.int64), pool, off, np.ones(n_base, np.int32), n_base,
                         n_base, 0, fa, fb, np.zeros(1, np.int64))
    return [tuple(sym[wstart[w]:wstart[w] + wlen[w]].tolist()) for w in range(len(words))]


@given(words=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=24).map(tuple), min_size=1, max_size=12),
       pairs=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=40))
def test_replay_equals_the_merge_loops_replay(words, pairs):
    n_base = 4
    fa, fb, ft, _ = merge_list(pairs, n_base)
    pool = np.asarray([s for w in words for s in w], np.uint8)
    off = np.zeros(len(words) + 1, np.int64)
    np.cumsum([len(w) for w in words], out=off[1:])
    sym, wstart = replay_merges(pool, off, np.arange(256, dtype=np.int32), fa, fb, ft)
    got = [tuple(sym[wstart[w]:wstart[w + 1]].tolist()) for w in range(len(words))]
    assert got == global_replay(words, [bytes([i]) for i in range(n_base)], fa, fb, n_base)


def test_replay_of_long_words_and_none():
    # "a a a a" under (a, a): left to right, non-overlapping; an empty list leaves the bytes
    pool = np.zeros(9, np.uint8)
    off = np.asarray([0, 4, 9], np.int64)
    one = np.asarray([0], np.int32)
    sym, wstart = replay_merges(pool, off, np.arange(256, dtype=np.int32), one * 0, one * 0, one * 0 + 300)
    assert sym.tolist() == [300, 300, 300, 300, 0] and wstart.tolist() == [0, 2, 5]
    none = np.zeros(0, np.int32)
    sym, wstart = replay_merges(pool, off, np.arange(256, dtype=np.int32), none, none, none)
    assert sym.tolist() == [0] * 9 and wstart.tolist() == [0, 4, 9]


def test_resumed_training_continues_exactly():
    # resuming from a training's own first merges (replayed word by word) makes exactly its later merges
    texts = ["the cat sat on the mat with the hat " * 3, "a tokenizer tokenizes tokens, then detokenizes",
             "über straße groß café naïve 人人生而自由 كل الناس"] * 5
    whole = learn(texts, vocab_size=420)
    first = learn(texts, vocab_size=330)
    resumed = learn(texts, vocab_size=420, resume=[(first.token_string(a), first.token_string(b))
                                                   for a, b, _ in first.merges])
    assert len(first.merges) == 330 - 256 and resumed.merges == whole.merges and resumed.tokens == whole.tokens


def test_a_pair_formed_after_its_rank_never_merges():
    # a b -> ab (4), b c -> bc (5), a bc -> abc (6), abc d -> abcd (7), ab c -> abc (6 again): in "a b c d"
    # abc is formed by the last merge, after (abc, d)'s turn has passed, so "abc d" stays two tokens
    fa, fb, ft, _ = merge_list([(0, 1), (1, 2), (0, 5), (6, 3), (4, 2)], 4)
    assert ft.tolist() == [4, 5, 6, 7, 6]
    pool = np.asarray([0, 1, 2, 3], np.uint8)
    sym, _ = replay_merges(pool, np.asarray([0, 4], np.int64), np.arange(256, dtype=np.int32), fa, fb, ft)
    assert sym.tolist() == [6, 3] == list(global_replay([(0, 1, 2, 3)], [bytes([i]) for i in range(4)], fa, fb, 4)[0])
