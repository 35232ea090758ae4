"""Domain comparison and the eval / compare verbs, plots from each plotting function."""

from __future__ import annotations

import gzip
import json

import pytest
from _analysis_helpers import WordTokenizer
from typer.testing import CliRunner

from tokkit.analysis.domains import compare
from tokkit.cli import app
from tokkit.errors import InputError


def test_compare_by_hand():
    sets = {"ascii": ["abcd", "ef"], "greek": ["αβγ"]}
    res = compare(["chars", "bytes"], sets)
    assert res.value("chars", "ascii") == 1.0 and res.value("bytes", "ascii") == 1.0
    assert res.value("bytes", "greek") == pytest.approx(2.0)
    assert res.value("bytes", "greek", "percent_fewer") == pytest.approx(-100.0)
    assert res.value("chars", "greek", "percent_fewer") == 0.0
    res = compare(["chars", "bytes"], sets, baseline="bytes")
    assert res.value("chars", "greek", "percent_fewer") == pytest.approx(50.0)
    avg = {a["tokenizer"]: a for a in res.averages}
    assert avg["chars"]["percent_fewer"] == pytest.approx(25.0)


def test_compare_files_and_first_n(tmp_path):
    f = tmp_path / "legal.jsonl.gz"
    with gzip.open(f, "wt", encoding="utf-8") as fh:
        for i in range(5):
            fh.write(json.dumps({"id": str(i), "text": "x" * (i + 1)}) + "\n")
    res = compare(["chars"], [str(f)], max_documents=2)
    assert res.sets == ["legal"]
    row = res.rows[0]
    assert row["documents"] == 2 and row["characters"] == 3


def test_compare_bad_inputs():
    with pytest.raises(InputError, match="baseline"):
        compare(["chars"], {"a": ["x"]}, baseline="gpt2")
    with pytest.raises(InputError, match="no text"):
        compare(["chars"], {"a": [""]})
    with pytest.raises(InputError, match="share a name"):
        compare(["chars", "chars"], {"a": ["x"]})


def test_real_domain_kl3m_vs_o200k(tokenizers_dir, data_dir):
    # the shared README: kl3m-001-32k needs far more tokens than o200k on legal text (space added tokens)
    res = compare([str(tokenizers_dir / "tiktoken" / "o200k_base.tiktoken"),
                   str(tokenizers_dir / "kl3m" / "kl3m-001-32k")],
                  [str(data_dir / "domain" / "legal" / "court_opinions.jsonl.gz")], max_documents=3)
    assert res.value("kl3m-001-32k", "court_opinions", "percent_fewer") < -30


def test_cli_compare_and_eval(tmp_path):
    f = tmp_path / "docs.txt"
    f.write_text("ab cde\nfg\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["compare", "chars", "bytes", "--set", f"mine={f}", "--json",
                                 "--plot", str(tmp_path / "c.svg")])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["sets"] == ["mine"] and (tmp_path / "c.svg").exists()
    r = CliRunner().invoke(app, ["compare", "chars", "bytes", "--set", str(f)])
    assert r.exit_code == 0 and "average" in r.output
    r = CliRunner().invoke(app, ["eval", "chars", "--corpus", str(f), "--per-line", "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)[0]
    assert (m["tokens"], m["words"], m["texts"]) == (8, 3, 2)
    r = CliRunner().invoke(app, ["eval", "chars", "bytes", "--corpus", str(f), "--unreachable"])
    assert r.exit_code == 0 and "tokenizer metrics" in r.output
    r = CliRunner().invoke(app, ["eval", "nope-tokenizer", "--corpus", str(f)])
    assert r.exit_code == 2 and "no such tokenizer" in r.output


def test_cli_eval_boundary_stability(tmp_path):
    f = tmp_path / "docs.txt"
    f.write_text("ab cde\n", encoding="utf-8")
    f.write_text("the annulled order was vacated\n" * 20, encoding="utf-8")
    r = CliRunner().invoke(app, ["eval", "chars", "--corpus", str(f), "--boundary-stability", "--json"])
    assert r.exit_code == 0, r.output
    bs = json.loads(r.output)[0]["boundary_stability"]
    # a character tokenizer cuts everywhere: every boundary away from the edits survives
    assert bs["stability"] == 1.0 and bs["comparable"] > 0 and bs["edits"] > 0
    r = CliRunner().invoke(app, ["eval", "chars", "--corpus", str(f), "--boundary-stability"])
    assert r.exit_code == 0 and "boundary stability at 3% character noise" in r.output


@pytest.mark.slow
def test_every_plot(tmp_path):
    from tokkit.analysis import plots
    from tokkit.analysis.premium import premiums
    from tokkit.corpora import Language, ParallelCorpus

    units = {c: {"1": t * (k + 1), "2": t} for k, (c, t) in enumerate({"eng": "ab", "rus": "жж", "ell": "αβ",
                                                                       "deu": "abc"}.items())}
    langs = {c: Language(code=c, latitude=float(k), longitude=float(-k)) for k, c in enumerate(units)}
    res = premiums(["bytes", "chars", WordTokenizer([], name="unk")], ParallelCorpus("t", langs, units, ["1", "2"]),
                   bootstrap=20)
    out = plots.plot_lorenz(res, [tmp_path / "lorenz.png", tmp_path / "lorenz.svg"])   # both formats at once
    assert len(out) == 2 and b"<svg" in (tmp_path / "lorenz.svg").read_bytes()[:2000]
    for fn in (plots.plot_premiums, plots.plot_script_boxes, plots.plot_world, plots.plot_lorenz):
        fn(res, tmp_path / f"{fn.__name__}.png")
        assert (tmp_path / f"{fn.__name__}.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputError, match=r"\.png"):
        plots.plot_lorenz(res, tmp_path / "x.jpg")
    res.rows = [dict(r, latitude=None) for r in res.rows]
    with pytest.raises(InputError, match="coordinates"):
        plots.plot_world(res, tmp_path / "w.png")
