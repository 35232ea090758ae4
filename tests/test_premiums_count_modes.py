"""Premiums by count mode on a small FLORES-200-layout folder: `joined` equals encoding " ".join(dev + devtest
lines) directly (Petrov et al. 2023's method), `sentence` equals the sum of per-line counts, `document` the
sum over source articles; no interval has zero width (a single group gets none, with the reason); FLORES-200
and FLORES+ codes find each other's rows, and the table has language names."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tokkit.analysis.premium import block_units, premiums
from tokkit.corpora import load_flores
from tokkit.corpora.flores_codes import RENAMED, aliases, language_name
from tokkit.errors import InputError
from tokkit.tokenizer import load_tokenizer

UDHR_OF = {"eng_Latn": "eng", "deu_Latn": "deu_1996", "zho_Hans": "cmn_hans", "zho_Hant": "cmn_hant",
           "mya_Mymr": "mya", "amh_Ethi": "amh"}


@pytest.fixture(scope="module")
def flores_dir(udhr, tmp_path_factory):
    """FLORES-200 as released, with UDHR text: dev = articles 1-14, devtest = 15-30, one line each (the
    preamble's paragraphs are lines of their own); metadata_<split>.tsv puts every three lines in one article."""
    root = tmp_path_factory.mktemp("flores") / "flores200_dataset"
    common = udhr.common_units(*UDHR_OF.values())
    lines = {code: [t for u in common for t in udhr.units[src][u].split("\n")] for code, src in UDHR_OF.items()}
    n = min(len(v) for v in lines.values())
    split_at = n // 2
    for split, rng in (("dev", range(0, split_at)), ("devtest", range(split_at, n))):
        (root / split).mkdir(parents=True)
        for code, ls in lines.items():
            (root / split / f"{code}.{split}").write_text("".join(ls[i] + "\n" for i in rng), encoding="utf-8")
        meta = ["URL\tdomain\ttopic\thas_image\thas_hyperlink"]
        meta += [f"https://example.org/{split}/{k // 3}\twiki\tt\t0\t0" for k in range(len(rng))]
        (root / f"metadata_{split}.tsv").write_text("\n".join(meta) + "\n", encoding="utf-8")
    return root


def _lines(root, code):
    return [t for split in ("dev", "devtest")
            for t in (root / split / f"{code}.{split}").read_text(encoding="utf-8").splitlines()]


TOKS = ["gpt2", "r50k_base", "cl100k_base", "mistral-7b-v0.3", "llama2", "bytes", "chars"]


@pytest.mark.slow
@pytest.mark.parametrize("name", TOKS)
def test_joined_and_sentence_equal_direct_counts(tokenizers_dir, flores_dir, name):
    pc = load_flores(flores_dir)
    tok = load_tokenizer(name)
    joined = premiums(tok, pc, reference="eng_Latn", count_mode="joined", bootstrap=200)
    sentence = premiums(tok, pc, reference="eng_Latn", count_mode="sentence", bootstrap=200)
    eng = _lines(flores_dir, "eng_Latn")
    for code in UDHR_OF:
        lines = _lines(flores_dir, code)
        j = next(r for r in joined.rows if r["language"] == code)
        s = next(r for r in sentence.rows if r["language"] == code)
        assert j["tokens"] == tok.count(" ".join(lines)) and j["reference_tokens"] == tok.count(" ".join(eng))
        assert j["premium"] == pytest.approx(tok.count(" ".join(lines)) / tok.count(" ".join(eng)), rel=1e-12)
        assert s["tokens"] == sum(tok.count(t) for t in lines)
        assert j["units"] == s["units"] == len(lines) and s["groups"] == len(lines)
        assert j["groups"] == -(-len(lines) // block_units(len(lines)))
        for r in (j, s):   # an interval, never of zero width, around the premium
            if code == "eng_Latn":
                assert r["premium"] == 1.0 and r["ci_low"] is None and "reference" in r["ci_note"]
                continue
            assert r["ci_note"] == "" and r["ci_low"] < r["ci_high"], (name, code, r["ci_low"])
            assert r["ci_low"] <= r["premium"] <= r["ci_high"]
        assert j["characters"] == len(" ".join(lines)) and j["bytes"] == len(" ".join(lines).encode())
    assert joined.method["count_mode"] == "joined" and "Petrov" in joined.method["description"]
    assert "blocks" in joined.method["interval"] and "units" in sentence.method["interval"]


def test_joined_with_another_separator(tokenizers_dir, flores_dir):
    # "\n" is not a cut the chunking rule vouches for: the joined texts are encoded as a whole
    pc = load_flores(flores_dir, languages=["eng_Latn", "mya_Mymr"])
    tok = load_tokenizer("cl100k_base")
    res = premiums(tok, pc, reference="eng_Latn", count_mode="joined", separator="\n", bootstrap=100)
    row = next(r for r in res.rows if r["language"] == "mya_Mymr")
    assert row["tokens"] == tok.count("\n".join(_lines(flores_dir, "mya_Mymr")))
    assert row["ci_low"] <= row["premium"] <= row["ci_high"]


def test_document_mode_and_single_groups(flores_dir):
    pc = load_flores(flores_dir)
    docs = {m["document"] for m in pc.unit_meta.values()}
    res = premiums("chars", pc, reference="eng_Latn", count_mode="document", bootstrap=100)
    row = next(r for r in res.rows if r["language"] == "deu_Latn")
    assert row["groups"] == len(docs) > 1 and row["ci_low"] < row["ci_high"]
    by_doc: dict[str, list[str]] = {}
    for u in pc.unit_ids:
        by_doc.setdefault(pc.unit_meta[u]["document"], []).append(pc.units["deu_Latn"][u])
    assert row["tokens"] == sum(len(" ".join(v)) for v in by_doc.values())
    # without document ids each language is one document: no interval, and the reason, not a zero width
    pc.unit_meta.clear()
    res = premiums("chars", pc, reference="eng_Latn", count_mode="document", bootstrap=100)
    for r in res.rows:
        assert r["groups"] == 1 and r["ci_low"] is None and r["ci_high"] is None
        assert r["ci_note"] == "one document per language: no interval" or r["language"] == "eng_Latn"
        assert r["tokens"] == len(" ".join(_lines(flores_dir, r["language"])))
    # one unit per language, in any mode
    one = pc.select(unit_ids=pc.unit_ids[:1])
    for unit in ("sentence", "joined"):
        r = next(r for r in premiums("chars", one, reference="eng_Latn", count_mode=unit, bootstrap=100).rows
                 if r["language"] == "deu_Latn")
        assert r["ci_low"] is None and "no interval" in r["ci_note"]
    with pytest.raises(InputError, match="count_mode='words'"):
        premiums("chars", pc, reference="eng_Latn", count_mode="words")


def test_flores_codes_and_names(flores_dir):
    pc = load_flores(flores_dir, languages=["eng_Latn", "cmn_Hans", "zho_Hant"])   # a FLORES+ code finds its row
    assert sorted(pc.codes) == ["eng_Latn", "zho_Hans", "zho_Hant"]
    assert pc.languages["zho_Hans"].name == "Chinese (Simplified)"
    assert pc.languages["eng_Latn"].name == "English"
    res = premiums("chars", pc, reference="eng_Latn", languages=["cmn_Hant"], bootstrap=0)
    assert {r["language"] for r in res.rows} == {"eng_Latn", "zho_Hant"}
    assert next(r for r in res.rows if r["language"] == "zho_Hant")["ci_note"] == "bootstrap=0"
    with pytest.raises(InputError, match="unknown FLORES language"):
        load_flores(flores_dir, languages=["xyz_Latn"])
    # the mapping, both ways, and names of the relabelled codes
    assert RENAMED["zho_Hans"] == "cmn_Hans" and aliases("cmn_Hans") == ("zho_Hans",)
    assert aliases("apc_Arab_nort3139") == ("apc_Arab",) and aliases("ajp_Arab") == ("apc_Arab_sout3123",)
    assert language_name("twi_Latn_akua1239") == "Twi (Akuapem)" and language_name("cmn_Hans") == "Mandarin Chinese"
    assert language_name("deu_Latn")    # from the NTREX / UDHR indexes under $TOKKIT_DATA


def test_cli_count_mode(flores_dir, tmp_path):
    from tokkit.cli import app

    csv_path = tmp_path / "p.csv"
    r = CliRunner().invoke(app, ["premiums", "chars", "-c", str(flores_dir), "--reference", "eng_Latn",
                                 "--count-mode", "joined", "--bootstrap", "50", "--json", "--csv", str(csv_path)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["method"]["count_mode"] == "joined" and d["method"]["separator"] == " "
    assert all(row["count_mode"] == "joined" and row["ci_low"] < row["ci_high"] for row in d["rows"]
               if row["language"] != "eng_Latn")
    head, *lines = csv_path.read_text().splitlines()
    assert "count_mode" in head.split(",") and "ci_note" in head.split(",") and all(",joined," in x for x in lines)
    r = CliRunner().invoke(app, ["premiums", "chars", "-c", str(flores_dir), "--reference", "eng_Latn",
                                 "--count-mode", "document", "--bootstrap", "0"])
    assert r.exit_code == 0 and "count mode document" in r.output and "Chinese (Simplified)" in r.output
    r = CliRunner().invoke(app, ["premiums", "chars", "-c", str(flores_dir), "--count-mode", "words"])
    assert r.exit_code == 2 and "--count-mode words" in r.output


def test_flores_plus_keys_and_aliases(tmp_path):
    # FLORES+ 2.x: cmn_Hans where FLORES-200 had zho_Hans, and apc_Arab twice, told apart by Glottocode
    datasets = pytest.importorskip("datasets")
    langs = [("eng", "Latn", "stan1293", "sentence {}"), ("cmn", "Hans", "beij1234", "句子{}"),
             ("apc", "Arab", "nort3139", "شمال {}"), ("apc", "Arab", "sout3123", "جنوب {}")]

    def rows(n):
        out = {c: [] for c in ("id", "iso_639_3", "iso_15924", "glottocode", "text", "url")}
        for iso, script, glotto, fmt in langs:
            for i in range(n):
                for c, v in zip(out, (i, iso, script, glotto, fmt.format(i), f"https://example.org/{i // 2}")):
                    out[c].append(v)
        return datasets.Dataset.from_dict(out)

    path = tmp_path / "flores_plus"
    datasets.DatasetDict({"dev": rows(4), "devtest": rows(3)}).save_to_disk(str(path))
    fl = load_flores(str(path))
    assert sorted(fl.codes) == ["apc_Arab_nort3139", "apc_Arab_sout3123", "cmn_Hans", "eng_Latn"]
    assert fl.units["apc_Arab_sout3123"]["dev:1"] == "جنوب 1"        # not overwritten by the other apc
    assert fl.languages["apc_Arab_sout3123"].name == "South Levantine Arabic"
    assert fl.unit_meta["devtest:2"] == {"document": "https://example.org/1"}
    # FLORES-200 codes find their FLORES+ rows, in the loader and in premiums
    sub = load_flores(str(path), languages=["eng_Latn", "zho_Hans", "ajp_Arab"])
    assert sorted(sub.codes) == ["apc_Arab_sout3123", "cmn_Hans", "eng_Latn"]
    res = premiums("chars", fl, reference="eng_Latn", languages=["zho_Hans", "apc_Arab"], bootstrap=0)
    assert {r["language"] for r in res.rows} == {"eng_Latn", "cmn_Hans", "apc_Arab_nort3139"}


@pytest.mark.parametrize("count_mode", ["joined", "document"])
def test_groups_joined_when_read_give_the_same_rows(monkeypatch, tokenizers_dir, flores_dir, count_mode):
    # groups above LAZY_CHARS are joined only when read (a huge unit is never held twice): the same rows
    from tokkit.analysis import premium as P

    pc = load_flores(flores_dir)
    held = premiums("gpt2", pc, reference="eng_Latn", count_mode=count_mode, bootstrap=50).rows
    monkeypatch.setattr(P._GroupTexts, "LAZY_CHARS", 0)
    flat, _, _ = P._flat_groups(pc, "eng_Latn", {c: pc.unit_ids for c in pc.codes}, count_mode, " ")
    assert isinstance(flat, P._GroupTexts) and flat[1:3] == [flat[1], flat[2]] and list(flat)[0] == flat[0]
    assert premiums("gpt2", pc, reference="eng_Latn", count_mode=count_mode, bootstrap=50).rows == held
