"""Parity-aware BPE: the numba kernel against its reference, and fairer premiums on UDHR."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokkit.kernels.bpe_parity import bpe_parity_reference, bpe_train_parity


def run_parity(words, n_groups, n_base, vocab_size, target=None, min_frequency=0, global_merges=0):
    sym = np.asarray([s for w in words for s in w[0]], np.int32)
    wstart = np.zeros(len(words) + 1, np.int64)
    np.cumsum([len(w[0]) for w in words], out=wstart[1:])
    wcount = np.asarray([w[1] for w in words], np.int64)
    wgroup = np.asarray([w[2] for w in words], np.int32)
    wdev = np.asarray([w[3] for w in words], np.uint8)
    tgt = np.asarray(target if target is not None else [1.0] * n_groups, np.float64)
    pool = np.arange(n_base, dtype=np.uint8)
    out = bpe_train_parity(sym, wstart, wcount, wgroup, wdev, n_groups, tgt, pool, np.arange(n_base, dtype=np.int64),
                           np.ones(n_base, np.int32), n_base, vocab_size, min_frequency, global_merges,
                           np.zeros(1, np.int64))
    ma, mb, mt, mg, tpool, toff, tlen, n, devlen = out
    raw = tpool.tobytes()
    return (list(zip(ma.tolist(), mb.tolist(), mt.tolist(), mg.tolist())),
            [raw[toff[i]:toff[i] + tlen[i]] for i in range(n)], devlen.tolist())


word = st.tuples(st.lists(st.integers(0, 3), min_size=1, max_size=7).map(tuple), st.integers(1, 20),
                 st.integers(0, 2), st.booleans())


@settings(max_examples=200, deadline=None)
@given(words=st.lists(word, max_size=25), extra=st.integers(0, 25), global_merges=st.integers(0, 5),
       min_frequency=st.integers(0, 3), target=st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=3, max_size=3))
def test_parity_kernel_matches_reference(words, extra, global_merges, min_frequency, target):
    got = run_parity(words, 3, 4, 4 + extra, target, min_frequency, global_merges)
    ref = bpe_parity_reference(words, 3, [bytes([i]) for i in range(4)], 4 + extra, target=target,
                               min_frequency=min_frequency, global_merges=global_merges)
    assert got[0] == [tuple(m) for m in ref[0]]
    assert got[1] == ref[1]
    assert got[2] == ref[2]


def test_parity_serves_the_longest_language_first():
    # language 1's dev text is longer, so the first merge is language 1's favourite pair, not the global one
    words = [((0, 1), 100, 0, False), ((2, 3), 10, 1, False), ((0, 1), 5, 0, True), ((2, 3, 2, 3), 5, 1, True)]
    merges, _, devlen = run_parity(words, 2, 4, 5)
    assert merges[0][:2] == (2, 3) and merges[0][3] == 1
    hybrid, _, _ = run_parity(words, 2, 4, 5, global_merges=1)
    assert hybrid[0][:2] == (0, 1) and hybrid[0][3] == -1


@pytest.fixture(scope="module")
def udhr_split(udhr):
    langs = [c for c in ("eng", "deu", "fra", "spa", "rus", "ell", "hin", "arb", "amh", "kor", "jpn", "tha")
             if c in udhr]
    from tokkit.train.native import parallel_split

    train, dev, test = parallel_split(udhr, langs, dev_fraction=0.2, test_fraction=0.2)
    assert all(len(dev[c]) == len(dev["eng"]) for c in langs)  # parallel: the same units everywhere
    return langs, {"train": train, "dev": dev, "test": test}


def test_parity_lowers_the_gini_of_token_premiums_on_udhr(udhr_split):
    from tokkit.train.native import gini, token_premiums, train_native, train_parity_native

    langs, parts = udhr_split
    assert len(langs) >= 8
    V = 3000
    standard = train_native([t for c in langs for t in parts["train"][c]], vocab_size=V, quiet=True)
    parity = train_parity_native(parts["train"], parts["dev"], vocab_size=V, quiet=True)
    hybrid = train_parity_native(parts["train"], parts["dev"], vocab_size=V, global_merges=1000, quiet=True)
    assert standard.vocab_size == parity.vocab_size == hybrid.vocab_size == V
    g = {}
    for name, model in (("standard", standard), ("parity", parity), ("hybrid", hybrid)):
        prem = token_premiums(model.to_tokenizer(), parts["test"], "eng")
        g[name] = gini(list(prem.values()))
    print("Gini of token premiums on held-out UDHR units:", g)
    assert g["parity"] < g["standard"]
    assert g["hybrid"] < g["standard"]
    assert sum(parity.stats["merges_per_language"].values()) == len(parity.merges)


def test_gini():
    from tokkit.train.native import gini

    assert gini([1, 1, 1]) == 0
    assert gini([0, 0, 1]) == pytest.approx(2 / 3)


def test_cli_parity_on_udhr(tmp_path, data_dir):
    import json

    from typer.testing import CliRunner

    from tokkit.cli import app

    res = CliRunner().invoke(app, ["train", "native", "--parity", str(data_dir / "udhr"), "--languages",
                                   "eng,rus,hin", "--vocab-size", "600", "-o", str(tmp_path / "p"), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["vocab_size"] == 600
    assert set(summary["merges_per_language"]) == {"eng", "rus", "hin"}
    assert (tmp_path / "p" / "tokenizer.json").exists()
    res = CliRunner().invoke(app, ["train", "native", "--parity", str(data_dir / "udhr"), "--languages",
                                   "eng,xxx_nope", "-o", str(tmp_path / "q")])
    assert res.exit_code == 2 and "xxx_nope" in res.output


def test_parity_bad_inputs(udhr):
    from tokkit.errors import InputError
    from tokkit.train.native import train_parity_native

    with pytest.raises(InputError, match="no parallel dev text for deu"):
        train_parity_native({"eng": ["a"], "deu": ["b"]}, {"eng": ["a"]}, vocab_size=300)
    with pytest.raises(InputError, match="target"):
        train_parity_native({"eng": ["a"]}, {"eng": ["a"]}, vocab_size=300, targets={"eng": 0})
