"""Premiums: hand-computed toy corpora, the bytes tokenizer's premium is the byte premium, UNK masking,
bad inputs, real files against the engines' own counts, and the CLI with its plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from _analysis_helpers import WordTokenizer, mini_udhr
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from typer.testing import CliRunner

from tokkit.analysis.premium import bootstrap_ratio, premiums
from tokkit.corpora import Language, ParallelCorpus
from tokkit.errors import InputError


def toy() -> ParallelCorpus:
    units = {
        "eng": {"1": "ab cd", "2": "efg", "3": "h"},
        "deu": {"1": "abcdefgh ij", "2": "xy", "3": "zzzz"},      # 11 + 2 + 4 chars
        "rus": {"1": "жж", "3": "ж"},                             # no unit 2: totals over units 1 and 3
        "nil": {"9": "orphan"},                                   # no unit aligned with eng
    }
    langs = {c: Language(code=c, script="Latn" if c != "rus" else "Cyrl", latitude=1.0, longitude=2.0) for c in units}
    return ParallelCorpus("toy", langs, units, ["1", "2", "3", "9"])


def test_chars_premiums_by_hand():
    res = premiums("chars", toy(), reference="eng", bootstrap=0)
    assert res.premium("chars", "eng") == 1.0
    assert res.premium("chars", "deu") == pytest.approx(17 / 9)
    assert res.premium("chars", "rus") == pytest.approx(3 / 6)        # units 1, 3: "ab cd" + "h"
    row = next(r for r in res.rows if r["language"] == "rus")
    assert (row["units"], row["tokens"], row["reference_tokens"]) == (2, 3, 6)
    assert row["byte_premium"] == pytest.approx(6 / 6)                # Cyrillic: 2 bytes a character
    assert [s["language"] for s in res.skipped] == ["nil"]
    s = res.summary[0]
    assert s["median"] == pytest.approx(1.0) and s["max"] == pytest.approx(17 / 9) and s["max_language"] == "deu"
    vals = [1.0, 17 / 9, 0.5]
    assert s["gini"] == pytest.approx(np.abs(np.subtract.outer(vals, vals)).sum() / (2 * 9 * np.mean(vals)))
    scripts = {r["script"]: r for r in res.scripts}
    assert scripts["Latn"]["languages"] == 2 and scripts["Cyrl"]["median"] == pytest.approx(0.5)


def test_bytes_premium_is_byte_premium(udhr):
    pc = udhr.select(["eng", "mya", "rus", "cmn_hans", "amh", "deu_1996", "fra", "hin"])
    res = premiums("bytes", pc)
    for r in res.rows:
        assert r["premium"] == pytest.approx(r["byte_premium"], rel=1e-12)
        if r["language"] == "eng":   # the reference against itself: 1 by definition, no interval
            assert r["premium"] == 1.0 and r["ci_low"] is None and "reference" in r["ci_note"]
        else:
            assert r["ci_low"] < r["premium"] < r["ci_high"]


def test_all_unk_is_masked():
    unk_all = WordTokenizer([], name="unk")            # every word is UNK
    res = premiums(["chars", unk_all], toy(), bootstrap=50)
    for r in res.for_tokenizer("unk"):
        assert r["masked"] and math.isnan(r["premium"]) and r["ci_low"] is None and r["ci_note"] == "masked"
        assert not math.isnan(r["raw_premium"])
    s = next(s for s in res.summary if s["tokenizer"] == "unk")
    assert s["masked"] == s["languages"] and math.isnan(s["median"])
    # a tokenizer that knows English words but not the others: only they are masked
    eng_only = WordTokenizer(["ab", "cd", "efg", "h"], name="eng-only")
    res = premiums(eng_only, toy(), bootstrap=0)
    assert not next(r for r in res.rows if r["language"] == "eng")["masked"]
    assert next(r for r in res.rows if r["language"] == "deu")["masked"]
    # threshold 1.0: nothing is masked
    assert not any(r["masked"] for r in premiums(eng_only, toy(), unk_threshold=1.0, bootstrap=0).rows)


def test_bad_inputs():
    with pytest.raises(InputError, match="unknown language 'xx'"):
        premiums("chars", toy(), reference="xx")
    with pytest.raises(InputError, match="no units aligned"):
        premiums("chars", toy(), languages=["nil"])
    with pytest.raises(InputError, match="unknown language"):
        premiums("chars", toy(), languages=["deu", "klingon"])
    with pytest.raises(InputError, match="has no text"):
        premiums("chars", ParallelCorpus("e", {}, {"eng": {"1": ""}, "deu": {"1": "x"}}, ["1"]))
    with pytest.raises(InputError):
        premiums([], toy())
    with pytest.raises(InputError):
        premiums("chars", toy(), ci=1.5)


def test_bootstrap():
    num, den = np.array([2.0, 4.0, 6.0]), np.array([1.0, 2.0, 3.0])
    assert bootstrap_ratio(num, den, n=200) == pytest.approx((2.0, 2.0))
    rng = np.random.default_rng(1)
    num, den = rng.integers(5, 50, 40).astype(float), rng.integers(5, 50, 40).astype(float)
    lo, hi = bootstrap_ratio(num, den, n=2000, seed=3)
    assert lo < num.sum() / den.sum() < hi
    assert bootstrap_ratio(num, den, n=2000, seed=3) == (lo, hi)      # seeded: reproducible
    lo99, hi99 = bootstrap_ratio(num, den, n=2000, ci=0.99, seed=3)
    assert lo99 <= lo and hi <= hi99


def test_nfc_option():
    units = {"eng": {"1": "e"}, "fra": {"1": "e\u0301"}}   # decomposed é
    pc = ParallelCorpus("nfc", {}, units, ["1"])
    assert premiums("chars", pc, bootstrap=0).premium("chars", "fra") == 2.0
    assert premiums("chars", pc, nfc=True, bootstrap=0).premium("chars", "fra") == 1.0


def test_real_premiums_equal_engine_counts(tokenizers_dir, udhr):
    from tokenizers import Tokenizer

    langs = ["eng", "mya", "amh", "hin", "cmn_hans", "rus", "deu_1996"]
    pc = udhr.select(langs)
    path = tokenizers_dir / "gpt2" / "tokenizer.json"
    res = premiums(str(path), pc, bootstrap=100)
    t = Tokenizer.from_file(str(path))

    def count(code, units):
        return sum(len(t.encode(pc.units[code][u], add_special_tokens=False).ids) for u in units)

    for code in langs:
        units = pc.common_units(code, "eng")
        assert res.premium("gpt2", code) == pytest.approx(count(code, units) / count("eng", units), rel=1e-12)
    assert res.premium("gpt2", "mya") > 10 > res.premium("gpt2", "deu_1996")


def test_mbert_unk_masking_on_udhr(tokenizers_dir, udhr):
    # mBERT has no byte fallback: scripts it does not know come out as [UNK] and must be masked
    pc = udhr.select(["eng", "deu_1996", "amh", "shn", "ccp"])
    res = premiums(str(tokenizers_dir / "bert-base-multilingual-cased"), pc, bootstrap=0)
    rows = {r["language"]: r for r in res.rows}
    assert not rows["deu_1996"]["masked"] and rows["deu_1996"]["unk_character_rate"] < 0.01
    assert rows["amh"]["masked"] and rows["amh"]["unk_character_rate"] > 0.1


def test_cli_premiums(tmp_path):
    from tokkit.cli import app

    root = mini_udhr(tmp_path / "udhr", {
        "eng": {"0": "all people are born free", "1": "everyone has rights"},
        "deu": {"0": "alle menschen sind frei geboren", "1": "jeder hat rechte"},
        "rus": {"0": "все люди рождаются свободными", "1": "каждый человек имеет права"},
    })
    plot = tmp_path / "out" / "prem.svg"
    csv_path = tmp_path / "out" / "prem.csv"
    r = CliRunner().invoke(app, ["premiums", "bytes", "chars", "--corpus", str(root), "--plot", str(plot),
                                 "--csv", str(csv_path), "--json", "--bootstrap", "20"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    assert {s["tokenizer"] for s in d["summary"]} == {"bytes", "chars"}
    for suffix in ("", "-scripts", "-lorenz", "-map"):
        f = tmp_path / "out" / f"prem{suffix}.svg"
        assert f.exists() and f.read_text().lstrip().startswith("<?xml")
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 1 + 2 * 3 and lines[0].startswith("tokenizer,language")
    r = CliRunner().invoke(app, ["premiums", "chars", "--corpus", str(root)])
    assert r.exit_code == 0 and "summary" in r.output and "per script" in r.output
    # masked languages are null in JSON, not NaN
    from tokkit.analysis._json import jsonable

    assert jsonable({"a": [float("nan"), float("inf"), 1.5, np.float64(2.0)]}) == {"a": [None, None, 1.5, 2.0]}
    r = CliRunner().invoke(app, ["premiums", "chars", "--corpus", str(root), "--reference", "xx", "-q"])
    assert r.exit_code == 2 and "unknown language 'xx'" in r.output
    r = CliRunner().invoke(app, ["premiums", "chars", "--corpus", str(root), "--plot", str(tmp_path / "x.gif")])
    assert r.exit_code == 2 and ".png, .svg" in r.output


def test_dropped_characters_are_masked():
    # a BPE with no UNK token, no byte fallback and no byte-level pre-tokenizer silently drops what it cannot
    # spell (kl3m-005's tokenizer.json does this to non-Latin text): its low counts must not pass as premiums
    from tokenizers import Tokenizer as HFT
    from tokenizers import models, pre_tokenizers

    from tokkit.analysis.metrics import evaluate
    from tokkit.tokenizer.hf import HFTokenizer

    eng = HFT(models.BPE(vocab={c: i for i, c in enumerate("abcdefgh")}, merges=[]))
    eng.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = HFTokenizer.from_engine(eng, name="latin-only")
    assert tok.may_drop_characters and tok.unk_id is None
    assert tok.encode("ab жж") == [0, 1]
    res = premiums(tok, toy(), bootstrap=0)
    rows = {r["language"]: r for r in res.rows}
    assert rows["rus"]["masked"] and rows["rus"]["unk_character_rate"] == 1.0
    assert not rows["eng"]["masked"]
    assert evaluate(tok, ["ab жж"]).dropped_character_rate == pytest.approx(2 / 5)


@pytest.mark.parametrize("m,b,ci", [(1, 5, 0.95), (31, 1000, 0.95), (7, 2, 0.5), (12, 333, 0.99)])
def test_bootstrap_percentiles_match_numpy(m, b, ci):
    from tokkit.analysis.premium import bootstrap_ratios, bootstrap_weights

    rng = np.random.default_rng(m)
    num, den = rng.integers(1, 90, (9, m)).astype(float), rng.integers(1, 90, (9, m)).astype(float)
    w = bootstrap_weights(m, b, seed=1)
    assert w.shape == (b, m) and (w.sum(axis=1) == m).all()
    expected = np.quantile((num @ w.T) / (den @ w.T), [0.5 * (1 - ci), 0.5 * (1 + ci)], axis=1).T
    np.testing.assert_allclose(bootstrap_ratios(num, den, w, ci), expected, rtol=1e-12)


def _percentiles_by_full_partition(r: np.ndarray, ci: float) -> np.ndarray:
    """The percentiles as premiums computed them before (one partition at the four order statistics)."""
    b = r.shape[1]
    pos = np.array([0.5 * (1 - ci), 0.5 * (1 + ci)]) * (b - 1)
    lo, frac = np.floor(pos).astype(np.int64), pos - np.floor(pos)
    hi = np.minimum(lo + 1, b - 1)
    part = np.partition(r, np.unique(np.concatenate([lo, hi])), axis=1)
    return part[:, lo] * (1 - frac) + part[:, hi] * frac


@pytest.mark.parametrize("b,ci", [(1000, 0.95), (2, 0.5), (7, 0.9), (333, 0.99), (1, 0.95)])
def test_percentile_pair_equals_full_partition_with_nan_and_inf(b, ci):
    from tokkit.analysis.premium import percentile_pair

    rng = np.random.default_rng(b)
    with np.errstate(divide="ignore"):
        r = rng.integers(1, 50, (40, b)) / rng.integers(0, 9, (40, b))   # x/0: inf; some rows get nan below
    r[3, :] = np.nan
    r[5, : b // 2] = np.nan
    r[7, ::3] = np.nan
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(percentile_pair(r, ci), _percentiles_by_full_partition(r, ci))


def test_premium_intervals_are_each_languages_own_bootstrap(udhr):
    # the batched bootstrap (shared draws, distinct reference rows once, row blocks) gives exactly the
    # interval of resampling that language's units alone with the same seed; joined mode's blocks too
    from tokkit.analysis.premium import block_units, bootstrap_ratio, count_units
    from tokkit.tokenizer import load_tokenizer

    pc = udhr.select(["eng", "mya", "rus", "cmn_hans", "amh", "deu_1996", "fra", "hin", "shn"])
    tok = load_tokenizer("bytes")
    for mode in ("sentence", "joined"):
        res = premiums(tok, pc, bootstrap=300, seed=5, count_mode=mode)
        for row in res.rows:
            if row["language"] == "eng":
                continue
            units = pc.common_units(row["language"], "eng")
            b = block_units(len(units)) if mode == "joined" else 1
            blocks = [units[i:i + b] for i in range(0, len(units), b)]

            def texts(code):
                return [(" " if k and mode == "joined" else "") + " ".join(pc.units[code][u] for u in g)
                        for k, g in enumerate(blocks)]

            num = count_units(tok, texts(row["language"]))[0]
            den = count_units(tok, texts("eng"))[0]
            assert (row["ci_low"], row["ci_high"]) == bootstrap_ratio(num, den, n=300, seed=5)


def test_byte_counts_are_utf8_with_lone_surrogates():
    # bytes per language are UTF-8 lengths (a lone surrogate: 3 bytes), whether or not an engine read the texts
    units = {"eng": {"1": "ab", "2": "\ud800x", "3": "ü€𝄞"}, "deu": {"1": "\udfff\ud800", "2": "é", "3": "ascii"}}
    pc = ParallelCorpus("toy", {c: Language(code=c, script="Latn") for c in units}, units, ["1", "2", "3"])
    for tok in ("chars", "bytes"):
        rows = {r["language"]: r for r in premiums(tok, pc, bootstrap=0).rows}
        for c in units:
            want = sum(len(t.encode("utf-8", "surrogatepass")) for t in units[c].values())
            assert rows[c]["bytes"] == want and rows[c]["reference_bytes"] == 2 + 4 + 9
    assert rows["deu"]["tokens"] == 6 + 2 + 5 and rows["deu"]["premium"] == rows["deu"]["byte_premium"] == 13 / 15


@given(counts=hnp.arrays(np.int64, st.tuples(st.integers(1, 12), st.integers(1, 9)),
                         elements=st.integers(0, 1 << 21)),
       b=st.integers(1, 60), seed=st.integers(0, 3))
def test_float32_sums_equal_float64_sums(counts, b, seed):
    # integer counts whose sums stay below 2 ** 24 are summed in float32: exactly the float64 sums; larger
    # ones (up to 9 * 2 ** 21 * 9 here) stay in float64
    from tokkit.analysis.premium import bootstrap_weights, prepare_draws, resampled_sums

    w = bootstrap_weights(counts.shape[1], b, seed)
    got = resampled_sums(counts, w)
    want = counts.astype(np.float64) @ w.T
    assert np.array_equal(got.astype(np.float64), want)
    assert got.dtype == (np.float32 if counts.max() * counts.shape[1] < 1 << 24 else np.float64)
    assert np.array_equal(resampled_sums(counts, prepare_draws(w)), got)
    assert resampled_sums(counts.astype(np.float64), w).dtype == np.float64   # float counts: never float32


@given(r=hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 40)),
                    elements=st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 3.25, np.inf, np.nan]) | st.floats(0, 10)),
       ci=st.sampled_from([0.5, 0.9, 0.95, 0.99]))
def test_percentile_pair_equals_numpy_percentile(r, ci):
    # ties, inf and nan (sorted last, as np.sort does): the same values as the four-k partition; nan-free rows
    # as numpy's own percentile (linear interpolation); r itself untouched unless overwrite
    from tokkit.analysis.premium import percentile_pair

    before = r.copy()
    with np.errstate(invalid="ignore"):
        got = percentile_pair(r, ci)
        np.testing.assert_array_equal(got, _percentiles_by_full_partition(r, ci))
    np.testing.assert_array_equal(r, before)
    clean = ~np.isnan(r).any(axis=1) & ~np.isinf(r).any(axis=1)
    if clean.any():
        want = np.percentile(r[clean], [50 * (1 - ci), 50 * (1 + ci)], axis=1).T
        np.testing.assert_allclose(got[clean], want, rtol=1e-12, atol=1e-12)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(percentile_pair(r.copy(), ci, overwrite=True), got)


def test_reference_rows_broadcast_or_gathered_give_the_same_ratios():
    from tokkit.analysis.premium import bootstrap_weights, resampled_ratios

    rng = np.random.default_rng(0)
    num, den = rng.integers(0, 50, (200, 6)), rng.integers(0, 50, (70, 6))
    w = bootstrap_weights(6, 30, 2)
    want = (num @ w.T) / (den @ w.T)[np.repeat(np.arange(70), 200 // 70 + 1)[:200]]
    runs = np.repeat(np.arange(70), 200 // 70 + 1)[:200]          # sorted runs: broadcast per run
    scattered = rng.permutation(runs)                               # > 64 runs: one gather
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(resampled_ratios(num, den, w, den_of=runs), want)
        got = resampled_ratios(num, den, w, den_of=scattered)
        np.testing.assert_array_equal(got, (num @ w.T) / (den @ w.T)[scattered])


def test_a_failing_tokenizer_stops_premiums():
    # the engines count on a worker thread: its error reaches the caller, and no later tokenizer is counted
    class Boom(WordTokenizer):
        def encode_batch_with_offsets(self, texts):
            raise InputError("boom")

    seen = []

    class Seen(WordTokenizer):
        def encode_batch_with_offsets(self, texts):
            seen.append(len(texts))
            return super().encode_batch_with_offsets(texts)

    with pytest.raises(InputError, match="boom"):
        premiums([Boom(["ab"], name="boom"), Seen(["ab"], name="seen")], toy(), bootstrap=0)
    assert len(seen) <= 1   # the second may have started before the error was seen, never more
    assert premiums([Seen(["ab"], name="seen")], toy(), bootstrap=0).rows and seen[-1] > 0


@pytest.mark.parametrize("name, langs, reference", [
    ("udhr", ["hin", "mya", "deu_1996"], "eng"),
    ("ntrex", ["deu", "spa-2", "hin"], "eng"),
])
def test_some_languages_of_a_named_corpus_load_only_those(data_dir, monkeypatch, name, langs, reference):
    # premiums on a corpus given by name reads only the languages asked for and the reference: the same
    # result as on the whole corpus; a code the loader does not know still gets the whole corpus's error
    from tokkit.corpora import load_parallel

    monkeypatch.setenv("TOKKIT_DATA", str(data_dir))
    whole = premiums("chars", load_parallel(name), reference=reference, languages=langs, bootstrap=50)
    part = premiums("chars", name, reference=reference, languages=langs, bootstrap=50)
    assert part.rows == whole.rows and part.summary == whole.summary and part.scripts == whole.scripts
    with pytest.raises(InputError, match="xx_nope"):
        premiums("chars", name, reference=reference, languages=[*langs, "xx_nope"], bootstrap=0)
