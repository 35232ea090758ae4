"""Packaging promises: a light import, the CLI entry points."""

import json
import subprocess
import sys


def test_import_is_light():
    code = ("import sys, tokkit, tokkit.corpora, tokkit.cli; "
            "heavy = [m for m in ('torch', 'triton', 'ray', 'datasets', 'transformers', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_python_m_tokkit_help():
    out = subprocess.run([sys.executable, "-m", "tokkit", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "corpus" in out.stdout


def test_python_m_tokkit_version():
    import tokkit

    out = subprocess.run([sys.executable, "-m", "tokkit", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == f"tokkit {tokkit.__version__}\n"


def test_corpus_stats_cli_udhr(data_dir):
    out = subprocess.run([sys.executable, "-m", "tokkit", "corpus", "stats", str(data_dir / "udhr"), "--json"],
                         capture_output=True, text=True, check=True).stdout
    s = json.loads(out)
    assert s["languages"] == 532 and s["documents"] == 532 and s["units"] == 31
    assert s["scripts"]["Latn"] > s["scripts"]["Cyrl"] > 0


def test_corpus_stats_cli_files(tmp_path):
    (tmp_path / "a.txt").write_text("hello world\nпривет")
    out = subprocess.run([sys.executable, "-m", "tokkit", "corpus", "stats", str(tmp_path / "a.txt"),
                          "--per-line", "--json"], capture_output=True, text=True, check=True).stdout
    s = json.loads(out)
    assert s["documents"] == 2 and s["characters"] == 17 and s["scripts"] == {"Latn": 10, "Cyrl": 6}


def test_cli_bad_input_is_one_clear_line(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xfe\n")
    r = subprocess.run([sys.executable, "-m", "tokkit", "corpus", "stats", str(tmp_path / "bad.txt"), "--per-line"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "invalid UTF-8 at byte offset 3" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "tokkit", "corpus", "stats", str(tmp_path / "none.txt")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_demo_trains_saves_and_measures(tmp_path):
    """The quickstart job: a tokenizer from wordfreq counts, saved with its card, costs per language."""
    import tokenizers

    from tokkit.analysis.demo import run_demo
    from tokkit.train.artifacts import read_card

    res = run_demo(["en", "ru"], vocab_size=1024, n_words=2000, total=50_000, out=str(tmp_path / "demo"))
    tok = tokenizers.Tokenizer.from_file(str(tmp_path / "demo" / "tokenizer.json"))
    assert tok.get_vocab_size() == res["vocab_size"] <= 1024
    assert read_card(tmp_path / "demo")["parameters"]["languages"] == ["en", "ru"]
    by = {r["language"]: r for r in res["languages"]}
    # Cyrillic needs two bytes a letter: more bytes per word, and more tokens per word from a small vocabulary
    assert by["ru"]["bytes_per_word"] > by["en"]["bytes_per_word"]
    assert 1 <= by["en"]["tokens_per_word"] < by["ru"]["tokens_per_word"]


def test_usage_errors_are_one_line_exit_2():
    """A bad flag or value through the real entry point: one line naming it, exit 2, no panel, no traceback."""
    import subprocess
    import sys

    for args, words in ((["count", "x.txt", "--workers", "-2"], "--workers"),
                        (["train", "bpe", "x.txt", "-o", "out", "--no-such-flag"], "--no-such-flag"),
                        (["premiums", "gpt2", "--corpus", "udhr", "--bootstrap", "many"], "--bootstrap")):
        p = subprocess.run([sys.executable, "-m", "tokkit", *args], capture_output=True, text=True)
        assert p.returncode == 2, p.stderr
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], p.stderr
        assert not p.stdout
