"""The task runner and counting validate before work: worker counts, read keywords, output names; bad input
is final at once (never retried); count tables are deterministic, compressed as named, and multi-line
documents never fail the write after counting."""

import gzip
import json
import os
import random

import pytest

from tokkit.corpora import WordCounts, read_word_counts
from tokkit.dist import check_workers, run_tasks
from tokkit.dist.count import count_words
from tokkit.errors import InputError


def _noop(x):
    return x


def _bad_input(marker):
    with open(marker, "a") as fh:  # one line per attempt
        fh.write("x\n")
    raise InputError("corpus.txt: no such file")


@pytest.mark.parametrize("n", [0, -1, -2, 1.5, "3", True])
def test_bad_worker_counts_rejected_before_work(n, tmp_path):
    with pytest.raises(InputError, match="workers"):
        check_workers(n)
    with pytest.raises(InputError, match="workers"):
        run_tasks([(0, _noop, (1,))], workers=n)
    (tmp_path / "a.txt").write_text("some words")
    with pytest.raises(InputError, match="workers"):
        count_words([str(tmp_path / "a.txt")], workers=n, out=str(tmp_path / "c.tsv"))
    assert os.listdir(tmp_path) == ["a.txt"]


def test_good_worker_counts():
    assert check_workers(None) is None and check_workers(3) == 3
    assert [r.value for r in run_tasks([(0, _noop, (7,))], workers=1)] == [7]


def test_input_errors_are_not_retried(tmp_path):
    marker = tmp_path / "attempts"
    [res] = run_tasks([(0, _bad_input, (str(marker),))], workers=1, retries=3)
    assert not res.ok and res.input_error and res.attempts == 1
    assert res.error == "corpus.txt: no such file"
    assert marker.read_text() == "x\n"


def test_count_checks_everything_before_work(tmp_path):
    (tmp_path / "a.txt").write_text("some words here")
    a = str(tmp_path / "a.txt")
    with pytest.raises(InputError, match="unknown keyword 'text_feild'.*'text_field'"):
        count_words([a], text_feild="body")
    with pytest.raises(InputError, match="unknown counts format"):
        count_words([a], out=str(tmp_path / "c.csv"))
    with pytest.raises(InputError, match="existing folder"):
        count_words([a], out=str(tmp_path))
    with pytest.raises(InputError, match="inside the input"):
        count_words([str(tmp_path)], out=str(tmp_path / "counts.tsv"))
    with pytest.raises(InputError, match="format"):
        count_words([a], format="csv")
    with pytest.raises(InputError, match="parts_per_file"):
        count_words([a], parts_per_file=0)
    with pytest.raises(InputError, match="nothing to count"):
        count_words(())
    with pytest.raises(InputError, match="empty output path"):
        count_words([a], out="")
    assert os.listdir(tmp_path) == ["a.txt"]


def test_count_accepts_a_single_path_string(tmp_path):
    (tmp_path / "a.txt").write_text("one two two")
    assert dict(count_words(str(tmp_path / "a.txt"), pre_tokenizer="whitespace", workers=1)) == {"one": 1, " two": 2}


def test_multiline_documents_write_tsv_and_gz(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    with open(docs / "d.jsonl", "w") as fh:
        for i in range(30):
            fh.write(json.dumps({"text": f"line one {i}\n\nline\ttwo \\ back\r\nend"}) + "\n")
    for name in ("c.tsv", "c.tsv.gz", "c.tsv.zst", "c.parquet"):
        out = tmp_path / name
        counts = count_words([str(docs)], workers=1, out=str(out))
        assert dict(read_word_counts(out)) == dict(counts)
        assert any("\n" in w for w in counts) and any("\t" in w for w in counts)
    assert gzip.decompress((tmp_path / "c.tsv.gz").read_bytes()).decode().count("\n") == len(counts)
    assert sorted(os.listdir(tmp_path)) == ["c.parquet", "c.tsv", "c.tsv.gz", "c.tsv.zst", "docs"]


def test_count_table_bytes_do_not_depend_on_arrival_order(tmp_path):
    items = [(f"w{i}", i % 3 + 1) for i in range(200)]
    outs = []
    for seed in range(3):
        random.Random(seed).shuffle(items)
        p = tmp_path / f"c{seed}.tsv.gz"
        WordCounts(dict(items)).to_file(p)
        outs.append(p.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    top = WordCounts(dict(items)).most_common(3)
    assert top == sorted(top, key=lambda kv: (-kv[1], kv[0])) and top[0][1] == 3


def test_count_parallel_runs_give_identical_files(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    rng = random.Random(0)
    for f in range(4):
        (docs / f"{f}.txt").write_text(" ".join(rng.choice("ab cd ef gh ij kl".split()) for _ in range(300)))
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    count_words([str(docs)], workers=2, parts_per_file=2, out=str(a))
    count_words([str(docs)], workers=1, out=str(b))
    assert a.read_bytes() == b.read_bytes()


def test_count_dataset_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "ds"
    datasets.Dataset.from_dict({"id": ["a", "b"], "body": ["hello world", "hello again"]}).save_to_disk(str(folder))
    counts = count_words(datasets=[str(folder)], pre_tokenizer="whitespace", workers=1, text_field="body",
                         per="file", format=None)
    assert dict(counts) == {"hello": 2, " world": 1, " again": 1}


def test_count_bad_input_in_a_shard_is_one_clean_error(tmp_path):
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(b"some words " * 1000)[:-20])
    with pytest.raises(InputError) as e:
        count_words([str(tmp_path / "a.txt.gz")], workers=1, retries=3)
    assert "a.txt.gz" in str(e.value) and "truncated" in str(e.value) and "attempts" not in str(e.value)


def test_count_killed_while_writing_leaves_old_table_and_next_run_cleans(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "a.txt").write_text("alpha beta beta")
    out = tmp_path / "c.tsv.gz"
    count_words([str(tmp_path / "a.txt")], pre_tokenizer="whitespace", workers=1, out=str(out))
    before = out.read_bytes()
    (tmp_path / "a.txt").write_text("gamma gamma delta")
    code = ("import sys\nfrom tokkit.dist.count import count_words\n"
            "count_words([sys.argv[1]], pre_tokenizer='whitespace', workers=1, out=sys.argv[2])\n")
    env = dict(os.environ, PYTHONPATH=str(root), TOKKIT_ATOMIC_FAULT="file-written")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a.txt"), str(out)], env=env)
    assert p.returncode == -9
    assert out.read_bytes() == before  # the old complete table
    assert len(os.listdir(tmp_path)) == 3  # and the killed run's temporary file
    counts = count_words([str(tmp_path / "a.txt")], pre_tokenizer="whitespace", workers=1, out=str(out))
    assert dict(read_word_counts(out)) == dict(counts) == {"gamma": 1, " gamma": 1, " delta": 1}
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "c.tsv.gz"]
