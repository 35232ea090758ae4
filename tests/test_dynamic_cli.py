"""`tokkit merge`: the CLI twin of measure_reduction."""

import json
import subprocess
import sys

import pytest

from tokkit.dynamic.collate import measure_reduction


def _run(*args):
    return subprocess.run([sys.executable, "-m", "tokkit", "merge", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_merge_cli_files_json_matches_api(tmp_path, tokenizers_dir):
    from tokenizers import Tokenizer

    text = ["the tokenizer tokenizes tokenization", "detokenization of tokenizers", "the tokenizers"] * 3
    (tmp_path / "a.txt").write_text("\n".join(text) + "\n")
    tj = tokenizers_dir / "bert-base-multilingual-cased" / "tokenizer.json"
    r = _run(str(tj), str(tmp_path / "a.txt"), "--per-line", "--json", "--batch-size", "4")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    want = measure_reduction(Tokenizer.from_file(str(tj)), text, batch_size=4)
    assert got == json.loads(json.dumps(want))
    assert got["exact"] and got["reduction"] > 0.1 and got["batches"] == 3


@pytest.mark.slow
def test_merge_cli_parallel_corpus(data_dir, tokenizers_dir):
    r = _run(str(tokenizers_dir / "gpt2"), str(data_dir / "udhr"), "-l", "eng", "-l", "fra", "--json", "-q")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [x["code"] for x in out["per_language"]] == ["eng", "fra"] and out["summary"]["exact"]
    assert 0 < out["summary"]["mean_reduction"] < 1
    # the old comma-separated spelling: the same result, and one deprecation line
    old = _run(str(tokenizers_dir / "gpt2"), str(data_dir / "udhr"), "--languages", "eng,fra", "--json", "-q")
    assert old.returncode == 0 and json.loads(old.stdout) == out
    assert [ln for ln in old.stderr.splitlines() if ln.strip()] == [
        "warning: --languages is deprecated and will be removed in the next release; use -l/--language (repeatable)"]


@pytest.mark.parametrize("args,msg", [
    (["/nonexistent/tok.json", "x.txt"], "/nonexistent/tok.json"),
    (["{gpt2}", "{udhr}", "-l", "xx_nope"], "xx_nope"),
    (["{gpt2}", "{udhr}", "--batch-size", "0"], "batch_size"),
    (["{gpt2}", "{udhr}", "-l", "eng", "--mode", "words"], "mode"),
])
@pytest.mark.slow
def test_merge_cli_bad_input(args, msg, data_dir, tokenizers_dir):
    args = [a.format(gpt2=tokenizers_dir / "gpt2", udhr=data_dir / "udhr") for a in args]
    r = _run(*args, "-q")
    assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr
