"""Execute notebooks top to bottom as CI does and report each one's wall time:

    python notebooks/run.py                          # all notebooks, outputs discarded
    python notebooks/run.py optimal_vocab --keep out/   # keep the executed copy (with outputs) in out/

Figures go to $TOKKIT_GALLERY (default docs/gallery); data comes from $TOKKIT_DATA as usual."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent


def run(path: Path, keep: Path | None = None, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TOKKIT_GALLERY", str(HERE.parent / "docs" / "gallery"))
    t = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(HERE)}})
    try:
        client.execute()
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, keep / path.name)
    return time.perf_counter() - t


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="notebook names (default: all)")
    ap.add_argument("--keep", type=Path, help="folder for the executed copies, with outputs")
    args = ap.parse_args()
    paths = [HERE / f"{n.removesuffix('.ipynb')}.ipynb" for n in args.names] or sorted(HERE.glob("*.ipynb"))
    for p in paths:
        s = run(p, args.keep)
        print(f"{p.name}: {s:.1f} s", flush=True)
    sys.exit(0)
