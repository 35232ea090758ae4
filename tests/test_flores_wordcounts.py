"""FLORES+ on a local dataset of the real schema, and word-count tables."""

import pytest

from tokkit.corpora import WordCounts, read_word_counts
from tokkit.errors import EmptyInputError, InputError


@pytest.fixture
def flores_dir(tmp_path):
    datasets = pytest.importorskip("datasets")
    cols = ["id", "iso_639_3", "iso_15924", "glottocode", "text", "url", "domain", "topic", "has_image",
            "has_hyperlink", "last_updated"]

    def rows(split, n):
        out = {c: [] for c in cols}
        for lang, script, fmt in [("eng", "Latn", "sentence {} in English"), ("deu", "Latn", "Satz {} auf Deutsch"),
                                  ("rus", "Cyrl", "предложение {}")]:
            for i in range(n):
                vals = [i, lang, script, "x", fmt.format(i), "u", "wikinews", "t", False, False, "2.0"]
                for c, v in zip(cols, vals):
                    out[c].append(v)
        return datasets.Dataset.from_dict(out)

    path = tmp_path / "flores"
    datasets.DatasetDict({"dev": rows("dev", 4), "devtest": rows("devtest", 3)}).save_to_disk(str(path))
    return path


def test_flores_local(flores_dir):
    from tokkit.corpora import load_flores

    fl = load_flores(str(flores_dir))
    assert set(fl.codes) == {"eng_Latn", "deu_Latn", "rus_Cyrl"}
    assert len(fl.unit_ids) == 7 and fl.unit_ids[0] == "dev:0" and fl.unit_ids[-1] == "devtest:2"
    assert fl.units["deu_Latn"]["devtest:1"] == "Satz 1 auf Deutsch"
    assert fl.languages["rus_Cyrl"].script == "Cyrl"
    only = load_flores(str(flores_dir), languages=["eng_Latn"], splits=["dev"])
    assert only.codes == ["eng_Latn"] and len(only.unit_ids) == 4
    with pytest.raises(InputError, match="unknown FLORES"):
        load_flores(str(flores_dir), languages=["xxx_Latn"])


def test_counts_roundtrip_tsv_parquet(tmp_path):
    wc = WordCounts({"the": 10, "law": 3, "été": 2**40})
    for name in ("c.tsv", "c.parquet"):
        if name.endswith("parquet"):
            pytest.importorskip("pyarrow")
        wc.to_file(tmp_path / name)
        back = read_word_counts(tmp_path / name)
        assert dict(back) == dict(wc) and back.total == 13 + 2**40


def test_counts_bad_files(tmp_path):
    f = tmp_path / "c.tsv"
    f.write_text("the\t10\nlaw\tmany\n")
    with pytest.raises(InputError, match=r"c\.tsv:2: count 'many'"):
        read_word_counts(f)
    f.write_text("no tab here\n")
    with pytest.raises(InputError, match=r"c\.tsv:1: expected"):
        read_word_counts(f)
    f.write_text("")
    with pytest.raises(EmptyInputError):
        read_word_counts(f)
    with pytest.raises(InputError, match="unknown counts format"):
        read_word_counts(tmp_path / "c.csv") if (tmp_path / "c.csv").write_text("x") else None
    with pytest.raises(InputError, match="no such file"):
        read_word_counts(tmp_path / "missing.tsv")
