"""`tokkit train <recipe>`: thin commands over the recipes, with --json, --quiet and clean errors."""

import json

import pytest
from _synthetic import synthetic_corpus
from typer.testing import CliRunner

from tokkit.cli import app
from tokkit.train.artifacts import read_card


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "corpus.jsonl"
    with open(path, "w") as fh:
        for i, text in enumerate(synthetic_corpus(150, seed=5, n_words=2000, suffix="")):
            fh.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
    return path


@pytest.mark.parametrize("recipe,args,size", [
    ("char", ["-v", "300", "--max-token-chars", "4"], 300),
    ("superword", ["-v", "700", "--transition", "500"], 700),
    ("spm", ["-v", "500", "--model-type", "bpe"], 500),
    ("spm", ["-v", "500"], 500),
])
def test_recipes(corpus_file, tmp_path, recipe, args, size):
    out = tmp_path / "tok"
    r = CliRunner().invoke(app, ["train", recipe, str(corpus_file), "-o", str(out), "--split", "train", "--json",
                                 *args])
    assert r.exit_code == 0, r.output
    card = json.loads(r.stdout)
    assert card["recipe"] == recipe and card["parameters"]["vocab_size"] == size
    assert card == {**read_card(out), "out": str(out)}
    # the train side of the split only
    assert 100 < card["corpus"]["documents"] < 150


def test_quiet_prints_nothing_and_errors_are_one_line(corpus_file, tmp_path):
    r = CliRunner().invoke(app, ["train", "char", str(corpus_file), "-o", str(tmp_path / "a"), "-v", "300",
                                 "--max-token-chars", "4", "-q"])
    assert r.exit_code == 0 and r.stdout == ""
    r = CliRunner().invoke(app, ["train", "spm", str(corpus_file), "-o", str(tmp_path / "b"), "-v", "100"])
    assert r.exit_code == 2 and "must exceed" in r.output and not (tmp_path / "b").exists()
    r = CliRunner().invoke(app, ["train", "char", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "c")])
    assert r.exit_code == 2 and "missing.txt" in r.output


def test_train_api_native_recipe(tmp_path):
    """tokkit.train(recipe="native") reads a corpus like the other recipes and writes the same artifacts."""
    import tokenizers

    import tokkit

    f = tmp_path / "c.txt"
    f.write_text("the cat sat on the mat\n" * 20 + "a dog and a cat\n", encoding="utf-8")
    tokkit.train(str(f), recipe="native", vocab_size=270, out=tmp_path / "tok", quiet=True)
    tok = tokenizers.Tokenizer.from_file(str(tmp_path / "tok" / "tokenizer.json"))
    assert tok.get_vocab_size() == 270
    assert tok.decode(tok.encode("the cat").ids) == "the cat"
    counts = tokkit.WordCounts({" cat": 30, " the": 40, "mat": 5})
    small = tokkit.train(counts, recipe="native", vocab_size=262)
    assert small is not None


def test_train_bpe_on_the_native_engine_matches_the_api(corpus_file, tmp_path):
    """`train bpe --engine native` is the recipe's API on the same documents, with the recipe's defaults."""
    import tokenizers

    from tokkit.corpora import read_documents
    from tokkit.train import train_bpe

    out = tmp_path / "n"
    r = CliRunner().invoke(app, ["train", "bpe", str(corpus_file), "-o", str(out), "-v", "400", "--engine",
                                 "native", "--split", "train", "--export-size", "350", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["vocabulary"]["size_with_special_tokens"] == 400
    api = train_bpe(read_documents(corpus_file, split="train"), vocab_size=400, engine="native")
    api.save(tmp_path / "api")
    model = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))["model"]
    assert model == json.loads((tmp_path / "api" / "tokenizer.json").read_text(encoding="utf-8"))["model"]
    assert tokenizers.Tokenizer.from_file(str(out / "tokenizer-350.json")).get_vocab_size() == 350


def test_train_bpe_from_counts_and_engine_errors(tmp_path):
    counts = tmp_path / "counts.tsv"
    counts.write_text("".join(f"{w}\t{c}\n" for w, c in [(" the", 50), (" cat", 30), (" sat", 20), (" mat", 9)]))
    r = CliRunner().invoke(app, ["train", "bpe", "--counts", str(counts), "-o", str(tmp_path / "c"), "-v", "262",
                                 "--special-token", "", "--min-frequency", "0", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["vocabulary"]["size_with_special_tokens"] == 262
    # options of one engine on the other: one line, exit 2, nothing written
    r = CliRunner().invoke(app, ["train", "bpe", "--counts", str(counts), "-o", str(tmp_path / "d"), "--engine", "hf"])
    assert r.exit_code == 2 and "engine" in r.output and not (tmp_path / "d").exists()
    assert len(r.output.strip().splitlines()) == 1
    r = CliRunner().invoke(app, ["train", "bpe", "-o", str(tmp_path / "f")])
    assert r.exit_code == 2 and "--counts" in r.output
    r = CliRunner().invoke(app, ["train", "bpe", "--counts", str(counts), "-o", str(tmp_path / "g"), "--engine", "x"])
    assert r.exit_code == 2 and "--engine" in r.output


def test_train_parity_verb(tmp_path):
    from _analysis_helpers import mini_udhr

    root = mini_udhr(tmp_path / "udhr", {
        "eng": {str(i): f"all people are born free and equal {i}" for i in range(10)},
        "rus": {str(i): f"все люди рождаются свободными и равными {i}" for i in range(10)},
    })
    r = CliRunner().invoke(app, ["train", "parity", str(root), "-l", "eng", "-l", "rus", "-v", "300",
                                 "-o", str(tmp_path / "p"), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["vocab_size"] == 300 and set(summary["merges_per_language"]) == {"eng", "rus"}
    r = CliRunner().invoke(app, ["train", "parity", str(root), "-l", "eng", "-l", "xx_nope", "-o", str(tmp_path / "q")])
    assert r.exit_code == 2 and "xx_nope" in r.output


def test_bad_out_fails_before_any_training(tmp_path, corpus_file):
    """--out is checked first: a folder that is not a tokkit artifact, the input itself, or a folder inside
    the input is refused in one line (exit 2) and nothing is written; --overwrite replaces a foreign folder."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    r = CliRunner().invoke(app, ["train", "bpe", str(corpus_file), "-o", str(mine), "-v", "300"])
    assert r.exit_code == 2 and "tokkit card" in r.output
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    r = CliRunner().invoke(app, ["train", "char", str(corpus_file), "-o", str(corpus_file)])
    assert r.exit_code == 2 and "input" in r.output
    r = CliRunner().invoke(app, ["train", "bpe", str(corpus_file), "-o", str(mine), "-v", "300", "--overwrite",
                                 "--min-frequency", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert not (mine / "notes.txt").exists() and (mine / "tokkit.json").exists()
