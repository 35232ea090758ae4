"""Bad input on the command line (issue 18, done-when): every kind of damaged, missing or mislabelled input,
bad number, bad output target and bad tokenizer name, on every verb that accepts it, ends in exit status 2,
exactly one line on stderr (no traceback, no bare `Aborted.`), no hang, and nothing written at --out or
anywhere else. The verbs run in this process through `tokkit.cli.main` (as the command does), each case
under a 60 s alarm. A failing case says which of TRACEBACK / HANG / SILENT (exit 0) / STATUS / LINES /
WRITTEN it is. A huge line (small version) is the one kind that must be accepted: every document verb
reads it and exits 0."""

from __future__ import annotations

import gzip
import os
import signal
from pathlib import Path

import pytest

TEXT = "".join(f"line {i} of a small corpus with some words in it\n" for i in range(400))


# ---- kinds of bad document input: name -> builder(tmp) -> path ----------------------------------------

def _write(p: Path, data) -> str:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(p)


def _zst(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor().compress(data)


DOC_KINDS = {
    "missing path": lambda t: str(t / "nope.txt"),
    "empty folder": lambda t: (t / "emptydir").mkdir() or str(t / "emptydir"),
    "empty file": lambda t: _write(t / "empty.txt", ""),
    "invalid utf-8": lambda t: _write(t / "bad.txt", b"caf\xe9 au lait\n" * 3),
    "binary file": lambda t: _write(t / "blob.txt", bytes(range(256)) * 8),
    "truncated gz": lambda t: _write(t / "a.txt.gz", gzip.compress(TEXT.encode() * 20)[:300]),
    "truncated zst": lambda t: _write(t / "a.txt.zst", _zst(TEXT.encode() * 20)[:300]),
    "lying gz suffix": lambda t: _write(t / "plain.txt.gz", TEXT),
    "lying zst suffix": lambda t: _write(t / "plain.txt.zst", TEXT),
    "malformed jsonl": lambda t: _write(t / "m.jsonl", '{"text": "fine"}\n{"text": \n'),
    "wrong jsonl field": lambda t: _write(t / "w.jsonl", '{"body": "a text"}\n'),
    "non-string jsonl text": lambda t: _write(t / "n.jsonl", '{"text": 5}\n'),
    "jsonl array line": lambda t: _write(t / "arr.jsonl", '[{"text": "a"}]\n'),
    "lone surrogate jsonl": lambda t: _write(t / "s.jsonl", '{"text": "bad \\ud800 here"}\n'),
    "bad parquet": lambda t: _write(t / "b.parquet", b"PAR1 this is not parquet PAR1"),
    "dangling link": lambda t: os.symlink(t / "gone.txt", t / "link.txt") or str(t / "link.txt"),
    "glob matching nothing": lambda t: str(t / "*.nomatch"),
}


def _good(t: Path) -> str:
    return _write(t / "corpus" / "c.txt", TEXT)


# verb -> argv(input, out); every verb that reads documents
DOC_VERBS = {
    "corpus stats": lambda p, o: ["corpus", "stats", p],
    "count": lambda p, o: ["count", p, "-o", o + ".tsv", "--workers", "1", "--retries", "0"],
    "train bpe": lambda p, o: ["train", "bpe", p, "-o", o, "-v", "300"],
    "train superword": lambda p, o: ["train", "superword", p, "-o", o, "-v", "300"],
    "train char": lambda p, o: ["train", "char", p, "-o", o, "-v", "300"],
    "train spm": lambda p, o: ["train", "spm", p, "-o", o, "-v", "400"],
    "extend": lambda p, o: ["extend", TINY[0], p, "--add", "5", "-o", o],
    "eval": lambda p, o: ["eval", "bytes", "-c", p],
    "compare": lambda p, o: ["compare", "bytes", "-s", p],
    "merge": lambda p, o: ["merge", TINY[0], p],
}
# a small byte-level BPE (trained once per session) stands in for gpt2 where any such tokenizer will do:
# loading gpt2 costs seconds per case
TINY: list[str] = ["gpt2"]

# reading options with bad values: every document verb has them
READ_FLAGS = {
    "--max-documents -1": ["--max-documents", "-1"],
    "--max-bytes -5": ["--max-bytes", "-5"],
    "--sample 1.5": ["--sample", "1.5"],
    "--sample nan": ["--sample", "nan"],
    "--eval-fraction 2": ["--eval-fraction", "2"],
    "--split bogus": ["--split", "bogus"],
    "--format docx": ["--format", "docx"],
    "--format jsonl on text": ["--format", "jsonl"],
}

# verb-specific bad arguments on a good corpus: (argv builder(good, out, tmp), name)
def _terms_bad(t):
    return _write(t / "terms.txt", b"caf\xe9\n")


def _json_list(t):
    return _write(t / "list.json", "[1, 2]")


def _ntrex(t, drop: int | None = None):
    d = t / "par" / "NTREX-128"
    d.mkdir(parents=True, exist_ok=True)
    (d / "newstest2019-src.eng.txt").write_text("".join(f"Line {i} here.\n" for i in range(30)))
    (d / "newstest2019-ref.deu.txt").write_text("".join(f"Zeile {i} hier.\n" for i in range(30) if i != drop))
    return str(t / "par")


ARG_CASES = {
    "train bpe -v 0": lambda g, o, t: ["train", "bpe", g, "-o", o, "-v", "0"],
    "train bpe -v abc": lambda g, o, t: ["train", "bpe", g, "-o", o, "-v", "abc"],
    "train bpe -v 100 (below the alphabet)": lambda g, o, t: ["train", "bpe", g, "-o", o, "-v", "100"],
    "train bpe --min-frequency -1": lambda g, o, t: ["train", "bpe", g, "-o", o, "--min-frequency", "-1"],
    "train bpe --threads -1": lambda g, o, t: ["train", "bpe", g, "-o", o, "--threads", "-1"],
    "train bpe --export-size above": lambda g, o, t: ["train", "bpe", g, "-o", o, "-v", "300", "--export-size",
                                                      "500"],
    "train bpe --export-size below base": lambda g, o, t: ["train", "bpe", g, "-o", o, "-v", "300",
                                                           "--export-size", "10"],
    "train bpe --max-words 0": lambda g, o, t: ["train", "bpe", g, "-o", o, "--max-words", "0"],
    "train bpe --resume json list": lambda g, o, t: ["train", "bpe", g, "-o", o, "--resume", _json_list(t)],
    "train bpe --resume missing": lambda g, o, t: ["train", "bpe", g, "-o", o, "--resume", str(t / "nope.json")],
    "train bpe --terms-file invalid utf-8": lambda g, o, t: ["train", "bpe", g, "-o", o, "--terms-file",
                                                             _terms_bad(t)],
    "train bpe --terms-file folder": lambda g, o, t: ["train", "bpe", g, "-o", o, "--terms-file", str(t)],
    "train bpe --counts missing": lambda g, o, t: ["train", "bpe", "-o", o, "--counts", str(t / "nope.tsv")],
    "train bpe --counts invalid": lambda g, o, t: ["train", "bpe", "-o", o, "--counts",
                                                   _write(t / "c.tsv", "word\tnot-a-number\n")],
    "train bpe --wordfreq xx": lambda g, o, t: ["train", "bpe", "-o", o, "--wordfreq", "qqq"],
    "train bpe --pre-tokenizer bogus": lambda g, o, t: ["train", "bpe", g, "-o", o, "--pre-tokenizer", "bogus"],
    "train bpe --normalizer bogus": lambda g, o, t: ["train", "bpe", g, "-o", o, "--normalizer", "bogus"],
    "train bpe --engine bogus": lambda g, o, t: ["train", "bpe", g, "-o", o, "--engine", "bogus"],
    "train bpe duplicate special": lambda g, o, t: ["train", "bpe", g, "-o", o, "--special-token", "<a>",
                                                    "--special-token", "<a>"],
    "train char -v 10": lambda g, o, t: ["train", "char", g, "-o", o, "-v", "10"],
    "train char --max-token-chars 0": lambda g, o, t: ["train", "char", g, "-o", o, "--max-token-chars", "0"],
    "train char --limit-alphabet -5": lambda g, o, t: ["train", "char", g, "-o", o, "--limit-alphabet", "-5"],
    "train spm --model-type bogus": lambda g, o, t: ["train", "spm", g, "-o", o, "--model-type", "bogus"],
    "train spm --character-coverage 2": lambda g, o, t: ["train", "spm", g, "-o", o, "--character-coverage", "2"],
    "train spm --input-sentence-size -1": lambda g, o, t: ["train", "spm", g, "-o", o, "--input-sentence-size",
                                                           "-1"],
    "train superword --max-token-words 0": lambda g, o, t: ["train", "superword", g, "-o", o,
                                                            "--max-token-words", "0"],
    "train superword --transition above": lambda g, o, t: ["train", "superword", g, "-o", o, "-v", "300",
                                                           "--transition", "5000"],
    "train parity missing corpus": lambda g, o, t: ["train", "parity", str(t / "nope"), "-o", o],
    "train parity misaligned": lambda g, o, t: ["train", "parity", _ntrex(t, drop=7), "-o", o, "-v", "300"],
    "train parity --dev-fraction 2": lambda g, o, t: ["train", "parity", _ntrex(t), "-o", o, "--dev-fraction", "2"],
    "train parity -l xx": lambda g, o, t: ["train", "parity", _ntrex(t), "-o", o, "-l", "xx", "-l", "eng"],
    "extend --add 0": lambda g, o, t: ["extend", TINY[0], g, "--add", "0", "-o", o],
    "extend --add -3": lambda g, o, t: ["extend", TINY[0], g, "--add", "-3", "-o", o],
    "extend unknown base": lambda g, o, t: ["extend", "no-such-tokenizer", g, "--add", "5", "-o", o],
    "extend sentencepiece base": lambda g, o, t: ["extend", "llama2", g, "--add", "5", "-o", o],
    "eval --alpha nan": lambda g, o, t: ["eval", "bytes", "-c", g, "--alpha", "nan"],
    "eval --alpha -1": lambda g, o, t: ["eval", "bytes", "-c", g, "--alpha", "-1"],
    "eval --noise-rate 2": lambda g, o, t: ["eval", "bytes", "-c", g, "--boundary-stability", "--noise-rate", "2"],
    "eval unknown tokenizer": lambda g, o, t: ["eval", "no-such-tokenizer", "-c", g],
    "eval name with ..": lambda g, o, t: ["eval", "gpt2/../llama2", "-c", g],
    "eval offline hub name": lambda g, o, t: ["eval", "someorg/some-model", "-c", g],
    "eval corrupt tokenizer.json": lambda g, o, t: ["eval", _write(t / "tok" / "tokenizer.json", "{not json"),
                                                    "-c", g],
    "eval tokenizer.json list": lambda g, o, t: ["eval", _write(t / "tok2" / "tokenizer.json", "[1]"), "-c", g],
    "eval empty .model": lambda g, o, t: ["eval", _write(t / "x.model", b""), "-c", g],
    "eval garbage .tiktoken": lambda g, o, t: ["eval", _write(t / "x.tiktoken", "not ranks\n"), "-c", g],
    "eval missing -c": lambda g, o, t: ["eval", "bytes", "-c", str(t / "nope.txt")],
    "compare unknown tokenizer": lambda g, o, t: ["compare", "bytes", "no-such-tokenizer", "-s", g],
    "compare --baseline absent": lambda g, o, t: ["compare", "bytes", "-s", g, "--baseline", "chars"],
    "merge --batch-size 0": lambda g, o, t: ["merge", TINY[0], g, "--batch-size", "0"],
    "merge --max-length 0": lambda g, o, t: ["merge", TINY[0], g, "--max-length", "0"],
    "merge --mode bogus": lambda g, o, t: ["merge", TINY[0], g, "--mode", "bogus"],
    "merge --target-ratio 2": lambda g, o, t: ["merge", TINY[0], g, "--target-ratio", "2"],
    "merge --min-count -1": lambda g, o, t: ["merge", TINY[0], g, "--min-count", "-1"],
    "merge unknown tokenizer": lambda g, o, t: ["merge", "no-such-tokenizer", g],
    "premiums --bootstrap -1": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t), "--bootstrap", "-1"],
    "premiums --ci 1.5": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t), "--ci", "1.5"],
    "premiums --count-mode bogus": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t), "--count-mode", "bogus"],
    "premiums --reference xx": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t), "-r", "xx"],
    "premiums -l xx": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t), "-l", "xx"],
    "premiums missing corpus": lambda g, o, t: ["premiums", "bytes", "-c", str(t / "nope")],
    "premiums misaligned": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t, drop=3)],
    "premiums --unk-threshold 2": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t), "--unk-threshold", "2"],
    "premiums --csv folder": lambda g, o, t: ["premiums", "bytes", "-c", _ntrex(t), "--csv", str(t)],
    "premiums unknown tokenizer": lambda g, o, t: ["premiums", "no-such-tokenizer", "-c", _ntrex(t)],
    "corpus stats misaligned": lambda g, o, t: ["corpus", "stats", _ntrex(t, drop=0)],
    "count --workers -2": lambda g, o, t: ["count", g, "-o", o + ".tsv", "--workers", "-2"],
    "count --workers 0": lambda g, o, t: ["count", g, "-o", o + ".tsv", "--workers", "0"],
    "count --parts-per-file 0": lambda g, o, t: ["count", g, "-o", o + ".tsv", "--parts-per-file", "0"],
    "count --retries -1": lambda g, o, t: ["count", g, "-o", o + ".tsv", "--retries", "-1"],
    "count --backend bogus": lambda g, o, t: ["count", g, "-o", o + ".tsv", "--backend", "bogus"],
    "count --dataset missing": lambda g, o, t: ["count", "--dataset", str(t / "nope"), "-o", o + ".tsv",
                                                "--workers", "1"],
    "count -o unknown format": lambda g, o, t: ["count", g, "-o", o + ".csv"],
    "count -o parquet.gz": lambda g, o, t: ["count", g, "-o", o + ".parquet.gz"],
    "count --pre-tokenizer bogus": lambda g, o, t: ["count", g, "-o", o + ".tsv", "--pre-tokenizer", "bogus"],
    "sweep --n-words 0": lambda g, o, t: ["sweep", "en", "--n-words", "0", "--store", o + ".sqlite"],
    "sweep one size": lambda g, o, t: ["sweep", "en", "--size", "600", "--store", o + ".sqlite"],
    "sweep size below alphabet": lambda g, o, t: ["sweep", "en", "--size", "10", "--size", "600", "--store",
                                                  o + ".sqlite"],
    "sweep --algorithm bogus": lambda g, o, t: ["sweep", "en", "--algorithm", "bogus", "--store", o + ".sqlite"],
    "sweep --workers -2": lambda g, o, t: ["sweep", "en", "--workers", "-2", "--store", o + ".sqlite"],
    "sweep --eval-corpus missing": lambda g, o, t: ["sweep", "en", "--eval-corpus", str(t / "nope"), "--store",
                                                    o + ".sqlite", "--size", "300", "--size", "400"],
    "sweep --data missing": lambda g, o, t: ["sweep", "en", "--data", str(t / "nope-{lang}.txt"), "--store",
                                             o + ".sqlite", "--size", "300", "--size", "400"],
    "sweep --total 0": lambda g, o, t: ["sweep", "en", "--total", "0", "--store", o + ".sqlite"],
    "sweep --store folder": lambda g, o, t: ["sweep", "en", "--store", str(t)],
    "sweep unknown language": lambda g, o, t: ["sweep", "qqq", "--store", o + ".sqlite", "--size", "300",
                                               "--size", "400"],
    "demo --n-words 0": lambda g, o, t: ["demo", "--n-words", "0", "-o", o],
    "demo -v 5": lambda g, o, t: ["demo", "-v", "5", "-o", o],
    "demo -l qqq": lambda g, o, t: ["demo", "-l", "qqq", "-o", o],
}

# bad --out targets, on every verb that writes one
OUT_VERBS = {
    "train bpe": lambda g, o: ["train", "bpe", g, "-o", o, "-v", "300"],
    "train superword": lambda g, o: ["train", "superword", g, "-o", o, "-v", "300"],
    "train char": lambda g, o: ["train", "char", g, "-o", o, "-v", "300"],
    "train spm": lambda g, o: ["train", "spm", g, "-o", o, "-v", "300"],
    "extend": lambda g, o: ["extend", TINY[0], g, "--add", "5", "-o", o],
    "count": lambda g, o: ["count", g, "-o", o, "--workers", "1"],
    "demo": lambda g, o: ["demo", "-o", o, "-l", "en"],
}


def _existing_file(t):
    return _write(t / "precious.txt", "keep me")


def _foreign_folder(t):
    (t / "mine").mkdir()
    (t / "mine" / "notes.md").write_text("keep me")
    return str(t / "mine")


OUT_KINDS = {
    "existing file": _existing_file,
    "empty string": lambda t: "",
    "dot": lambda t: ".",
    "root": lambda t: "/",
    "foreign folder": _foreign_folder,
    "inside the input": lambda t: str(t / "corpus" / "out"),  # the input is the folder (below)
    "dangling link": lambda t: os.symlink(t / "gone", t / "olink") or str(t / "olink"),
    "under a file": lambda t: os.path.join(_existing_file(t), "sub"),
}


def _cases():
    out = []
    for v in DOC_VERBS:
        for k in DOC_KINDS:
            out.append(pytest.param("doc", v, k, id=f"{v} | {k}"))
        for k in READ_FLAGS:
            out.append(pytest.param("flag", v, k, id=f"{v} | {k}"))
    for k in ARG_CASES:
        out.append(pytest.param("arg", k.split(" -")[0], k, id=k))
    for v in OUT_VERBS:
        for k in OUT_KINDS:
            out.append(pytest.param("out", v, k, id=f"{v} | -o {k}"))
    return out


class _Hang(Exception):
    pass


def run_main(argv: list[str], capsys, seconds: int = 60) -> tuple[str, int | None, str, str]:
    """(outcome, exit status, stdout, stderr) of `tokkit argv` run in this process; outcome is 'exit',
    'traceback' (an exception escaped main) or 'hang'."""
    from tokkit.cli import main

    def alarm(*_):
        raise _Hang()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    outcome, code = "exit", None
    try:
        main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except _Hang:
        outcome = "hang"
    except BaseException as e:  # noqa: BLE001 - what escaped main would be a traceback on the terminal
        outcome = f"traceback: {type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    o, err = capsys.readouterr()
    return outcome, code, o, err


def _snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    import tokkit

    out = tmp_path_factory.mktemp("tiny") / "bpe"
    tokkit.train_bpe([TEXT], out=str(out), vocab_size=400, min_frequency=1, allow_smaller=True,
                     special_tokens=[])
    TINY[0] = str(out)
    return str(out)


@pytest.fixture
def env(tmp_path, monkeypatch, tokenizers_dir, tiny):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "200")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # '.' and relative outputs would land here
    return tmp_path


@pytest.mark.parametrize("group,verb,kind", _cases())
def test_bad_input_is_one_line_exit_2_and_nothing_written(group, verb, kind, env, capsys):
    t = env
    good = _good(t)
    out = str(t / "out")
    if group == "doc":
        argv = DOC_VERBS[verb](DOC_KINDS[kind](t), out)
    elif group == "flag":
        argv = DOC_VERBS[verb](good, out) + READ_FLAGS[kind]
    elif group == "arg":
        argv = ARG_CASES[kind](good, out, t)
    else:
        if kind == "existing file" and verb == "count":
            pytest.skip("a counts table at -o is a file, replaced as any output file is")
        if kind == "inside the input" and verb == "demo":
            pytest.skip("demo reads no input")
        argv = OUT_VERBS[verb](str(t / "corpus") if kind == "inside the input" else good, OUT_KINDS[kind](t))
    before = _snapshot(t)
    outcome, code, _, err = run_main(argv + ["--quiet"], capsys)
    assert outcome != "hang", f"HANG: {argv}"
    assert outcome == "exit", f"TRACEBACK: {outcome} ({argv})"
    assert code != 0, f"SILENT: exit 0 on bad input ({argv})"
    assert code == 2, f"STATUS {code}: {err.strip()[-300:]}"
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), f"LINES {len(lines)}: {err[-500:]}"
    assert "Traceback" not in err and "Aborted" not in err
    assert _snapshot(t) == before, "WRITTEN: files appeared or vanished"


@pytest.mark.slow
@pytest.mark.parametrize("verb", sorted(DOC_VERBS))
def test_a_huge_line_is_accepted(verb, env, capsys):
    """The small version of the 100 MB line (benchmarks/huge_document.py measures the memory): one
    2-million-character line with no newline is read and used by every document verb."""
    t = env
    words = ("the quick brown fox jumps over a lazy dog while judges weigh every clause of the contract "
             "and lawyers draft amendments, exhibits; schedules: (i) warranties (ii) indemnities").split()
    syl = "zor qua vex plim dro kest ful an ti".split()  # made-up words too: pairs left for extend to learn
    line = " ".join(words[i % len(words)] if i % 3 else syl[i % 9] + syl[(i * 7) % 9] + syl[(i // 9) % 9]
                    for i in range(2_000_000 // 7))
    p = _write(t / "huge.txt", line)
    argv = [a if a != "400" else "330" for a in DOC_VERBS[verb](p, str(t / "out"))]  # spm: what the text holds
    outcome, code, _, err = run_main(argv + ["--quiet"], capsys, seconds=300)
    assert outcome == "exit" and code == 0, (outcome, code, err[-500:])


def test_the_suite_covers_the_issue_kinds():
    kinds = set(DOC_KINDS) | set(READ_FLAGS) | set(OUT_KINDS) | {"unknown tokenizer", "offline hub name",
                                                                 "huge line"}
    assert len(kinds) >= 26
    assert len(_cases()) >= 300
