"""Write the notebooks from their readable sources in notebooks/src/ (run after editing a source).

A source is a Python file whose cells are separated by lines `# %% [markdown]` (a markdown cell: every line
starts with `# `) or `# %%` (a code cell), the "percent" format editors understand. The notebooks are
written without outputs, so they are ready to commit:

    python notebooks/build.py              # all of them
    python notebooks/build.py optimal_vocab
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def cells_of(source: str) -> list:
    cells, kind, buf = [], None, []

    def flush():
        text = "\n".join(buf).strip("\n")
        if kind == "markdown":
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in text.splitlines())
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif kind == "code" and text:
            cells.append(nbformat.v4.new_code_cell(text))

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, buf = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            buf.append(line)
    flush()
    return cells


def build(src: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNEL
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells_of(src.read_text(encoding="utf-8"))
    for k, cell in enumerate(nb.cells):  # stable ids, so rebuilding an unchanged source changes nothing
        cell["id"] = f"{src.stem[:40]}-{k}"
    out = HERE / f"{src.stem}.ipynb"
    nbformat.validate(nb)
    out.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    names = sys.argv[1:]
    srcs = [HERE / "src" / f"{n}.py" for n in names] if names else sorted((HERE / "src").glob("*.py"))
    for s in srcs:
        print(build(s).relative_to(HERE.parent))
