"""Sharded counting equals single-process counting, locally and on Ray; failures retry, then fail loudly."""

import gzip
import json
import os
from collections import Counter

import pytest

from tokkit.dist import run_tasks
from tokkit.dist.count import count_words
from tokkit.errors import InputError
from tokkit.kernels.pretokenize import pretokenize_reference


def _single_process(paths, pattern="gpt2"):
    from tokkit.corpora import read_documents

    c = Counter()
    for d in read_documents(paths):
        c.update(pretokenize_reference(d.text, pattern))
    return dict(c)


@pytest.fixture(scope="module")
def jsonl_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("docs")
    texts = ["The court held that 42 U.S.C. § 1983 applies.", "Revenue grew 12% in fiscal 2023.\n\n",
             "naïve café — déjà vu", "   spaces   and\ttabs\r\n", "日本語のテキスト", "x" * 50]
    for f in range(3):
        with gzip.open(d / f"part{f}.jsonl.gz", "wt", encoding="utf-8") as fh:
            for i in range(40):
                fh.write(json.dumps({"id": f"{f}-{i}", "text": texts[(i + f) % len(texts)] + f" doc {i}"}) + "\n")
    return d


@pytest.mark.parametrize("parts", [1, 3])
def test_local_equals_single_process(jsonl_files, parts):
    counts = count_words([str(jsonl_files)], workers=2, parts_per_file=parts)
    assert dict(counts) == _single_process(str(jsonl_files))


def test_patterns_and_errors(jsonl_files):
    ws = count_words([str(jsonl_files)], pre_tokenizer="whitespace", workers=1)
    assert dict(ws) == _single_process(str(jsonl_files), "whitespace")
    with pytest.raises(InputError, match="unknown pre-tokenizer"):
        count_words([str(jsonl_files)], pre_tokenizer="bogus")
    with pytest.raises(InputError, match="nothing to count"):
        count_words([])


def _fail_always(x):
    raise ValueError(f"bad {x}")


def _fail_first(marker):
    # dies like a killed worker on the first attempt, succeeds on the retry
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return "ok"


def test_local_retries_and_records_errors(tmp_path):
    res = {r.key: r for r in run_tasks([("a", _fail_always, (1,)), ("b", _fail_first, (str(tmp_path / "m"),))],
                                       workers=2, retries=1)}
    assert not res["a"].ok and "ValueError: bad 1" in res["a"].error and res["a"].attempts == 2
    assert res["b"].ok and res["b"].value == "ok" and res["b"].attempts == 2


def test_cli_count(jsonl_files, tmp_path):
    from tokkit.cli import main
    from tokkit.corpora import read_word_counts

    out = tmp_path / "counts.parquet"
    with pytest.raises(SystemExit) as e:
        main(["count", str(jsonl_files), "--out", str(out), "--quiet", "--workers", "2"])
    assert e.value.code == 0
    assert dict(read_word_counts(out)) == _single_process(str(jsonl_files))


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'tokkit[dist]')")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import sys

    # this module's task functions travel by value: Ray workers cannot import a test file by name
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_equals_local(ray_local, jsonl_files):
    local = count_words([str(jsonl_files)], workers=2, parts_per_file=2)
    on_ray = count_words([str(jsonl_files)], backend="ray", parts_per_file=2)
    assert dict(on_ray) == dict(local)


def test_ray_worker_killed_is_retried(ray_local, tmp_path):
    res = {r.key: r for r in run_tasks([("a", _fail_always, (2,)), ("b", _fail_first, (str(tmp_path / "m"),))],
                                       backend="ray", retries=1)}
    assert not res["a"].ok and "bad 2" in res["a"].error and res["a"].attempts == 2
    assert res["b"].ok and res["b"].attempts == 2


@pytest.mark.slow
def test_ray_counting_equals_local_on_domain(ray_local, data_dir):
    files = [str(data_dir / "domain" / "legal" / f) for f in ("court_opinions.jsonl.gz", "bva_decisions.jsonl.gz")]
    assert dict(count_words(files, backend="ray")) == _single_process(files)
