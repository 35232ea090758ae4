"""Peak memory of every verb that reads documents, on one huge document: a single line of --size-mb MB
(default 100) with no newline, in a temporary folder: real text (the domain corpora of $TOKKIT_DATA,
whitespace runs made single spaces; made-up words where the data is missing).

    PYTHONPATH=. python benchmarks/huge_document.py [--size-mb 100] [--only eval merge] [--timeout 1800]

Each verb runs as its own `python -m tokkit ...` subprocess; its peak RSS is the one os.wait4 reports for
that child (Linux: the largest of the child and the processes it waited for). Parallel verbs (premiums,
train parity, merge per language) get an NTREX-layout folder whose English and German files end in one
such line each (NTREX's sentences cycled).
Prints: verb | peak MB | seconds | ok (exit 0, and under 1 GB).
"""

from __future__ import annotations

import argparse
import glob
import gzip
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from typing import Iterator

WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at which "
         "tokenizer Gesetz Gericht Straße über всех людей права 人人 生而 自由 كل الناس 123 4567 3.14 don't "
         "it's , . ; : ! ? ( ) – — naïve café").split()
SYLLABLES = "ka to ri en sch über ан ов ти 生 自 ال نا ba de lo mi st qu ing ed ly tion".split()


def _words(rng: random.Random, n: int) -> list[str]:
    # common words, and made-up words of 1-4 syllables: enough distinct pairs for a few thousand merges
    return [rng.choice(WORDS) if rng.random() < 0.5 else "".join(rng.choices(SYLLABLES, k=rng.randint(1, 4)))
            for _ in range(n)]


def _domain_texts() -> Iterator[str]:
    """Real text, cycled: the domain corpora under $TOKKIT_DATA (legal, financial, government documents)."""
    root = os.environ.get("TOKKIT_DATA", "")
    files = sorted(glob.glob(os.path.join(root, "domain", "*", "*.jsonl.gz")))
    while files:
        for f in files:
            with gzip.open(f, "rt", encoding="utf-8") as fh:
                for line in fh:
                    yield json.loads(line).get("text") or ""


def _synthetic_texts(seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    while True:
        yield " ".join(_words(rng, (1 << 20) // 6))


def write_line(path: str, size: int, seed: int, mode: str = "w", source: Iterator[str] | None = None) -> None:
    """About `size` bytes of text as one line: whitespace runs become single spaces, no newline."""
    source = source or _synthetic_texts(seed)
    written = 0
    with open(path, mode, encoding="utf-8") as fh:
        for text in source:
            piece = " ".join(text.split())
            if not piece:
                continue
            piece = piece[: max(1, size - written)] + " "
            fh.write(piece)
            written += len(piece.encode("utf-8"))
            if written >= size:
                break
        fh.write("end")  # no newline: one line, one document


def write_parallel(folder: str, size: int) -> None:
    """An NTREX-layout folder: 40 aligned lines, then one huge line, in English and German; the huge lines
    are NTREX's own English and German sentences (from $TOKKIT_DATA, else made-up words) cycled to size."""
    os.makedirs(folder)
    src = os.path.join(os.environ.get("TOKKIT_DATA", ""), "ntrex", "NTREX-128")
    for code, seed in (("eng", 0), ("deu", 1)):
        name = f"newstest2019-{'src' if code == 'eng' else 'ref'}.{code}.txt"
        path = os.path.join(folder, name)
        real = os.path.join(src, name)
        lines = open(real, encoding="utf-8").read().splitlines() if os.path.exists(real) else None
        rng = random.Random(seed + 10)
        with open(path, "w", encoding="utf-8") as fh:
            fh.writelines((lines[i] if lines else " ".join(_words(rng, 12))) + "\n" for i in range(40))
        write_line(path, size, seed, mode="a", source=itertools.cycle(lines) if lines else None)


def verbs(t: str) -> list[tuple[str, list[str]]]:
    huge, par = os.path.join(t, "huge.txt"), os.path.join(t, "par")
    o = lambda name: ["-o", os.path.join(t, "out", name)]  # noqa: E731
    return [
        ("corpus stats", ["corpus", "stats", huge]),
        ("count", ["count", huge, *o("c.tsv"), "--workers", "1"]),
        ("train bpe", ["train", "bpe", huge, *o("bpe"), "-v", "1000", "--allow-smaller"]),
        ("train bpe --per-line", ["train", "bpe", huge, *o("bpe-pl"), "-v", "1000", "--per-line", "--allow-smaller"]),
        ("train bpe --engine hf",
         ["train", "bpe", huge, *o("bpe-hf"), "-v", "1000", "--engine", "hf", "--allow-smaller"]),
        ("train superword", ["train", "superword", huge, *o("sw"), "-v", "1000", "--allow-smaller"]),
        ("train char", ["train", "char", huge, *o("char"), "-v", "500"]),
        ("train spm", ["train", "spm", huge, *o("spm"), "-v", "1000"]),
        ("train spm --input-sentence-size 5000", ["train", "spm", huge, *o("spm-s"), "-v", "1000",
                                                  "--input-sentence-size", "5000"]),
        ("train parity", ["train", "parity", par, *o("parity"), "-v", "1000", "--allow-smaller"]),
        ("extend", ["extend", "gpt2", huge, "--add", "100", *o("ext")]),
        ("eval", ["eval", "gpt2", "-c", huge]),
        ("eval (spm)", ["eval", "llama2", "-c", huge]),
        ("compare", ["compare", "gpt2", "bytes", "-s", huge]),
        ("premiums", ["premiums", "gpt2", "-c", par, "--bootstrap", "10"]),
        ("premiums --count-mode joined", ["premiums", "gpt2", "-c", par, "--bootstrap", "10", "--count-mode",
                                          "joined"]),
        ("merge", ["merge", "gpt2", huge]),
        ("merge (parallel)", ["merge", "gpt2", par]),
        ("sweep", ["sweep", "en=eng", "--data", os.path.join(t, "{lang}.txt"), "--size", "600", "--size", "800",
                   "--eval-corpus", par, "--store", os.path.join(t, "out", "sweep.sqlite"), "--workers", "1"]),
    ]


def run(argv: list[str], timeout: float) -> tuple[float, float, int, str]:
    """(peak MB, seconds, exit status, last stderr line) of `python -m tokkit argv`."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([sys.executable, "-m", "tokkit", *argv, "--quiet"], stdout=subprocess.DEVNULL,
                             stderr=err)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return ru.ru_maxrss / 1024, time.perf_counter() - t0, p.returncode, (lines[-1] if lines else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=100)
    ap.add_argument("--only", nargs="*", help="verbs to run (names as printed, e.g. 'eval' 'train bpe')")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per verb")
    ap.add_argument("--limit-mb", type=float, default=1024, help="peak RSS a verb must stay under")
    args = ap.parse_args()
    size = int(args.size_mb * 1e6)
    with tempfile.TemporaryDirectory(prefix="tokkit-huge-") as t:
        os.makedirs(os.path.join(t, "out"))
        domain = _domain_texts()
        write_line(os.path.join(t, "huge.txt"), size, 0, source=domain if next(domain, None) is not None else None)
        os.symlink(os.path.join(t, "huge.txt"), os.path.join(t, "en.txt"))
        write_parallel(os.path.join(t, "par", "NTREX-128"), size)
        print(f"one line of {size / 1e6:.0f} MB; limit {args.limit_mb:.0f} MB")
        print(f"{'verb':30} | {'peak MB':>8} | {'seconds':>8} | ok")
        print("-" * 62)
        bad = 0
        for name, argv in verbs(t):
            if args.only and name not in args.only:
                continue
            peak, secs, rc, last = run(argv, args.timeout)
            ok = rc == 0 and peak < args.limit_mb
            bad += not ok
            note = "" if rc == 0 else f"  (exit {rc}: {last[:80]})"
            print(f"{name:30} | {peak:8.0f} | {secs:8.1f} | {'yes' if ok else 'NO'}{note}", flush=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
