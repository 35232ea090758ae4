"""Every notebook in notebooks/ runs top to bottom (with its default parameters) and is stored without
outputs. Figures the notebooks write go to a scratch folder here; `python notebooks/run.py` writes the README's
example gallery (docs/gallery/)."""

import json
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_exist():
    expected = {"crosslingual_premiums", "optimal_vocab", "domain_tokenizers", "dynamic_shortening"}
    assert expected <= {p.stem for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_matches_its_source(path):
    """The committed notebook is what notebooks/build.py writes from notebooks/src/<name>.py."""
    nbformat = pytest.importorskip("nbformat")
    src = ROOT / "notebooks" / "src" / f"{path.stem}.py"
    assert src.is_file(), f"{path.name}: no source {src.relative_to(ROOT)} (notebooks are built from sources)"
    import importlib.util

    spec = importlib.util.spec_from_file_location("_notebook_build", ROOT / "notebooks" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    cells = build.cells_of(src.read_text(encoding="utf-8"))
    nb = nbformat.read(path, as_version=4)
    assert [(c.cell_type, c.source) for c in nb.cells] == [(c.cell_type, c.source) for c in cells], \
        f"{path.name} differs from {src.name}: run python notebooks/build.py {path.stem}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stripped(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, \
                f"{path.name}: commit notebooks without outputs (python notebooks/strip.py)"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, data_dir, tokenizers_dir, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    nb = nbformat.read(path, as_version=4)
    # the kernel inherits this process's environment (and its interpreter: jupyter_client runs the "python3"
    # kernel with sys.executable); the notebooks import the checkout under test, whatever is installed
    env = {"TOKKIT_DATA": str(data_dir), "TOKKIT_TOKENIZERS": str(tokenizers_dir), "MPLBACKEND": "Agg",
           # figures go to a scratch folder: a test run must not rewrite the committed gallery
           "TOKKIT_GALLERY": str(tmp_path / "gallery"),
           "PYTHONPATH": os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    t = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    seconds = time.perf_counter() - t
    print(f"{path.name}: {seconds:.1f} s")
    assert list((tmp_path / "gallery").glob("*.png")), f"{path.name} wrote no figure"
