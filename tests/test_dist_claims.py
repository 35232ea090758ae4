"""Claims let drivers share one results store: a cell claimed by a live driver is left to it, a dead
driver's claims are free at once; two sweeps on one store compute every cell once. Sweeps validate their
arguments and evaluation corpus before the store exists."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokkit.dist.claims import Claims
from tokkit.errors import InputError

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def slow_train(counts, vocab_size, seed):
    """A sweep algorithm slow enough for two drivers to overlap (imported by name in the drivers)."""
    from tokkit.train.registry import train_hf_bpe

    time.sleep(0.4)
    return train_hf_bpe(counts, vocab_size, seed)


def test_claims_exclusive_and_released(tmp_path):
    store = str(tmp_path / "s.sqlite")
    a, b = Claims(store), Claims(store)
    assert a.try_claim("k1") and a.try_claim("k1")
    assert not b.try_claim("k1") and b.try_claim("k2")
    a.release("k1")
    assert b.try_claim("k1")
    a.close()
    b.close()
    assert os.listdir(tmp_path) == []  # nothing left beside the store


def test_dead_holders_claims_are_free(tmp_path):
    store = str(tmp_path / "s.sqlite")
    code = ("import sys, time\nfrom tokkit.dist.claims import Claims\nc = Claims(sys.argv[1])\n"
            "assert c.try_claim('k')\nprint('held', flush=True)\ntime.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code, store], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    with Claims(store) as mine:
        assert not mine.try_claim("k")
        p.kill()
        p.wait()
        assert mine.try_claim("k")


DRIVER = """
import json, sys
from tokkit.analysis.sweeps import sweep
res = sweep(["en", "de"], [300, 400, 500], algorithm="test_dist_claims:slow_train", store=sys.argv[1],
            backend="inline", n_words=2000, total=100_000, quiet=True)
print(json.dumps(dict(computed=res.computed, cells=[(c["language"], c["vocab_size"], c["ctc"]) for c in res.cells])))
"""


@pytest.mark.slow
def test_two_drivers_on_one_store_compute_each_cell_once(tmp_path, data_dir):
    store = tmp_path / "sweep.sqlite"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), str(ROOT)]))
    procs = [subprocess.Popen([sys.executable, "-c", DRIVER, str(store)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    assert outs[0]["cells"] == outs[1]["cells"]
    assert sum(o["computed"] for o in outs) == 6  # every cell once, shared between the drivers
    assert all(o["computed"] > 0 for o in outs)
    assert sorted(os.listdir(tmp_path))[0] == "sweep.sqlite" and not (tmp_path / "sweep.sqlite.claims").exists()


@pytest.mark.parametrize("kw, match", [
    (dict(eval_corpus=None), "not a parallel corpus"),
    (dict(workers=-2), "workers"),
    (dict(workers=0), "workers"),
    (dict(backend="threads"), "backend"),
])
def test_sweep_validates_before_creating_the_store(tmp_path, data_dir, kw, match):
    from tokkit.analysis.sweeps import sweep

    if kw.get("eval_corpus", 1) is None:
        kw = dict(eval_corpus=str(tmp_path / "missing-corpus"))
    store = tmp_path / "sweep.sqlite"
    with pytest.raises(InputError, match=match):
        sweep(["en=eng", "de=deu"], [300, 400], store=store, n_words=2000, total=100_000, **kw)
    assert not store.exists() and not (tmp_path / "sweep.sqlite.claims").exists()
