"""The ahead-of-time compiled training kernels: the same results as the JIT ones, checked arguments, no numba
in a training process, and the JIT as the fallback."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import types

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokkit.kernels import aot
from tokkit.kernels.counting import pack_texts
from tokkit.kernels.split_patterns import PATTERN_IDS
from tokkit.kernels.unicode_table import class_table


@pytest.fixture(scope="module")
def compiled():
    if os.environ.get("TOKKIT_KERNELS", "").lower() == "jit":
        pytest.skip("TOKKIT_KERNELS=jit: the compiled kernels are switched off")
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}): the kernels cannot be compiled ahead of time here")
    mod = aot._load()
    assert mod is not None, f"the compiled kernels failed to build: {aot.status()['failure']}"
    return lambda name: aot._checked(name, getattr(mod, name))


def jit(name):
    import importlib

    return getattr(importlib.import_module("tokkit.kernels." + aot.SPECS[name][0]), name)


def same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def fresh_table():
    return np.zeros((1 << 4, 3), np.int64), np.empty(1 << 4, np.uint8), np.zeros(3, np.int64)


TEXT = st.text(st.characters(codec="utf-8"), max_size=60) | st.text("ab \n1'\t\u00e9\u0301\u0660", max_size=60)


@given(docs=st.lists(TEXT, max_size=6), pattern=st.sampled_from(sorted(PATTERN_IDS)),
       max_words=st.sampled_from([0, 1, 3]))
def test_counting_matches_jit(compiled, docs, pattern, max_words):
    buf, bounds = pack_texts(docs)
    weights = np.arange(1, len(docs) + 1, dtype=np.int64)
    table = class_table("regex")
    outs = []
    for get in (compiled, jit):
        T, pool, state = fresh_table()
        T, pool = get("count_into")(T, pool, state, buf, bounds, weights, 0, len(docs), PATTERN_IDS[pattern],
                                    table, max_words)
        T2, pool2, state2 = fresh_table()
        T2, pool2 = get("count_into")(T2, pool2, state2, buf, bounds, weights, 0, len(docs), PATTERN_IDS[pattern],
                                      table, max_words)
        T, pool = get("merge_into")(T, pool, state, T2, pool2, max_words)
        outs.append((get("table_words")(T, pool, state, max_words), state.copy(),
                     get("line_starts")(buf, 7), get("utf8_error")(buf)))
    assert same(outs[0], outs[1])


@given(words=st.dictionaries(st.lists(st.integers(0, 5), min_size=1, max_size=8).map(tuple),
                             st.integers(1, 50), max_size=12),
       vocab=st.integers(6, 40), min_frequency=st.integers(0, 3), max_token_words=st.sampled_from([0, 2]))
def test_merge_loop_matches_jit(compiled, words, vocab, min_frequency, max_token_words):
    keys = list(words)
    sym = np.asarray([s for w in keys for s in w], np.int32)
    wstart = np.zeros(len(keys) + 1, np.int64)
    np.cumsum([len(w) for w in keys], out=wstart[1:])
    wcount = np.asarray([words[w] for w in keys], np.int64)
    pool = np.frombuffer(b"ab c:d", np.uint8).copy()
    outs = []
    for get in (compiled, jit):
        s = sym.copy()
        out = get("bpe_train")(s, wstart, wcount, pool.copy(), np.arange(6, dtype=np.int64), np.ones(6, np.int32),
                               6, vocab, min_frequency, np.zeros(0, np.int32), np.zeros(0, np.int32),
                               np.zeros(1, np.int64), max_token_words)
        outs.append((out, s))
    assert same(outs[0], outs[1])


def test_parity_loop_matches_jit(compiled):
    rng = np.random.default_rng(0)
    n = 40
    lens = rng.integers(1, 6, n)
    wstart = np.zeros(n + 1, np.int64)
    np.cumsum(lens, out=wstart[1:])
    sym = rng.integers(0, 4, int(wstart[-1])).astype(np.int32)
    args = (wstart, rng.integers(1, 30, n).astype(np.int64), rng.integers(0, 3, n).astype(np.int32),
            (rng.random(n) < 0.3).astype(np.uint8), 3, np.array([1.0, 1.2, 0.8]))
    outs = []
    for get in (compiled, jit):
        s = sym.copy()
        out = get("bpe_train_parity")(s, *args, np.frombuffer(b"abcd", np.uint8).copy(),
                                      np.arange(4, dtype=np.int64), np.ones(4, np.int32), 4, 30, 0, 5,
                                      np.zeros(1, np.int64))
        outs.append((out, s))
    assert same(outs[0], outs[1])


def test_arguments_are_checked_before_the_compiled_code_runs(compiled):
    f = compiled("line_starts")
    good = np.frombuffer(b"ab\ncd\n", np.uint8)
    assert f(good, 0).tolist() == [0, 3]
    with pytest.raises(TypeError, match="uint8"):
        f(np.arange(6, dtype=np.int32), 0)  # the unchecked export would read int32 as bytes
    with pytest.raises(TypeError, match="C-contiguous"):
        f(np.zeros(12, np.uint8)[::2], 0)
    with pytest.raises(TypeError, match="1 dimension"):
        f(np.zeros((2, 3), np.uint8), 0)
    with pytest.raises(TypeError, match="list"):
        f([1, 2], 0)
    with pytest.raises(TypeError, match="takes 2 arguments"):
        f(good)
    with pytest.raises(OverflowError):
        f(good, 1 << 70)
    with pytest.raises(TypeError):
        f(good, 1.5)
    T, pool, state = fresh_table()
    T.flags.writeable = False  # written by the kernel: a read-only array is refused
    with pytest.raises(TypeError, match="writable"):
        compiled("table_words")(T, pool, state, 0)


def test_training_process_does_not_load_numba(compiled, tmp_path):
    # a fresh process finds the compiled module (built by the fixture) and never imports numba
    code = """
import json, sys
from tokkit.train.native import train_native
m = train_native(["the cat sat on the mat", "the dog sat"] * 50, vocab_size=271, quiet=True)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps(dict(numba="numba" in sys.modules, llvmlite="llvmlite" in sys.modules, merges=len(m.bpe.merges),
                      hwm_mb=int(hwm) / 1024)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, TOKKIT_KERNELS="auto"))
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["numba"] is False and res["llvmlite"] is False and res["merges"] >= 10, res
    # numba's runtime alone is about 150 MB; the whole process here stays well under it
    assert res["hwm_mb"] < 120, res


def test_same_tokenizer_from_compiled_and_jit_kernels(compiled):
    from tokkit.train.native import train_native

    texts = ["Le chat est sur le tapis.", "The cat's on the mat; 12345 cats!", "猫はマットの上にいる"] * 20
    a = train_native(texts, vocab_size=400, quiet=True, allow_smaller=True)
    saved = dict(aot._kernels)
    try:
        aot._kernels.clear()
        aot._kernels.update({n: jit(n) for n in aot.SPECS})
        b = train_native(texts, vocab_size=400, quiet=True, allow_smaller=True)
    finally:
        aot._kernels.clear()
        aot._kernels.update(saved)
    assert a.bpe.merges == b.bpe.merges and a.bpe.tokens == b.bpe.tokens


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """A loader with no module loaded and an empty cache folder."""
    monkeypatch.setenv("TOKKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(aot, "_module", None)
    monkeypatch.setattr(aot, "_failure", None)
    monkeypatch.setattr(aot, "_kernels", {})
    return tmp_path


def test_jit_mode_never_builds(isolated, monkeypatch):
    monkeypatch.setenv("TOKKIT_KERNELS", "jit")
    monkeypatch.setattr(aot, "build", lambda *a, **k: pytest.fail("built in jit mode"))
    assert aot.prepare(quiet=False) is False
    assert aot.kernel("line_starts") is jit("line_starts")


def fake_compiler(monkeypatch, seconds=0.7):
    """The build subprocess replaced by one that sleeps (longer than the build's poll interval) and writes a
    placeholder module, which the loader then takes as loaded. Returns the list of builds started."""
    started = []
    popen = subprocess.Popen

    def fake(cmd, **kw):
        if "tokkit.kernels.aot_build" not in cmd:  # e.g. platform's `uname -p`
            return popen(cmd, **kw)
        started.append(cmd)
        code = ("import pathlib, sys, time; time.sleep(float(sys.argv[2])); "
                "pathlib.Path(sys.argv[1]).write_text('built')")
        return popen([sys.executable, "-c", code, cmd[-1], str(seconds)], **kw)

    monkeypatch.setattr(aot.subprocess, "Popen", fake)
    monkeypatch.setattr(aot, "_import", lambda path: types.SimpleNamespace(path=path))
    return started


def test_prepare_quiet_prints_nothing_and_builds_once(isolated, monkeypatch, capfd):
    monkeypatch.setenv("TOKKIT_KERNELS", "auto")
    started = fake_compiler(monkeypatch)
    assert aot.prepare(quiet=True) is True
    assert aot.prepare(quiet=True) is True
    assert len(started) == 1 and aot.module_path().read_text() == "built"
    # a later process finds the module and does not build again
    monkeypatch.setattr(aot, "_module", None)
    assert aot.prepare(quiet=True) is True and len(started) == 1
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_build_not_quiet_shows_the_notice(isolated, monkeypatch, capfd):
    monkeypatch.setenv("TOKKIT_KERNELS", "auto")
    fake_compiler(monkeypatch)
    assert aot.prepare(quiet=False) is True
    out, err = capfd.readouterr()
    assert out == "" and "tokkit: " + aot.BUILD_NOTICE in err
    assert "once per installation" in err


def test_a_timeout_stops_only_a_build_that_runs_past_it(isolated, monkeypatch):
    fake_compiler(monkeypatch, seconds=30)
    with pytest.raises(aot.KernelBuildError, match="took over"):
        aot.build(timeout=0.5)
    assert not aot.module_path().exists()


def test_failed_build_falls_back_to_jit_once(isolated, monkeypatch):
    monkeypatch.setenv("TOKKIT_KERNELS", "auto")
    calls = []

    def broken(path=None, **k):
        calls.append(path)
        raise aot.KernelBuildError("building the kernels failed: no compiler")

    monkeypatch.setattr(aot, "build", broken)
    assert aot.kernel("count_into") is jit("count_into")
    assert len(calls) == 1 and "no compiler" in aot.status()["failure"]
    # a later process does not pay for the failed build again
    monkeypatch.setattr(aot, "_module", None)
    monkeypatch.setattr(aot, "_kernels", {})
    assert aot.kernel("count_into") is jit("count_into")
    assert len(calls) == 1


def test_aot_mode_makes_a_failed_build_an_error(isolated, monkeypatch):
    monkeypatch.setenv("TOKKIT_KERNELS", "aot")

    def broken(path=None, **k):
        raise aot.KernelBuildError("building the kernels failed: no compiler")

    monkeypatch.setattr(aot, "build", broken)
    with pytest.raises(aot.KernelBuildError, match="TOKKIT_KERNELS=aot"):
        aot.kernel("bpe_train")


def test_bad_mode_and_unknown_kernel(isolated, monkeypatch):
    monkeypatch.setenv("TOKKIT_KERNELS", "fast")
    with pytest.raises(aot.TokkitError, match="auto, aot or jit"):
        aot.kernel("bpe_train")
    with pytest.raises(KeyError, match="no kernel"):
        aot.kernel("nope")


def test_key_follows_the_sources_and_the_cache_folder(isolated):
    k = aot.key()
    assert k == aot.key() and len(k) == 20
    assert aot.module_path().parent == isolated / "kernels"
    assert aot.module_path().name.startswith(f"train-{k}")


def test_specs_match_the_kernels_signatures():
    import inspect

    for name, (module, args) in aot.SPECS.items():
        params = inspect.signature(jit(name).py_func).parameters
        assert len(params) == len(args), name


def test_cli_status_and_build(compiled):
    from typer.testing import CliRunner

    from tokkit.cli import app

    res = CliRunner().invoke(app, ["kernels", "status", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["built"] is True and info["module"] == str(aot.module_path()) and info["failure"] is None
    # built already: `build` finds the module under the lock and returns at once
    res = CliRunner().invoke(app, ["kernels", "build"])
    assert res.exit_code == 0 and "built" in res.output
