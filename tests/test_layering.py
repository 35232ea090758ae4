"""The package layering of docs/architecture.md, and screen output only in the CLI and the progress hook.

Every import of a tokkit module is checked, including those inside functions: a lazy import that goes
upward is still a cycle in the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "tokkit"

# higher imports lower; equal ranks of different packages do not import each other
RANK = {"kernels": 0, "corpora": 1, "tokenizer": 1, "train": 2, "dynamic": 2, "dist": 2, "analysis": 3, "cli": 4}
# leaf modules any layer may use
LEAVES = {"errors", "_progress", "_atomic", "_memory", "_lazy", "_extras", "_paths", "_chars"}
# where screen output is allowed
SCREEN_OK = {"cli", "_progress"}


def _exports() -> dict[str, str]:
    """tokkit's lazy exports (name -> defining module), read from tokkit/__init__.py without importing it."""
    tree = ast.parse((PKG / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_EXPORTS":
            return ast.literal_eval(node.value)
    return {}


EXPORTS = _exports()


def _modules():
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield f, parts


def _imports(f: Path, parts: list[str]):
    """(line, imported tokkit module path as parts) for every import in the file."""
    tree = ast.parse(f.read_text(encoding="utf-8"))
    package = parts if f.name == "__init__.py" else parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "tokkit":
                    yield node.lineno, a.name.split(".")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
            else:
                target = (node.module or "").split(".")
            if target[0] != "tokkit":
                continue
            if len(target) == 1:  # from tokkit import x: x is a subpackage/module, or a lazy export
                for a in node.names:
                    yield node.lineno, EXPORTS.get(a.name, f"tokkit.{a.name}").split(".")
            else:
                yield node.lineno, target


def _package(parts: list[str]) -> str:
    return parts[1] if len(parts) > 1 else ""


def test_layers_form_a_dag():
    bad = []
    for f, parts in _modules():
        src = _package(parts)
        if src not in RANK:  # tokkit/__init__, __main__ and the leaves themselves
            if src in LEAVES:
                for line, target in _imports(f, parts):
                    if _package(target) not in LEAVES:
                        bad.append(f"{f.relative_to(PKG.parent)}:{line} leaf imports {'.'.join(target)}")
            continue
        for line, target in _imports(f, parts):
            dst = _package(target)
            if dst == src or dst in LEAVES:
                continue
            if dst not in RANK or RANK[dst] >= RANK[src]:
                bad.append(f"{f.relative_to(PKG.parent)}:{line} ({src}) imports {'.'.join(target)}")
    assert not bad, "imports against the layering of docs/architecture.md:\n" + "\n".join(bad)


def _screen_output(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Name) and fn.id == "print":
                yield node.lineno, "print()"
            if (isinstance(fn, ast.Attribute) and fn.attr in ("write", "writelines")
                    and isinstance(fn.value, ast.Attribute) and fn.value.attr in ("stdout", "stderr")
                    and isinstance(fn.value.value, ast.Name) and fn.value.value.id == "sys"):
                yield node.lineno, f"sys.{fn.value.attr}.{fn.attr}"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for n in names:
                if n.split(".")[0] in ("rich", "typer", "tqdm"):
                    yield node.lineno, f"import {n}"


def test_screen_output_only_in_cli_and_progress_hook():
    bad = []
    for f, parts in _modules():
        if _package(parts) in SCREEN_OK:
            continue
        for line, what in _screen_output(ast.parse(f.read_text(encoding="utf-8"))):
            bad.append(f"{f.relative_to(PKG.parent)}:{line} {what}")
    assert not bad, "screen output outside tokkit/cli and tokkit/_progress.py:\n" + "\n".join(bad)


def test_the_checker_sees_an_upward_import(tmp_path):
    # the walk must catch a lazy import inside a function, relative or absolute
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from ..analysis import metrics\n    import tokkit.cli\n    print('x')\n")
    found = [".".join(t) for _, t in _imports(f, ["tokkit", "kernels", "x"])]
    assert found == ["tokkit.analysis", "tokkit.cli"]
    assert [w for _, w in _screen_output(ast.parse(f.read_text()))] == ["print()"]


@pytest.mark.parametrize("package", sorted(RANK))
def test_every_package_exists(package):
    assert (PKG / package / "__init__.py").is_file()
