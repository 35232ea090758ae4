"""The demo's library function: both engines, quiet by default, the data the CLI prints."""

import pytest


@pytest.mark.slow
def test_demo_engines_agree_and_stay_quiet(tmp_path, capfd):
    from tokkit.analysis.demo import run_demo
    from tokkit.train.artifacts import read_card

    kw = dict(vocab_size=600, n_words=1500, total=40_000)
    native = run_demo(["en", "ru"], out=str(tmp_path / "native"), **kw)
    hf = run_demo(["en", "ru"], engine="hf", **kw)
    assert capfd.readouterr().err == ""  # library code is quiet by default
    assert native["algorithm"] == "native-bpe" and hf["algorithm"] == "hf-bpe" and hf["out"] is None
    assert read_card(tmp_path / "native")["parameters"]["engine"] == "native"
    assert not (tmp_path / "hf").exists()
    for res in (native, hf):
        assert res["vocab_size"] <= 600
        by = {r["language"]: r for r in res["languages"]}
        assert [r["language"] for r in res["languages"]] == ["en", "ru"]
        assert by["ru"]["script"] == "Cyrl" and by["en"]["script"] == "Latn"
        # Cyrillic takes two UTF-8 bytes a letter: more bytes, and more tokens from a small vocabulary, per word
        assert by["ru"]["bytes_per_word"] > by["en"]["bytes_per_word"]
        assert 1 <= by["en"]["tokens_per_word"] < by["ru"]["tokens_per_word"]
    # one objective on two engines: the same tokenizer, so the same figures
    assert native["languages"] == hf["languages"] and native["vocab_size"] == hf["vocab_size"]


def test_demo_bad_inputs():
    from tokkit.analysis.demo import run_demo
    from tokkit.errors import InputError

    with pytest.raises(InputError, match="engine"):
        run_demo(["en"], engine="spm")
    with pytest.raises(InputError, match="no languages"):
        run_demo([])
