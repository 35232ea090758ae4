"""Documents from generated files in every format and compression, and every bad input."""

import gzip
import json

import pytest
import zstandard

from tokkit.corpora import read_documents
from tokkit.errors import DecodeError, EmptyInputError, InputError

TEXTS = ["first document\nwith two lines", "второй документ", "第三个文件 🙂", "tab\there and\r\nCRLF"]


def _compress(data: bytes, comp: str) -> bytes:
    if comp == "gz":
        return gzip.compress(data)
    if comp == "zst":
        return zstandard.ZstdCompressor().compress(data)
    return data


def _write(path, data: bytes, comp: str):
    path.write_bytes(_compress(data, comp))
    return path


@pytest.mark.parametrize("comp", ["", "gz", "zst"])
def test_jsonl_every_compression(tmp_path, comp):
    data = "".join(json.dumps({"id": f"d{i}", "text": t, "source": "x"}) + "\n" for i, t in enumerate(TEXTS))
    f = _write(tmp_path / ("a.jsonl" + (f".{comp}" if comp else "")), data.encode(), comp)
    docs = list(read_documents(f))
    assert [d.text for d in docs] == TEXTS
    assert [d.id for d in docs] == ["d0", "d1", "d2", "d3"]
    assert docs[0].meta["source"] == str(f) and docs[0].meta["line"] == 1


@pytest.mark.parametrize("comp", ["", "gz", "zst"])
def test_txt_per_file_and_per_line(tmp_path, comp):
    for i, t in enumerate(TEXTS):
        _write(tmp_path / (f"{i}.txt" + (f".{comp}" if comp else "")), t.encode(), comp)
    per_file = list(read_documents(tmp_path))
    assert sorted(d.text for d in per_file) == sorted(TEXTS)
    per_line = list(read_documents(str(tmp_path / "*.txt*"), per="line"))
    expected = [line for t in TEXTS for line in t.split("\n")]
    assert sorted(d.text for d in per_line) == sorted(expected)
    # \r stays in the text: only \n separates lines
    assert any(d.text.endswith("\r") for d in per_line)


@pytest.mark.parametrize("comp", ["", "gz", "zst"])
def test_parquet_every_compression(tmp_path, comp):
    pa = pytest.importorskip("pyarrow")
    import io

    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"doc": [f"p{i}" for i in range(len(TEXTS))], "body": TEXTS}), buf)
    f = _write(tmp_path / ("t.parquet" + (f".{comp}" if comp else "")), buf.getvalue(), comp)
    docs = list(read_documents(f, text_field="body", id_field="doc"))
    assert [d.text for d in docs] == TEXTS and docs[2].id == "p2"
    with pytest.raises(InputError, match="no column 'text'"):
        list(read_documents(f))


def test_limits_and_sampling(tmp_path):
    lines = [f"line number {i}" for i in range(1000)]
    f = tmp_path / "lines.txt"
    f.write_text("\n".join(lines))
    assert len(list(read_documents(f, per="line", max_documents=10))) == 10
    small = list(read_documents(f, per="line", max_bytes=100))
    assert sum(len(d.text) for d in small) <= 100 and len(small) == 100 // len("line number 10") or len(small) > 0
    s1 = [d.id for d in read_documents(f, per="line", sample=0.2, seed=1)]
    s2 = [d.id for d in read_documents(f, per="line", sample=0.2, seed=1)]
    s3 = [d.id for d in read_documents(f, per="line", sample=0.2, seed=2)]
    assert s1 == s2 and s1 != s3 and 120 < len(s1) < 280
    # a single document bigger than max_bytes is cut, not dropped
    big = tmp_path / "big.txt"
    big.write_text("é" * 100)
    (doc,) = list(read_documents(big, max_bytes=11))
    assert doc.text == "é" * 5


def test_reiterable_and_lazy(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("x\ny")
    docs = read_documents(f, per="line")
    assert list(docs.texts()) == list(docs.texts()) == ["x", "y"]


def test_missing_path_and_empty_glob(tmp_path):
    with pytest.raises(InputError, match="no such file or directory"):
        read_documents(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="matches no file"):
        read_documents(str(tmp_path / "*.jsonl"))
    with pytest.raises(InputError, match="holds no"):
        read_documents(tmp_path)


def test_unknown_format(tmp_path):
    f = tmp_path / "data.csv"
    f.write_text("a,b")
    with pytest.raises(InputError, match=r"data\.csv: unknown format"):
        read_documents(f)
    assert [d.text for d in read_documents(f, format="txt")] == ["a,b"]
    with pytest.raises(InputError, match="format='xml'"):
        read_documents(f, format="xml")


@pytest.mark.parametrize("comp", ["", "gz", "zst"])
def test_invalid_utf8_names_file_and_offset(tmp_path, comp):
    data = b"good line\nbad \xff here\n"
    f = _write(tmp_path / ("bad.txt" + (f".{comp}" if comp else "")), data, comp)
    with pytest.raises(DecodeError) as e:
        list(read_documents(f, per="line"))
    assert e.value.offset == data.index(b"\xff") and str(f) in str(e.value)
    with pytest.raises(DecodeError) as e:
        list(read_documents(f))
    assert e.value.offset == data.index(b"\xff")
    texts = [d.text for d in read_documents(f, per="line", errors="replace")]
    assert texts == ["good line", "bad \ufffd here"]


def test_bad_jsonl(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"text": "ok"}\n{not json}\n')
    with pytest.raises(InputError, match=r"x\.jsonl:2: invalid JSON"):
        list(read_documents(f))
    f.write_text('{"body": "ok"}\n')
    with pytest.raises(InputError, match=r"x\.jsonl:1: no field 'text'"):
        list(read_documents(f))
    f.write_text('[1, 2]\n')
    with pytest.raises(InputError, match="expected a JSON object"):
        list(read_documents(f))


def test_empty_after_filtering(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"id": "a", "text": ""}\n')
    with pytest.raises(EmptyInputError, match="no documents left"):
        list(read_documents(f))


def test_not_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    f = tmp_path / "fake.parquet"
    f.write_bytes(b"this is not parquet")
    with pytest.raises(InputError, match="not a readable parquet file"):
        list(read_documents(f))


def test_bad_arguments(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("x")
    for kw in ({"max_documents": 0}, {"sample": 0}, {"sample": 1.5}, {"split": "test"}, {"per": "word"},
               {"errors": "ignore"}):
        with pytest.raises(InputError):
            read_documents(f, **kw)


def test_hf_dataset_local(tmp_path):
    datasets = pytest.importorskip("datasets")
    from tokkit.corpora import from_hf_dataset

    ds = datasets.DatasetDict({"train": datasets.Dataset.from_dict({"id": ["a", "b"], "text": ["x y", "z"]})})
    ds.save_to_disk(str(tmp_path / "ds"))
    docs = list(from_hf_dataset(str(tmp_path / "ds"), split="train"))
    assert [(d.id, d.text) for d in docs] == [("a", "x y"), ("b", "z")]
    with pytest.raises(InputError, match="no split 'test'"):
        list(from_hf_dataset(str(tmp_path / "ds"), split="test"))
    # a folder of data files, streamed through load_dataset
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "part.jsonl").write_text('{"text": "streamed"}\n')
    docs = list(from_hf_dataset(str(tmp_path / "files"), split="train", streaming=True))
    assert [d.text for d in docs] == ["streamed"]
