"""Vocabulary sweeps: power-law fits, the SQLite store, resume after kill -9, a real HF BPE cell, the CLI."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _analysis_helpers import mini_udhr
from typer.testing import CliRunner

from tokkit.analysis.store import ResultsStore, cell_key
from tokkit.analysis.sweeps import fit_power_law, load_sweep, solve_size, sweep
from tokkit.corpora.udhr import map_languages, udhr_code_for
from tokkit.errors import InputError

ROOT = Path(__file__).resolve().parents[1]

TEXTS = {
    "eng": {"0": "all human beings are born free and equal in dignity and rights",
            "1": "everyone has the right to life liberty and security of person",
            "2": "no one shall be held in slavery or servitude"},
    "deu": {"0": "alle menschen sind frei und gleich an würde und rechten geboren",
            "1": "jeder hat das recht auf leben freiheit und sicherheit der person",
            "2": "niemand darf in sklaverei oder leibeigenschaft gehalten werden"},
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    root = mini_udhr(d / "udhr", TEXTS)
    for code, units in TEXTS.items():
        words: dict[str, int] = {}
        for k, text in enumerate(units.values()):
            for w in text.split():
                words[w] = words.get(w, 0) + 5 + k
        (d / f"{code}.tsv").write_text("".join(f"{w}\t{c}\n" for w, c in words.items()), encoding="utf-8")
    return d, root


def test_fit_power_law_exact():
    sizes = [1024, 2048, 4096, 8192]
    a, b, r2 = fit_power_law(sizes, [5e4 * v ** -0.3 for v in sizes])
    assert a == pytest.approx(5e4) and b == pytest.approx(-0.3) and r2 == pytest.approx(1.0)
    assert solve_size(a, b, 5e4 * 3000 ** -0.3) == pytest.approx(3000)
    assert math.isinf(solve_size(100.0, 0.0, 50.0))
    with pytest.raises(InputError):
        fit_power_law([1024, 1024], [1, 2])


def test_store_idempotent_and_corrupt(tmp_path):
    path = tmp_path / "s.sqlite"
    with ResultsStore(path) as st:
        p = dict(language="en", vocab_size=1024)
        k = st.put(p, {"ctc": 1})
        assert k == cell_key(dict(vocab_size=1024, language="en"))   # key ignores the order of parameters
        st.put(p, {"ctc": 2})                                        # a key already stored stays as it is
        assert st.get(p) == {"ctc": 1} and len(st) == 1 and p in st
    with ResultsStore(path) as st:                                   # persisted
        assert st.get(p) == {"ctc": 1}
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(InputError, match="not a tokkit results store"):
        ResultsStore(bad)


def test_udhr_code_mapping(data_dir):
    index = json.loads((data_dir / "udhr" / "index.json").read_text())
    assert udhr_code_for("fr", index) == "fra"
    assert udhr_code_for("de", index) == "deu_1996"
    assert udhr_code_for("zh", index) == "cmn_hans"
    assert udhr_code_for("xx", index) is None
    assert map_languages(["en", "ja=jpn"], "udhr") == {"en": "eng", "ja": "jpn"}


HELPER = textwrap.dedent('''
    import sys, time
    from tokkit.analysis.sweeps import register_algorithm, sweep
    from tokkit.tokenizer.builtin import CharsTokenizer

    log, store, data, corpus = sys.argv[1:5]

    class Chunks(CharsTokenizer):
        def __init__(self, n):
            self.n = n
        def count_batch(self, texts):
            return [-(-len(t) // self.n) for t in texts]

    def slow(counts, vocab_size, seed):
        with open(log, "a") as fh:
            fh.write(f"start {counts.source}|{vocab_size}\\n")
        time.sleep(0.25)
        return Chunks(vocab_size.bit_length() - 8)

    register_algorithm("slow", slow)
    sweep(["eng", "deu"], [512, 1024, 2048, 4096], algorithm="slow", data=data, eval_corpus=corpus,
          store=store, quiet=True)
''')


@pytest.mark.slow
def test_sweep_resumes_after_kill_9(corpus, tmp_path):
    d, root = corpus
    script = tmp_path / "run_sweep.py"
    script.write_text(HELPER)
    log, store = tmp_path / "log.txt", tmp_path / "store.sqlite"
    args = [sys.executable, str(script), str(log), str(store), str(d / "{lang}.tsv"), str(root)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 600  # a hang guard, not a speed limit
        n = 0
        while time.time() < deadline and proc.poll() is None:
            if store.exists():
                try:
                    with sqlite3.connect(store) as db:
                        n = db.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
                except sqlite3.DatabaseError:
                    n = 0
                if n >= 3:
                    break
            time.sleep(0.02)
        assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.communicate()}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # the workers die by the signal the driver's death sends them; a write they had begun may still land
        time.sleep(0.5)
    finally:
        if proc.poll() is None:
            proc.kill()
    with ResultsStore(store) as st:
        before = {r["key"]: r for r in st.rows()}
    assert 3 <= len(before) < 8
    started_first = log.read_text().splitlines()
    log.write_text("")
    subprocess.run(args, env=env, check=True, timeout=120)
    started_second = log.read_text().splitlines()
    with ResultsStore(store) as st:
        after = {r["key"]: r for r in st.rows()}
    assert len(after) == 8                                       # nothing lost
    for k, r in before.items():                                  # finished cells untouched
        assert after[k] == r
    done_before = {f"{r['params']['data'].replace('{lang}', r['params']['language'])}|{r['params']['vocab_size']}"
                   for r in before.values()}
    recomputed = {line.split(" ", 1)[1] for line in started_second}
    assert not recomputed & done_before                          # no finished cell computed again
    assert len(started_second) == 8 - len(before)
    # lost work is bounded by the 2-worker pool: per worker, one cell running and one result in transit
    assert len(before) <= len(started_first) <= len(before) + 4
    res = load_sweep(store, reference="eng")
    assert {f["language"] for f in res.fits} == {"eng", "deu"}


def test_real_hf_bpe_sweep_and_cli(corpus, tmp_path):
    d, root = corpus
    store = tmp_path / "real.sqlite"
    res = sweep(["eng", "deu"], [280, 320], data=str(d / "{lang}.tsv"), eval_corpus=str(root), store=store)
    assert res.computed == 4
    ctc = {(c["language"], c["vocab_size"]): c for c in res.cells}
    for lang in ("eng", "deu"):
        assert ctc[(lang, 320)]["ctc"] < ctc[(lang, 280)]["ctc"]           # more merges, fewer tokens
        assert ctc[(lang, 280)]["trained_vocab_size"] <= 280
    eng = next(f for f in res.fits if f["language"] == "eng")
    assert eng["optimal_size"] == pytest.approx(320)                        # the reference reaches itself
    assert all(c["premium"] == 1.0 for c in res.cells if c["language"] == "eng")
    again = sweep(["eng", "deu"], [280, 320], data=str(d / "{lang}.tsv"), eval_corpus=str(root), store=store)
    assert again.computed == 0 and again.cells == res.cells

    from tokkit.cli import app

    plot = tmp_path / "sweep.png"
    r = CliRunner().invoke(app, ["sweep", "eng", "deu", "--size", "280", "--size", "320",
                                 "--data", str(d / "{lang}.tsv"), "--eval-corpus", str(root), "--store", str(store),
                                 "--plot", str(plot), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["computed"] == 0 and len(out["fits"]) == 2
    assert plot.read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(app, ["sweep", "eng", "--sizes", "280,x", "--store", str(store)])
    assert r.exit_code == 2 and "--sizes" in r.output
    r = CliRunner().invoke(app, ["sweep", "eng", "deu", "--sizes", "280,320", "--algorithm", "nope",
                                 "--store", str(store), "--eval-corpus", str(root)])
    assert r.exit_code == 2 and "unknown algorithm" in r.output


def test_hf_bpe_split_keeps_vowel_signs_in_words():
    # GPT-2's ` ?\p{L}+` would cut "सभी" before the vowel sign ी; the sweep's split must not
    from tokkit.corpora import WordCounts
    from tokkit.train.registry import train_hf_bpe

    tok = train_hf_bpe(WordCounts({"सभी": 50, "मनुष्यों": 40, "abc": 30}), 300)
    pieces = tok.engine.pre_tokenizer.pre_tokenize_str("सभी मनुष्यों abc")
    assert len(pieces) == 3
    assert len(tok.encode(" सभी")) == 1 and len(tok.encode(" मनुष्यों")) == 1


def test_hf_bpe_spaceless_words_merge_inside_running_text():
    # Chinese words are written without spaces: trained as " 人人" they would never match "人人自由"
    from tokkit.corpora import WordCounts
    from tokkit.train.registry import train_hf_bpe

    tok = train_hf_bpe(WordCounts({"人人": 50, "自由": 40, "的": 30}), 300)
    ids = tok.encode("人人自由")
    assert len(ids) == 2, [tok.id_to_token(i) for i in ids]
    assert tok.decode(ids) == "人人自由"


def test_text_file_data_and_sentencepiece(corpus, tmp_path):
    # training data from text files ({lang} in the path), and the SentencePiece algorithm
    d, root = corpus
    for code, units in TEXTS.items():
        (tmp_path / f"{code}.txt").write_text("\n".join(list(units.values()) * 20), encoding="utf-8")
    res = sweep(["eng", "deu"], [300, 400], algorithm="spm-bpe", data=str(tmp_path / "{lang}.txt"),
                eval_corpus=str(root), store=tmp_path / "spm.sqlite")
    ctc = {(c["language"], c["vocab_size"]): c["ctc"] for c in res.cells}
    assert all(v > 0 for v in ctc.values())
    assert ctc[("eng", 400)] <= ctc[("eng", 300)]
    from tokkit.analysis.sweeps import training_counts

    counts = training_counts(str(tmp_path / "{lang}.txt"), "eng", 0, 0)
    assert counts["the"] == 20 and counts["and"] == 60 and counts["dignity"] == 20


def test_changed_training_file_makes_new_cells(corpus, tmp_path):
    d, root = corpus
    import shutil

    for code in TEXTS:
        shutil.copy(d / f"{code}.tsv", tmp_path / f"{code}.tsv")
    kw = dict(data=str(tmp_path / "{lang}.tsv"), eval_corpus=str(root), store=tmp_path / "v.sqlite")
    assert sweep(["eng", "deu"], [280, 300], **kw).computed == 4
    assert sweep(["eng", "deu"], [280, 300], **kw).computed == 0
    with open(tmp_path / "eng.tsv", "a", encoding="utf-8") as fh:
        fh.write("liberty\t99\n")
    assert sweep(["eng", "deu"], [280, 300], **kw).computed == 2       # only English's cells are stale
