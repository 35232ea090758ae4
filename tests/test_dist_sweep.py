"""Sweeps on a local pool and on Ray: identical results, failures retried and recorded, a killed worker
or driver loses no finished cell and computes none twice."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokkit.analysis.store import ResultsStore
from tokkit.analysis.sweeps import sweep
from tokkit.errors import InputError

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
LANGS = ["en", "de", "fr"]
SIZES = [512, 1024, 2048, 4096]
SMALL = dict(n_words=3000, total=100_000, quiet=True)


def _cells(store):
    with ResultsStore(store) as st:
        return {r["key"]: (r["params"]["language"], r["params"]["vocab_size"], r["result"]["ctc"],
                           r["result"]["unit_counts"]) for r in st.rows()}


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'tokkit[dist]')")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    fault_dir = tmp_path_factory.mktemp("faults")
    os.environ["TOKKIT_FAULT_DIR"] = str(fault_dir)
    env = {"PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)]), "TOKKIT_FAULT_DIR": str(fault_dir)}
    if os.environ.get("TOKKIT_DATA"):
        env["TOKKIT_DATA"] = os.environ["TOKKIT_DATA"]
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
             runtime_env={"env_vars": env})
    yield fault_dir
    ray.shutdown()


@pytest.fixture(scope="module")
def local_store(data_dir, tmp_path_factory):
    store = tmp_path_factory.mktemp("local") / "sweep.sqlite"
    res = sweep(LANGS, SIZES, store=store, backend="local", workers=2, **SMALL)
    assert res.computed == 12
    return store


@pytest.mark.slow
def test_ray_equals_local(ray_cluster, local_store, tmp_path):
    store = tmp_path / "ray.sqlite"
    res = sweep(LANGS, SIZES, store=store, backend="ray", **SMALL)
    assert res.computed == 12
    assert _cells(store) == _cells(local_store)
    # a rerun on either backend computes nothing
    assert sweep(LANGS, SIZES, store=store, backend="ray", **SMALL).computed == 0


def test_inline_equals_local(local_store, tmp_path):
    store = tmp_path / "inline.sqlite"
    sweep(LANGS[:1], SIZES[:2], store=store, backend="inline", **SMALL)
    local = {(lang, v): ctc for lang, v, ctc, _ in _cells(local_store).values()}
    assert {(lang, v): ctc for lang, v, ctc, _ in _cells(store).values()} == \
        {k: c for k, c in local.items() if k[0] == "en" and k[1] in SIZES[:2]}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "ray"])
def test_worker_killed_mid_sweep(backend, ray_cluster, local_store, tmp_path):
    for f in Path(ray_cluster).iterdir():
        f.unlink()
    store = tmp_path / f"{backend}.sqlite"
    res = sweep(LANGS, SIZES, store=store, backend=backend, workers=2, algorithm="_sweep_faults:kill_once",
                **SMALL)
    assert res.computed == 12 and len(list(Path(ray_cluster).iterdir())) == 3  # each 1024 cell died once
    ours = {(lang, v, ctc) for lang, v, ctc, _ in _cells(store).values()}
    theirs = {(lang, v, ctc) for lang, v, ctc, _ in _cells(local_store).values()}
    assert ours == theirs


@pytest.mark.slow
def test_failed_cells_recorded_then_retried(local_store, tmp_path):
    store = tmp_path / "fail.sqlite"
    with pytest.raises(InputError, match="3 cell\\(s\\) failed after 1 retries"):
        sweep(LANGS, SIZES, store=store, backend="local", workers=2, retries=1,
              algorithm="_sweep_faults:always_fails", **SMALL)
    with ResultsStore(store) as st:
        assert len(st) == 9
        fails = st.failures()
    assert len(fails) == 3 and all(f["attempts"] == 2 and "cannot train" in f["error"] for f in fails)


DRIVER = """
import sys
from tokkit.analysis.sweeps import sweep
sweep({langs!r}, {sizes!r}, store=sys.argv[1], backend=sys.argv[2], workers=2, n_words=3000, total=100_000,
      quiet=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "ray"])
def test_driver_killed_mid_sweep(backend, data_dir, local_store, tmp_path):
    if backend == "ray":
        pytest.importorskip("ray", reason="ray is not installed (pip install 'tokkit[dist]')")
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(langs=LANGS, sizes=SIZES))
    store = tmp_path / "killed.sqlite"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(ROOT)]), RAY_AUTH_MODE="disabled")
    proc = subprocess.Popen([sys.executable, str(script), str(store), backend], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 600  # a hang guard, not a speed limit
        while time.time() < deadline and proc.poll() is None:
            try:
                with sqlite3.connect(store) as db:
                    if db.execute("SELECT COUNT(*) FROM cells").fetchone()[0] >= 4:
                        break
            except sqlite3.DatabaseError:
                pass
            time.sleep(0.05)
        assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.communicate()[1][-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    before = _cells(store)
    assert 4 <= len(before) < 12
    rerun = sweep(LANGS, SIZES, store=store, backend="local", workers=2, **SMALL)
    after = _cells(store)
    assert rerun.computed == 12 - len(before)                      # no finished cell computed again
    assert len(after) == 12 and all(after[k] == v for k, v in before.items())  # none lost or changed
    assert after == _cells(local_store)                            # and equal to an uninterrupted run


def test_native_algorithm_in_a_sweep(data_dir, tmp_path):
    """The numba trainer trains sweep cells straight from the counts; sizes are exact and CTC falls with V."""
    res = sweep(["en", "de"], [512, 1024, 2048], algorithm="native-bpe", store=tmp_path / "n.sqlite",
                backend="inline", **SMALL)
    by = {(c["language"], c["vocab_size"]): c for c in res.cells}
    for lang in ("en", "de"):
        ctc = [by[(lang, v)]["ctc"] for v in (512, 1024, 2048)]
        assert ctc[0] > ctc[1] > ctc[2]
        assert all(by[(lang, v)]["trained_vocab_size"] == v for v in (512, 1024, 2048))


@pytest.mark.slow
def test_native_sweep_trains_once_per_language(data_dir, tmp_path):
    """native-bpe groups a language's sizes into one task (one training, first-k export) and gets the same
    counts as training every size on its own."""
    from tokkit.analysis.sweeps import run_cell

    res = sweep(["en", "de"], [512, 1024, 2048], algorithm="native-bpe", store=tmp_path / "g.sqlite",
                backend="local", workers=2, **SMALL)
    assert res.computed == 6
    with ResultsStore(tmp_path / "g.sqlite") as st:
        rows = st.rows()
    assert all(r["result"]["shared_training"] for r in rows)
    for r in rows[:3]:
        alone = run_cell(r["params"])
        assert alone["ctc"] == r["result"]["ctc"] and alone["unit_counts"] == r["result"]["unit_counts"]
        assert not alone["shared_training"]
