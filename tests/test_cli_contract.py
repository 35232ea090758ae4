"""The flag table of docs/architecture.md ("One vocabulary"), checked on every registered verb: one name, one
meaning, one help text; lists are repeatable; --json and --quiet everywhere; old spellings still work,
print one deprecation line and mean exactly what the new ones do."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.models import OptionInfo
from typer.testing import CliRunner

from tokkit.cli import app, options


def _is_option(p) -> bool:
    return getattr(p, "param_type_name", "") == "option"  # typer ships its own copy of click


def _verbs(group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        if cmd.hidden:
            continue
        if hasattr(cmd, "commands"):
            yield from _verbs(cmd, prefix + (name,))
        else:
            yield " ".join(prefix + (name,)), cmd


VERBS = dict(_verbs(get_command(app)))


def _flags(cmd) -> dict:
    return {o: p for p in cmd.params if _is_option(p) and not p.hidden
            for o in p.opts + p.secondary_opts if o not in ("-h", "--help")}


def _shared_helps() -> dict[str, str]:
    """Flag -> help of every option defined in tokkit.cli.options."""
    out = {}
    for value in vars(options).values():
        for meta in getattr(value, "__metadata__", ()):
            if isinstance(meta, OptionInfo):
                decls = [meta.default, *(meta.param_decls or ())]
                for d in decls:
                    if isinstance(d, str) and d.startswith("-"):
                        out[d.split("/")[0]] = meta.help
    return out


SHARED = _shared_helps()
TRAIN_VERBS = [v for v in VERBS if v.startswith("train ")]
# verbs that read documents from files take every corpus reading option
READERS = ["corpus stats", "count", "eval", "extend", "compare", "merge", "train bpe", "train char", "train superword",
           "train spm"]
# one meaning per name: a word the help text must contain
MEANINGS = {"--max-words": "memory", "--max-token-words": "words one token", "--pre-tokenizer": "before counting",
            "--split-pattern": "tiktoken", "--out": "replaced atomically", "--vocab-size": "Total vocabulary size",
            "--special-token": "ids 0..n-1", "--engine": "native", "--language": "language code"}
# old spellings: hidden everywhere
RETIRED = ["--pattern", "--special-tokens", "--special", "--languages", "--terms", "--sizes"]
LISTS = ["--special-token", "--term", "--export-size", "--language", "--set", "--dataset", "--size"]


def test_the_walk_sees_every_verb():
    assert {"train bpe", "train char", "train superword", "train spm", "train parity", "count", "eval", "compare",
            "premiums", "sweep", "merge", "demo", "corpus stats", "kernels status", "kernels build"} <= set(VERBS)
    assert "train native" not in VERBS  # hidden for one release


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_has_json_and_quiet(verb):
    flags = _flags(VERBS[verb])
    assert "--json" in flags and "--quiet" in flags and "-q" in flags


@pytest.mark.parametrize("verb", TRAIN_VERBS + ["demo"])
def test_training_verbs_have_out_and_vocab_size(verb):
    flags = _flags(VERBS[verb])
    assert {"-o", "--out", "-v", "--vocab-size"} <= set(flags)


@pytest.mark.parametrize("verb", READERS)
def test_document_readers_have_every_corpus_option(verb):
    assert set(options.CORPUS_FLAGS) <= set(_flags(VERBS[verb]))


def test_corpus_options_only_where_documents_are_read():
    for verb, cmd in VERBS.items():
        if verb not in READERS:
            assert "--text-field" not in _flags(cmd), verb


def test_one_flag_one_help_text():
    seen: dict[str, dict[str, list[str]]] = {}
    for verb, cmd in VERBS.items():
        for flag, p in _flags(cmd).items():
            seen.setdefault(flag, {}).setdefault(p.help or "", []).append(verb)
    for flag, helps in seen.items():
        assert len(helps) == 1, f"{flag} has {len(helps)} meanings: {helps}"
        if flag in SHARED:  # defined once in tokkit.cli.options and used as is
            assert list(helps) == [SHARED[flag]], flag
    for flag, word in MEANINGS.items():
        assert word in next(iter(seen[flag])), flag
    for flag in RETIRED:
        assert flag not in seen, f"{flag} is still visible on {seen[flag]}"


def test_list_flags_are_repeatable():
    for verb, cmd in VERBS.items():
        for flag, p in _flags(cmd).items():
            assert "comma-separated" not in (p.help or "").lower(), (verb, flag)
            if flag in LISTS:
                assert p.multiple, (verb, flag)


def test_short_names_are_consistent():
    shorts: dict[str, set[str]] = {}
    for cmd in VERBS.values():
        for p in cmd.params:
            if _is_option(p) and not p.hidden:
                for s in (o for o in p.opts if not o.startswith("--")):
                    shorts.setdefault(s, set()).add(max(p.opts, key=len))
    for s, longs in shorts.items():
        assert len(longs) == 1, f"{s} stands for {longs}"


# --- old spellings --------------------------------------------------------------------------------------

class _Called(Exception):
    def __init__(self, args, kwargs):
        super().__init__("called")
        self.args_, self.kwargs = args, kwargs


def _capture(monkeypatch, target: str):
    """Replace an API function by one that stops the command and hands back how it was called."""
    import importlib

    # modules that bind load_tokenizer at import: imported first, so they keep the real one
    for m in ("tokkit.analysis.metrics", "tokkit.analysis.premium", "tokkit.analysis.domains"):
        importlib.import_module(m)

    def fake(*args, **kwargs):
        raise _Called(args, kwargs)

    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(importlib.import_module(module), name, fake)  # (tokkit.train is also a function)


def _call(argv):
    r = CliRunner().invoke(app, argv)
    assert isinstance(r.exception, _Called), r.output
    return r


def _comparable(value):
    from tokkit.corpora.documents import Documents

    if isinstance(value, Documents):
        return ("Documents", value.describe, value.max_documents, value.split)
    return value


@pytest.fixture
def files(tmp_path):
    (tmp_path / "c.txt").write_text("the cat sat\non the mat\n", encoding="utf-8")
    (tmp_path / "terms.txt").write_text("habeas corpus\nEBITDA\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("target,old,new", [
    ("tokkit.cli.train_calls.train_bpe",
     ["train", "bpe", "{c}", "-o", "{o}", "--special-tokens", "a,b", "--terms", "{terms}"],
     ["train", "bpe", "{c}", "-o", "{o}", "--special-token", "a", "--special-token", "b", "--terms-file", "{terms}"]),
    ("tokkit.cli.train_calls.train_char", ["train", "char", "{c}", "-o", "{o}", "--special-tokens", ""],
     ["train", "char", "{c}", "-o", "{o}", "--special-token", ""]),
    ("tokkit.cli.train_calls.train_superword", ["train", "superword", "{c}", "-o", "{o}", "--max-words", "3"],
     ["train", "superword", "{c}", "-o", "{o}", "--max-token-words", "3"]),
    ("tokkit.cli.train_calls.train_parity", ["train", "parity", "udhr", "-o", "{o}", "--languages", "eng,rus"],
     ["train", "parity", "udhr", "-o", "{o}", "-l", "eng", "-l", "rus"]),
    ("tokkit.dist.count.count_words", ["count", "{c}", "-o", "{o}.tsv", "--pattern", "whitespace"],
     ["count", "{c}", "-o", "{o}.tsv", "--pre-tokenizer", "whitespace"]),
    ("tokkit.tokenizer.load_tokenizer", ["eval", "chars", "-c", "{c}", "--pattern", "cl100k_base"],
     ["eval", "chars", "-c", "{c}", "--split-pattern", "cl100k_base"]),
    ("tokkit.tokenizer.load_tokenizer", ["compare", "chars", "-s", "{c}", "--pattern", "o200k_base"],
     ["compare", "chars", "-s", "{c}", "--split-pattern", "o200k_base"]),
    ("tokkit.tokenizer.load_tokenizer", ["premiums", "chars", "--pattern", "llama3"],
     ["premiums", "chars", "--split-pattern", "llama3"]),
    ("tokkit.cli.demo.run_demo", ["demo", "--languages", "en,de", "-o", "{o}"],
     ["demo", "-l", "en", "-l", "de", "-o", "{o}"]),
    ("tokkit.analysis.sweeps.sweep", ["sweep", "en", "--sizes", "300,400"],
     ["sweep", "-l", "en", "--size", "300", "--size", "400"]),
    # the hidden verb is `train bpe --engine native` under its old flags
    ("tokkit.cli.train_calls.train_bpe",
     ["train", "native", "{c}", "-o", "{o}", "--pattern", "gpt4o", "--special", "x", "--min-frequency", "0"],
     ["train", "native", "{c}", "-o", "{o}", "--pre-tokenizer", "gpt4o", "--special-token", "x"]),
])
def test_old_spellings_still_work(monkeypatch, files, target, old, new):
    _capture(monkeypatch, target)
    fill = dict(c=str(files / "c.txt"), o=str(files / "out"), terms=str(files / "terms.txt"))
    r_old = _call([a.format(**fill) for a in old])
    r_new = _call([a.format(**fill) for a in new])
    a, b = r_old.exception, r_new.exception
    assert [_comparable(x) for x in a.args_] == [_comparable(x) for x in b.args_]
    assert {k: _comparable(v) for k, v in a.kwargs.items()} == {k: _comparable(v) for k, v in b.kwargs.items()}
    lines = [ln for ln in r_old.stderr.splitlines() if ln.strip()]
    assert lines and all("deprecated" in ln for ln in lines), r_old.stderr
    if old[:2] != ["train", "native"]:  # (the hidden verb itself is deprecated, whatever its flags)
        assert "deprecated" not in r_new.stderr


def test_train_native_is_bpe_on_the_native_engine(monkeypatch, files):
    _capture(monkeypatch, "tokkit.cli.train_calls.train_bpe")
    r = _call(["train", "native", str(files / "c.txt"), "-o", str(files / "o"), "--export-size", "270"])
    assert r.exception.kwargs["engine"] == "native" and r.exception.kwargs["export_sizes"] == [270]
    assert "use `tokkit train bpe --engine native`" in r.stderr


def test_the_new_spellings_reach_the_api(monkeypatch, files):
    _capture(monkeypatch, "tokkit.cli.train_calls.train_bpe")
    r = _call(["train", "bpe", str(files / "c.txt"), "-o", str(files / "o"), "-v", "300", "--engine", "hf",
               "--term", "habeas corpus", "--terms-file", str(files / "terms.txt"), "--pre-tokenizer", "gpt4o",
               "--per-line", "--max-documents", "1", "--split", "train", "--special-token", "<s>"])
    kw = r.exception.kwargs
    assert (kw["engine"], kw["vocab_size"], kw["pre_tokenizer"], kw["special_tokens"]) == ("hf", 300, "gpt4o", ["<s>"])
    assert kw["terms"] == ["habeas corpus"] and kw["terms_file"] == str(files / "terms.txt")
    docs = r.exception.args_[0]
    assert (docs.max_documents, docs.split) == (1, "train")


def test_read_args_are_read_documents_keywords():
    import inspect

    from tokkit.corpora import read_documents

    full = options.ReadArgs(format="jsonl", per_line=True, text_field="body", max_documents=3, max_bytes=10,
                            sample=0.5, seed=1, split="eval", eval_fraction=0.2, replace_invalid=True).kwargs()
    assert set(full) <= set(inspect.signature(read_documents).parameters)
    assert len(full) == len(options.CORPUS_FLAGS)
    assert options.ReadArgs().kwargs() == {}  # the defaults are read_documents' own


def test_version():
    import tokkit

    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"tokkit {tokkit.__version__}"


def test_help_texts_print_literally():
    for verb, cmd in VERBS.items():
        for p in cmd.params:
            assert "%%" not in (getattr(p, "help", None) or ""), verb
        assert "about a minute" not in (cmd.help or ""), verb


# --- missing optional packages --------------------------------------------------------------------------

@pytest.mark.parametrize("module,extra,argv", [
    ("pyarrow", "parquet", ["count", "{c}", "-o", "{tmp}/x.parquet", "--backend", "local", "--workers", "1"]),
    ("pyarrow", "parquet", ["corpus", "stats", "{tmp}/x.parquet"]),
    ("google.protobuf", "spm", ["eval", "{spm}", "-c", "{c}"]),
    ("tiktoken", "tiktoken", ["eval", "{tiktoken}", "-c", "{c}", "--split-pattern", "cl100k_base"]),
    ("matplotlib", "plot", ["compare", "chars", "-s", "{c}", "--plot", "{tmp}/x.svg"]),
    ("ray", "dist", ["count", "{c}", "-o", "{tmp}/x.tsv", "--backend", "ray"]),
    ("datasets", "hf", ["premiums", "chars", "-c", "flores"]),
])
@pytest.mark.slow
def test_missing_optional_package_is_one_line(tmp_path, files, module, extra, argv):
    """A verb that needs a package the install lacks says so in one line naming the extra, exit 2."""
    import subprocess
    import sys

    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    (tmp_path / "r.tiktoken").write_text("IQ== 0\nIg== 1\n")
    spm = _tiny_spm(tmp_path)
    fill = dict(c=str(files / "c.txt"), tmp=str(tmp_path), spm=spm, tiktoken=str(tmp_path / "r.tiktoken"))
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from tokkit.cli import main\n"
            f"main({[a.format(**fill) for a in argv]!r})\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and f"pip install 'tokkit[{extra}]'" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def _tiny_spm(tmp_path) -> str:
    import io

    import sentencepiece as spm

    text = ["the cat sat on the mat", "a dog and a cat", "hello world"] * 20
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(text), model_writer=model, vocab_size=30,
                                   model_type="bpe", minloglevel=2)
    path = tmp_path / "tiny.model"
    path.write_bytes(model.getvalue())
    return str(path)


# --- tables at 80 columns -------------------------------------------------------------------------------

def _long_named_tokenizer(tmp_path, name="a-rather-long-tokenizer-name") -> str:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()
    tok.train_from_iterator(["the cat sat on the mat"] * 10, trainers.BpeTrainer(
        vocab_size=270, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    (tmp_path / name).mkdir()
    tok.save(str(tmp_path / name / "tokenizer.json"))
    return str(tmp_path / name)


def _fits(output: str, width: int = 80) -> None:
    assert "…" not in output and "..." not in output, output
    assert all(len(line) <= width for line in output.splitlines()), output


def test_eval_table_fits_80_columns(tmp_path, files):
    long = _long_named_tokenizer(tmp_path)
    r = CliRunner().invoke(app, ["eval", long, "chars", "bytes", "-c", str(files / "c.txt")], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    _fits(r.stdout)
    # every metric heads a column somewhere, and the long name is spelled out in a legend
    for col in ("tokens", "chars/tok", "fertility", "Rényi 2.5", "UNK chars", "byte fb"):
        assert col in r.stdout
    assert "T1 = a-rather-long-tokenizer-name" in r.stdout


def test_premiums_table_fits_80_columns(tmp_path):
    from _analysis_helpers import mini_udhr

    root = mini_udhr(tmp_path / "udhr", {
        "eng": {"0": "all people are born free", "1": "everyone has rights"},
        "rus": {"0": "все люди рождаются свободными", "1": "каждый человек имеет права"},
    })
    long = _long_named_tokenizer(tmp_path)
    r = CliRunner().invoke(app, ["premiums", long, "chars", "bytes", "-c", str(root), "--bootstrap", "10"],
                           env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    _fits(r.stdout)
    assert "a-rather-long-tokenizer-name" in r.stdout


def test_quiet_prints_no_table(tmp_path, files):
    r = CliRunner().invoke(app, ["eval", "chars", "-c", str(files / "c.txt"), "-q"])
    assert r.exit_code == 0 and r.stdout == ""


def test_table_width_follows_columns_else_200(monkeypatch):
    """Piped output (no terminal, no $COLUMNS) gets 200 columns rather than rich's 80, as before."""
    from tokkit.cli._common import console

    monkeypatch.delenv("COLUMNS", raising=False)
    assert console().width == 200
    monkeypatch.setenv("COLUMNS", "80")
    assert console().width == 80


def test_zero_is_an_answer_not_a_default(monkeypatch, files):
    """--min-frequency 0 reaches the recipe as 0 (not dropped as 'not given')."""
    _capture(monkeypatch, "tokkit.train.train_bpe")
    r = _call(["train", "bpe", str(files / "c.txt"), "-o", str(files / "o"), "--min-frequency", "0"])
    assert r.exception.kwargs["min_frequency"] == 0
