"""The MrT5 training-run script in smoke mode: builds a byte-level T5, pre-trains, adds gates, writes the
table (seconds, tiny model)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mrt5_gate_run.py"


def _load():
    spec = importlib.util.spec_from_file_location("mrt5_gate_run", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod          # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


def test_span_corruption_round_trip():
    import random

    import numpy as np

    mod = _load()
    rng = random.Random(0)
    ids = np.arange(3, 103)
    inp, tgt = mod.span_corrupt(ids, 0.15, 3.0, rng, vocab=323)
    sentinels = [t for t in inp if t >= 323 - mod.N_SENTINELS]
    assert sentinels == [t for t in tgt if t >= 323 - mod.N_SENTINELS] and inp[-1] == tgt[-1] == mod.EOS
    # putting the spans back gives the original bytes
    spans, cur = {}, None
    for t in tgt[:-1]:
        if t in sentinels:
            cur = t
            spans[cur] = []
        else:
            spans[cur].append(t)
    rebuilt = []
    for t in inp[:-1]:
        rebuilt.extend(spans[t] if t in spans else [t])
    assert rebuilt == list(ids)
    assert abs(sum(len(v) for v in spans.values()) - 15) <= 1


@pytest.mark.slow
def test_smoke_run_writes_table(data_dir, tmp_path):
    mod = _load()
    mod.main(["--smoke", "--udhr", str(data_dir / "udhr"), "--out", str(tmp_path)])
    res = json.loads((tmp_path / "mrt5_gate_run.json").read_text())
    assert [r["target"] for r in res["rows"]] == [0.0, 0.5]
    for r in res["rows"]:
        assert 0.0 <= r["deletion_rate"] <= 1.0 and r["heldout_loss"] > 0 and r["encoder_ms_hard"] > 0
        assert set(r["deletion_rate_by_script"]) == {"Latn", "Cyrl", "Hani", "Deva"}
    md = (tmp_path / "mrt5_gate_run.md").read_text()
    assert "| target | held-out loss | deletion rate" in md and "| Cyrl |" in md


def test_smoke_run_leaves_committed_results_alone(data_dir, monkeypatch):
    mod = _load()
    seen = {}

    class Stop(Exception):
        pass

    def fake_run(cfg, udhr, out, log):
        seen["out"] = out
        raise Stop

    monkeypatch.setattr(mod, "run", fake_run)
    with pytest.raises(Stop):
        mod.main(["--smoke", "--udhr", str(data_dir / "udhr")])
    assert Path(seen["out"]).resolve() != (SCRIPT.parent / "results").resolve()
    assert not str(Path(seen["out"]).resolve()).startswith(str(SCRIPT.parent.resolve()))
