"""Readers on the shared corpora (skipped with a reason where ../shared/corpora is absent)."""

import gzip
import json
import shutil

import pytest

from tokkit.corpora import load_ntrex, load_udhr, read_documents, wordfreq_counts
from tokkit.errors import InputError


def test_udhr_532_declarations(udhr):
    assert len(udhr) == 532
    eng = udhr.units["eng"]
    assert set(eng) == {"0"} | {str(i) for i in range(1, 31)}
    assert eng["1"].startswith("All human beings are born free and equal in dignity and rights.")
    assert eng["0"].startswith("Whereas recognition of the inherent dignity")
    assert "Article 1" not in eng["1"]  # titles are not text
    lang = udhr.languages["eng"]
    assert lang.name == "English" and lang.script == "Latn" and lang.direction == "ltr"
    assert lang.latitude is not None and lang.longitude is not None
    # articles made of <ol><li> items keep every item
    assert eng["21"].count("\n") >= 2


def test_udhr_scripts_and_directions(udhr):
    assert udhr.languages["arb"].direction == "rtl" and udhr.languages["arb"].script == "Arab"
    assert udhr.languages["rus"].script == "Cyrl"
    assert udhr.languages["hin"].script == "Deva"
    assert udhr.languages["mya"].script == "Mymr"


def test_udhr_alignment(udhr):
    common = udhr.common_units("eng", "deu_1996")
    assert common == ["0"] + [str(i) for i in range(1, 31)]
    assert len(udhr.texts("deu_1996", common)) == 31
    with pytest.raises(InputError, match="unknown language 'xxx'"):
        udhr.texts("xxx")


def test_udhr_nfc(data_dir):
    import unicodedata

    raw = load_udhr(data_dir / "udhr", languages=["hin"])
    nfc = load_udhr(data_dir / "udhr", languages=["hin"], nfc=True)
    text_raw = "".join(raw.units["hin"].values())
    text_nfc = "".join(nfc.units["hin"].values())
    assert unicodedata.is_normalized("NFC", text_nfc)
    assert not unicodedata.is_normalized("NFC", text_raw)


def test_udhr_without_index(tmp_path, data_dir):
    (tmp_path / "declaration").mkdir()
    shutil.copy(data_dir / "udhr" / "declaration" / "eng.html", tmp_path / "declaration")
    with pytest.raises(InputError, match="no index.json"):
        load_udhr(tmp_path)
    with pytest.raises(InputError, match="no such UDHR folder"):
        load_udhr(tmp_path / "missing")


def test_ntrex(data_dir):
    nt = load_ntrex(data_dir / "ntrex", languages=["eng", "deu", "amh"])
    assert set(nt.codes) == {"eng", "deu", "amh"}
    assert len(nt.units["eng"]) == 1997
    assert nt.units["eng"]["0"] == "Welsh AMs worried about 'looking like muppets'"
    assert nt.unit_meta["0"]["document"] == "bbc.381790"
    assert nt.languages["amh"].name == "Amharic" and nt.languages["amh"].script == "Ethi"
    assert len({m["document"] for m in nt.unit_meta.values()}) == 123


def test_domain_jsonl(data_dir):
    docs = list(read_documents(data_dir / "domain" / "legal" / "court_opinions.jsonl.gz"))
    assert len(docs) == 12 and all(d.meta["domain"] == "legal" for d in docs)
    with gzip.open(data_dir / "domain" / "legal" / "court_opinions.jsonl.gz", "rt") as fh:
        first = json.loads(fh.readline())
    assert docs[0].id == str(first["id"]) and docs[0].text == first["text"]
    train = {d.id for d in read_documents(data_dir / "domain" / "legal", split="train", max_documents=10**6)}
    evals = {d.id for d in read_documents(data_dir / "domain" / "legal", split="eval", max_documents=10**6)}
    assert train and evals and not train & evals


def test_wordfreq_counts():
    wc = wordfreq_counts("en", n_words=1000)
    assert len(wc) == 1000 and wc["the"] > wc["house"] > 0
    with pytest.raises(InputError, match="no 'best' list for language 'xx'"):
        wordfreq_counts("xx")
