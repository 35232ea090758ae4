"""Artifacts are atomic: a training killed at any moment leaves the previous complete artifact or none."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import sys
from _synthetic import synthetic_corpus
from tokkit.train import train_bpe, train_char
recipe, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = synthetic_corpus(n, n_words=20000, max_units=4, words_per_doc=300)
if recipe == "bpe":
    train_bpe(docs, out, vocab_size=4000, min_frequency=1)
else:
    train_char(docs, out, vocab_size=1000, min_frequency=1)
"""


def _run(recipe, out, n, **extra_env):
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path, **extra_env)
    return subprocess.Popen([sys.executable, "-c", SCRIPT, recipe, str(out), str(n)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _complete(out: Path) -> dict:
    card = json.loads((out / "tokkit.json").read_text())
    for f in card["files"]:
        assert (out / f).is_file()
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert tok.get_vocab_size() == card["parameters"]["vocab_size"]
    return card


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["bpe"])
def test_killed_training_leaves_no_partial_artifact(tmp_path, recipe):
    out = tmp_path / "tok"
    # a complete run first: how long it takes, and the artifact a killed run must leave alone
    t0 = time.perf_counter()
    p = _run(recipe, out, 600)
    assert p.wait(timeout=120) == 0, p.stderr.read().decode()
    full = time.perf_counter() - t0
    before = _complete(out)
    before_bytes = (out / "tokenizer.json").read_bytes()

    for frac in (0.15, 0.4, 0.7, 0.85, 0.95, 1.0):
        p = _run(recipe, out, 601)  # a different corpus: a finished run would change the artifact
        time.sleep(full * frac)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        card = _complete(out)  # always a complete artifact: the old one, or (if the run had finished) the new
        if (out / "tokenizer.json").read_bytes() == before_bytes:
            assert card["corpus"] == before["corpus"]
        else:
            assert card["corpus"]["documents"] == 601
    # nothing else was left in place of the artifact, and a next run removes what the killed ones left
    assert sorted(os.listdir(out)) == ["tokenizer.json", "tokenizer_config.json", "tokkit.json"]
    p = _run(recipe, out, 600)
    assert p.wait(timeout=120) == 0, p.stderr.read().decode()
    assert (out / "tokenizer.json").read_bytes() == before_bytes
    assert os.listdir(tmp_path) == ["tok"]


@pytest.mark.slow
def test_killed_first_training_leaves_nothing(tmp_path):
    out = tmp_path / "fresh"
    p = _run("char", out, 100000)
    time.sleep(1.5)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert not out.exists()


def test_retraining_replaces_the_folder_whole(tmp_path):
    """A later run's artifact holds only what that run wrote: an earlier run's tokenizer-500.json or
    another recipe's files are gone, so the folder serves what its card says."""
    from tokkit.train.artifacts import Card, read_card, write_artifacts

    out = tmp_path / "tok"
    write_artifacts(out, Card("bpe", {}), {"tokenizer.json": lambda p: open(p, "w").write("bpe"),
                                           "tokenizer-500.json": lambda p: open(p, "w").write("bpe500")})
    write_artifacts(out, Card("spm", {}), {"spm.model": lambda p: open(p, "w").write("spm")})
    assert sorted(os.listdir(out)) == ["spm.model", "tokkit.json"]
    assert read_card(out)["recipe"] == "spm"
    assert sorted(os.listdir(tmp_path)) == ["tok"]


def test_folder_that_is_not_an_artifact_is_refused(tmp_path):
    from tokkit.errors import InputError
    from tokkit.train import train_bpe

    out = tmp_path / "tok"
    out.mkdir()
    (out / "README.md").write_text("mine")
    with pytest.raises(InputError, match="without a tokkit card"):
        train_bpe(["some text here and there"] * 50, out, vocab_size=280, min_frequency=1)
    assert os.listdir(out) == ["README.md"]
    assert sorted(os.listdir(tmp_path)) == ["tok"]


def test_write_artifacts_force_replaces_a_foreign_folder(tmp_path):
    from tokkit.train.artifacts import Card, read_card, write_artifacts

    out = tmp_path / "tok"
    out.mkdir()
    (out / "README.md").write_text("mine")
    write_artifacts(out, Card("test", {}), {"a.txt": lambda p: open(p, "w").write("a")}, force=True)
    assert sorted(os.listdir(out)) == ["a.txt", "tokkit.json"]
    assert read_card(out)["files"] == ["a.txt"]


@pytest.mark.parametrize("point, exchange", [("dir-written", "1"), ("dir-swapped", "1"),
                                             ("dir-written", "0"), ("fallback-between-renames", "0")])
@pytest.mark.slow
def test_training_killed_inside_the_swap(tmp_path, point, exchange):
    """kill -9 at each step of the folder swap of a real training (exchange rename, and the two-rename
    fallback between its renames): the old or the new complete artifact, and nothing stray after the next
    run."""
    from tokkit._atomic import recover

    out = tmp_path / "tok"
    p = _run("bpe", out, 40)
    assert p.wait(timeout=300) == 0, p.stderr.read().decode()
    old = (out / "tokenizer.json").read_bytes()
    p = _run("bpe", out, 41, TOKKIT_ATOMIC_FAULT=point, TOKKIT_ATOMIC_EXCHANGE=exchange)
    assert p.wait(timeout=300) == -9
    if point == "fallback-between-renames":
        assert not out.exists()  # the gap the fallback has; the next run (or recover) closes it
        recover(out)
    card = _complete(out)
    assert card["corpus"]["documents"] == (41 if point == "dir-swapped" else 40)
    assert ((out / "tokenizer.json").read_bytes() == old) == (point != "dir-swapped")
    p = _run("bpe", out, 42)
    assert p.wait(timeout=300) == 0, p.stderr.read().decode()
    assert _complete(out)["corpus"]["documents"] == 42
    assert os.listdir(tmp_path) == ["tok"]


@pytest.mark.parametrize("recipe", ["bpe", "char", "superword", "spm"])
def test_every_recipe_returns_a_tokkit_tokenizer_with_its_card(recipe, tmp_path):
    """One result type: each trainer returns the `load_tokenizer` interface, carrying the card it wrote,
    and what it saves loads back to the same ids."""
    import tokkit
    from tokkit.tokenizer import Tokenizer as TokkitTokenizer

    texts = [f"the {w} sat on the mat number {i} and the dog ran" for i, w in enumerate(["cat", "rat", "bat"] * 60)]
    size = {"bpe": 400, "char": 360, "superword": 420, "spm": 300}[recipe]
    kw = {"superword": dict(transition=380)}.get(recipe, {})
    tok = tokkit.train(texts, recipe=recipe, vocab_size=size, min_frequency=1, **kw) if recipe != "spm" else \
        tokkit.train(texts, recipe=recipe, vocab_size=size, **kw)
    assert isinstance(tok, TokkitTokenizer)
    assert tok.card["recipe"] == recipe and tok.card["parameters"]["vocab_size"] == size
    assert tok.vocab_size == size
    text = "the cat sat on the mat"
    ids = tok.encode(text)
    assert tok.decode(ids).strip() == text and tok.count(text) == len(ids)
    out = tok.save(tmp_path / "art")
    assert json.loads((Path(out) / "tokkit.json").read_text())["recipe"] == recipe
    assert tokkit.load_tokenizer(out).encode(text) == ids


def test_train_parity_recipe_takes_a_parallel_corpus(tmp_path):
    import tokkit
    from tokkit.corpora import ParallelCorpus

    ids = [str(i) for i in range(12)]
    units = {"eng": {i: f"all people are born free and equal {i}" for i in ids},
             "deu": {i: f"alle Menschen sind frei und gleich geboren {i}" for i in ids}}
    tok = tokkit.train(ParallelCorpus("mini", {}, units, ids), recipe="parity", vocab_size=300, dev_fraction=0.25,
                       out=tmp_path / "p")
    assert tok.vocab_size == 300 and tok.card["recipe"] == "parity"
    assert set(tok.card["vocabulary"]["merges_per_language"]) == {"eng", "deu"}
    assert (tmp_path / "p" / "tokenizer.json").is_file()
