"""Every notebook in notebooks/ runs top to bottom (with its default parameters) and is stored without
outputs. Figures the notebooks write land in docs/gallery/ (the README's example gallery)."""

import json
import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stripped(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, \
                f"{path.name}: commit notebooks without outputs (python notebooks/strip.py)"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, data_dir, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    nb = nbformat.read(path, as_version=4)
    env = {"TOKKIT_DATA": str(data_dir), "MPLBACKEND": "Agg",
           "TOKKIT_GALLERY": str(ROOT / "docs" / "gallery")}
    os.environ.update(env)
    t = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    seconds = time.perf_counter() - t
    print(f"{path.name}: {seconds:.1f} s")
    assert seconds < 300, f"{path.name} took {seconds:.0f} s (limit: 5 minutes with default settings)"
