"""$TOKKIT_DATA and $TOKKIT_TOKENIZERS: one resolver (tokkit._paths) for the corpora and tokenizer layers."""

import pytest

from tokkit.errors import InputError


def test_environment_variables_win(tmp_path, monkeypatch):
    from tokkit import _paths
    from tokkit.corpora import data_path, data_root
    from tokkit.tokenizer import load_tokenizer, tokenizers_root

    assert data_root is _paths.data_root and tokenizers_root is _paths.tokenizers_root
    (tmp_path / "data" / "udhr").mkdir(parents=True)
    (tmp_path / "toks" / "tiktoken").mkdir(parents=True)
    monkeypatch.setenv("TOKKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tmp_path / "toks"))
    assert data_root() == tmp_path / "data"
    assert data_path("udhr", "index.json") == str(tmp_path / "data" / "udhr" / "index.json")
    assert tokenizers_root() == tmp_path / "toks"
    # a name under $TOKKIT_TOKENIZERS loads through the same resolver
    (tmp_path / "toks" / "tiktoken" / "mine.tiktoken").write_text("IQ== 0\nIg== 1\n")
    assert load_tokenizer("mine", split_pattern="gpt2").vocab_size == 2

    monkeypatch.setenv("TOKKIT_DATA", str(tmp_path / "missing"))
    monkeypatch.setenv("TOKKIT_TOKENIZERS", str(tmp_path / "missing"))
    with pytest.raises(InputError, match="TOKKIT_DATA=.*no such folder"):
        data_root()
    assert data_root(required=False) is None
    assert tokenizers_root() is None


def test_shared_folder_beside_the_working_directory(tmp_path, monkeypatch):
    from tokkit.corpora import data_root
    from tokkit.tokenizer import tokenizers_root

    (tmp_path / "shared" / "corpora").mkdir(parents=True)
    (tmp_path / "shared" / "tokenizers").mkdir()
    (tmp_path / "project").mkdir()
    monkeypatch.delenv("TOKKIT_DATA", raising=False)
    monkeypatch.delenv("TOKKIT_TOKENIZERS", raising=False)
    monkeypatch.chdir(tmp_path / "project")
    assert data_root() == tmp_path / "shared" / "corpora"
    assert tokenizers_root() == tmp_path / "shared" / "tokenizers"
