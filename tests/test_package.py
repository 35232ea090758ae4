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
