"""Parallel corpora are checked for alignment (NTREX line counts, FLORES-200 line counts and metadata,
FLORES+ unit sets, UDHR article numbers), FLORES-200 as released is read from disk, and FLORES without
the hub is one InputError line saying how to point tokkit at a local copy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokkit.corpora import load_flores, load_ntrex, load_parallel, load_udhr, open_corpus
from tokkit.corpora.parallel import ParallelCorpus
from tokkit.errors import InputError

ROOT = Path(__file__).resolve().parents[1]

EN = [f"Sentence {i} says {i * 7} things." for i in range(12)]
DE = [f"Satz {i} sagt {i * 7} Dinge." for i in range(12)]
FR = [f"La phrase {i} dit {i * 7} choses." for i in range(12)]


def ntrex_folder(root: Path, de=DE) -> Path:
    d = root / "NTREX-128"
    d.mkdir(parents=True)
    (d / "newstest2019-src.eng.txt").write_text("\n".join(EN) + "\n")
    (d / "newstest2019-ref.deu.txt").write_text("\n".join(de) + "\n")
    (d / "newstest2019-ref.fra.txt").write_text("\r\n".join(FR) + "\r\n")  # some NTREX files are CRLF
    (root / "DOCUMENT_IDS.tsv").write_text("".join(f"doc{i // 4}\n" for i in range(12)))
    return root


def test_ntrex_aligned_reads(tmp_path):
    pc = load_ntrex(ntrex_folder(tmp_path))
    assert pc.texts("deu") == DE and pc.texts("fra") == FR and pc.texts("eng") == EN
    assert pc.unit_ids == [str(i) for i in range(12)]


def test_ntrex_trailing_blank_lines_are_not_misalignment(tmp_path):
    root = ntrex_folder(tmp_path)
    (root / "NTREX-128" / "newstest2019-ref.deu.txt").write_text("\n".join(DE) + "\n\n\n")
    assert load_ntrex(root).texts("deu") == DE


def test_ntrex_missing_line_names_language_and_first_shifted_unit(tmp_path):
    root = ntrex_folder(tmp_path, de=DE[:5] + DE[6:])  # line 5 lost: German 6.. pair with English 5..
    for call in (lambda: load_ntrex(root), lambda: load_ntrex(root, languages=["deu"]),
                 lambda: load_parallel(str(root)), lambda: open_corpus([str(root)])):
        with pytest.raises(InputError) as e:
            call()
        msg = str(e.value)
        assert "deu" in msg and "11 lines" in msg and "12" in msg and "from unit 5 on" in msg
        assert "\n" not in msg
    assert load_ntrex(root, languages=["fra"]).texts("fra") == FR  # other languages still load


def test_ntrex_extra_line_is_misaligned_too(tmp_path):
    root = ntrex_folder(tmp_path, de=DE[:3] + ["Ein zusätzlicher Satz 99."] + DE[3:])
    with pytest.raises(InputError, match="deu has 13 lines"):
        load_ntrex(root)


def flores200(root: Path, *, langs=("eng_Latn", "deu_Latn", "zho_Hans"), metadata=True, drop=None) -> Path:
    folder = root / "flores200_dataset"
    texts = {"eng_Latn": EN, "deu_Latn": DE, "zho_Hans": [f"第{i}句话说了{i * 7}件事。" for i in range(12)]}
    for split, rows in (("dev", slice(0, 7)), ("devtest", slice(7, 12))):
        (folder / split).mkdir(parents=True)
        n = len(EN[rows])
        if metadata:
            (folder / f"metadata_{split}.tsv").write_text("URL\tdomain\ttopic\n" + "u\twiki\tt\n" * n)
        for code in langs:
            lines = texts[code][rows]
            if drop and drop[0] == code and drop[1] == split:
                lines = lines[:drop[2]] + lines[drop[2] + 1:]
            (folder / split / f"{code}.{split}").write_text("\n".join(lines) + "\n")
    return folder


def test_flores200_release_is_a_parallel_corpus(tmp_path):
    folder = flores200(tmp_path)
    pc = load_flores(str(folder))
    assert isinstance(pc, ParallelCorpus) and pc.name == "flores"
    assert sorted(pc.codes) == ["deu_Latn", "eng_Latn", "zho_Hans"]
    assert pc.unit_ids == [f"dev:{i}" for i in range(7)] + [f"devtest:{i}" for i in range(5)]
    assert pc.texts("eng_Latn") == EN and pc.texts("deu_Latn") == DE
    assert pc.units["deu_Latn"]["devtest:0"] == DE[7]
    zh = pc.languages["zho_Hans"]
    assert (zh.script, zh.iso6393) == ("Hans", "zho")
    assert load_flores(str(folder), splits=["devtest"]).unit_ids == [f"devtest:{i}" for i in range(5)]
    assert load_flores(str(folder), languages=["deu_Latn"]).codes == ["deu_Latn"]
    # load_parallel and open_corpus find it, given the release folder or the folder holding it
    for spec in (str(folder), str(tmp_path)):
        assert load_parallel(spec).units == pc.units
        assert open_corpus([spec]).units == pc.units
    with pytest.raises(InputError, match="unknown FLORES language code"):
        load_flores(str(folder), languages=["xxx_Latn"])


def test_flores200_without_metadata_uses_a_reference_file(tmp_path):
    pc = load_flores(str(flores200(tmp_path, metadata=False)))
    assert len(pc.unit_ids) == 12


@pytest.mark.parametrize("metadata", [True, False])
def test_flores200_misaligned_language_is_named(tmp_path, metadata):
    folder = flores200(tmp_path, metadata=metadata, drop=("deu_Latn", "devtest", 2))
    with pytest.raises(InputError) as e:
        load_flores(str(folder))
    msg = str(e.value)
    assert "deu_Latn" in msg and "devtest" in msg and "4 lines" in msg and "\n" not in msg


def test_flores_offline_is_one_line_with_the_way_out(tmp_path, monkeypatch):
    import tokkit.corpora.flores as flores

    pytest.importorskip("datasets")

    def offline(*a, **k):
        raise ConnectionError("Couldn't reach 'openlanguagedata/flores_plus' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(flores, "load_hf_split", offline)
    monkeypatch.setenv("TOKKIT_DATA", str(tmp_path))  # no flores/ inside: the default is the hub
    with pytest.raises(InputError) as e:
        load_parallel("flores")
    msg = str(e.value)
    assert "\n" not in msg and "flores200_dataset" in msg and "Couldn't reach" in msg
    # with $TOKKIT_DATA/flores holding the release, the same call reads it offline
    flores200(tmp_path / "flores")
    assert len(load_parallel("flores").unit_ids) == 12


def test_flores_offline_real_datasets_subprocess(tmp_path):
    pytest.importorskip("datasets")
    code = ("from tokkit.corpora import load_flores\nfrom tokkit.errors import InputError\n"
            "try:\n    load_flores()\nexcept InputError as e:\n    print('ERR', e)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               TOKKIT_DATA=str(tmp_path), HF_HOME=str(tmp_path / "hf"))
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("ERR FLORES: cannot reach") and p.stdout.count("\n") == 1


def test_flores_plus_language_missing_a_unit_is_named(monkeypatch):
    import tokkit.corpora.flores as flores

    class DS(list):
        column_names = ["id", "iso_639_3", "iso_15924", "text"]

    def fake(source, config, split):
        rows = [dict(id=i, iso_639_3="eng", iso_15924="Latn", text=EN[i]) for i in range(4)]
        rows += [dict(id=i, iso_639_3="deu", iso_15924="Latn", text=DE[i]) for i in range(4) if i != 2]
        return DS(rows)

    monkeypatch.setattr(flores, "load_hf_split", fake)
    with pytest.raises(InputError, match="deu_Latn has 6 of 8 units; the first missing is dev:2"):
        load_flores("somewhere")


UDHR_HTML = """<html><body><header><p>Preamble</p></header>
<article data-number="1"><p>Article one.</p></article>
<article data-number="{second}"><p>Article two.</p></article></body></html>"""


@pytest.mark.parametrize("second, match", [("2", None), ("1", "article 1 appears twice"),
                                           ("31", "not one of 1..30"), ("x", "not one of 1..30")])
def test_udhr_article_numbers_are_checked(tmp_path, second, match):
    (tmp_path / "declaration").mkdir()
    (tmp_path / "index.json").write_text('[{"code": "eng", "name": "English", "bcp47": "en"}]')
    (tmp_path / "declaration" / "eng.html").write_text(UDHR_HTML.format(second=second))
    if match is None:
        assert load_udhr(str(tmp_path)).unit_ids == ["0", "1", "2"]
    else:
        with pytest.raises(InputError, match=match):
            load_udhr(str(tmp_path))
