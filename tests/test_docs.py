"""The README and the docs stay true: every `tokkit` command in them parses with the CLI as it is (verbs
and flags exist, values have the right types), and the README's Python snippets run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import typer

try:  # typer may carry its own copy of click
    from typer._click.exceptions import UsageError as _TyperUsageError
    USAGE_ERRORS: tuple = (click.UsageError, _TyperUsageError)
except ImportError:
    USAGE_ERRORS = (click.UsageError,)

from tokkit.cli import app

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _blocks(path: Path, lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(path.read_text(encoding="utf-8")) if kind == lang]


def _commands(path: Path) -> list[str]:
    """The `tokkit ...` lines of a page's bash blocks, with continuation lines joined and comments cut."""
    out = []
    for body in _blocks(path, "bash"):
        for line in body.replace("\\\n", " ").splitlines():
            for part in re.split(r"&&|;", line):
                part = part.split(" #")[0].strip()
                if part.startswith("tokkit "):
                    out.append(part)
    return out


def _parse(argv: list[str]) -> list[str]:
    """Parse argv as `tokkit` would, down to the verb, without running it; the deprecated (hidden) verbs
    and flags it uses."""
    cmd = typer.main.get_command(app)  # typer's own click: a group is what has subcommands
    ctx = cmd.make_context("tokkit", list(argv), resilient_parsing=False)
    old = []
    while hasattr(cmd, "resolve_command"):
        name, sub, rest = cmd.resolve_command(ctx, list(getattr(ctx, "_protected_args", [])) + list(ctx.args))
        if sub.hidden:
            old.append(name)
        cmd = sub
        ctx = sub.make_context(name, rest, parent=ctx)
    hidden = {o for p in cmd.params if getattr(p, "hidden", False) for o in p.opts}
    old += [a.split("=")[0] for a in argv if a.split("=")[0] in hidden]
    return old


CASES = [(p, c) for p in PAGES for c in _commands(p)]


def test_the_pages_hold_commands():
    assert len(CASES) >= 20
    assert any(p.name == "README.md" for p, _ in CASES)


@pytest.mark.parametrize("page,command", CASES, ids=[f"{p.name}:{c[:60]}" for p, c in CASES])
def test_every_documented_command_parses(page, command):
    argv = shlex.split(command, posix=True)[1:]
    argv = [a.replace("$D", "domain") for a in argv]
    try:
        old = _parse(argv)
    except USAGE_ERRORS as e:
        pytest.fail(f"{page.name}: `{command}` does not parse: {e}")
    assert not old, f"{page.name}: `{command}` uses deprecated spellings: {', '.join(old)}"


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.encode()) <= 10 * 1024
    for part in ("## Quickstart", "python -m pytest", "## Verbs", "docs/"):
        assert part in text


def test_readme_python_snippets_run(tmp_path, monkeypatch, data_dir, tokenizers_dir):
    """Each Python block of the README runs as written, in order, in one namespace; a block that uses the
    artifact of the training command before it gets that artifact from a small training of the same recipe."""
    import tokkit

    monkeypatch.chdir(tmp_path)
    blocks = _blocks(ROOT / "README.md", "python")
    assert blocks
    if any("legal-32k" in b for b in blocks):  # the command above it trains this folder on 121M characters
        texts = [t for t in tokkit.read_documents(data_dir / "domain" / "legal", max_documents=200).texts()]
        tokkit.train(texts, recipe="bpe", vocab_size=2048, out="legal-32k")
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)


def test_cli_reference_is_generated_and_current():
    """docs/cli.md is written by docs/gen_cli.py from the typer app: a verb or flag changed without
    regenerating it fails here (run `python docs/gen_cli.py`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_cli", ROOT / "docs" / "gen_cli.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.main(["--check"]) == 0, "docs/cli.md is stale: run python docs/gen_cli.py"


def test_site_builds_strict(tmp_path):
    """The documentation site builds with --strict (a broken link or a missing API reference fails), offline."""
    import shutil
    import subprocess
    import sys

    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
    pytest.importorskip("mkdocstrings")
    exe = shutil.which("mkdocs") or f"{sys.executable} -m mkdocs"
    p = subprocess.run(exe.split() + ["build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                       capture_output=True, text=True, env=dict(__import__("os").environ, NO_MKDOCS_2_WARNING="1"))
    assert p.returncode == 0, p.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "index.html").is_file()


# --- the API reference: generated, complete, and every public name documented with Args / Returns ---------------

def _load_doc_script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _returns_value(fn) -> bool:
    """Whether a function returns something other than None: from its annotation, else from its source."""
    import ast
    import inspect
    import textwrap

    ann = inspect.signature(fn).return_annotation
    if ann is not inspect.Signature.empty:
        return ann not in (None, "None", "NoReturn", "Never")
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0]
    nested = {id(n) for f in ast.walk(body) if f is not body and isinstance(f, (ast.FunctionDef, ast.Lambda,
              ast.AsyncFunctionDef, ast.ClassDef)) for n in ast.walk(f)}
    return any(isinstance(n, (ast.Return, ast.Yield, ast.YieldFrom)) and id(n) not in nested
               and getattr(n, "value", None) is not None
               and not (isinstance(n.value, ast.Constant) and n.value.value is None) for n in ast.walk(body))


def _doc_problems(obj, label: str) -> list[str]:
    """What a public function, class or method lacks: a docstring, `Args:` when it takes parameters (a class:
    its constructor's; `Attributes:` also counts for a dataclass), `Returns:` (or `Yields:`) when it returns a
    value."""
    import inspect

    doc = obj is not None and obj.__doc__ and inspect.cleandoc(obj.__doc__)
    if not doc:
        return [f"{label}: no docstring"]
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    if inspect.isclass(obj) and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        params = []  # an inherited (*args, **kwargs) constructor: nothing to document
    out = []
    if params and "Args:" not in doc and not (inspect.isclass(obj) and "Attributes:" in doc):
        out.append(f"{label}: no Args: section ({', '.join(p.name for p in params)})")
    if inspect.isfunction(obj) and _returns_value(obj) and "Returns:" not in doc and "Yields:" not in doc:
        out.append(f"{label}: no Returns: section")
    return out


def _public_objects():
    """(label, object) for every public function and class of the five documented packages, and every public
    method a public class defines."""
    import importlib
    import inspect

    gen = _load_doc_script("gen_reference")
    seen, out = set(), []
    for package in gen.PACKAGES:
        for name in gen.public_names(package):
            obj = inspect.unwrap(getattr(importlib.import_module(package), name))
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((f"{package}.{name}", obj))
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    if isinstance(value, property):  # a property needs a docstring, no sections
                        if not (value.fget and value.fget.__doc__):
                            out.append((f"{package}.{name}.{attr}", None))
                    elif inspect.isfunction(value):
                        out.append((f"{package}.{name}.{attr}", value))
    return out


def test_reference_is_generated_and_current():
    """docs/reference.md is written by docs/gen_reference.py from the packages' public names: a name added
    without regenerating it fails here (run `python docs/gen_reference.py`)."""
    assert _load_doc_script("gen_reference").main(["--check"]) == 0, \
        "docs/reference.md is stale: run python docs/gen_reference.py"


def test_every_public_name_is_in_the_reference():
    import importlib
    import inspect

    gen = _load_doc_script("gen_reference")
    directives = set(re.findall(r"^::: (\S+)$", (ROOT / "docs" / "reference.md").read_text(), re.M))
    missing = [f"{p}.{n}" for p in gen.PACKAGES for n in gen.public_names(p) if gen.home(p, n) not in directives]
    assert not missing, f"not in docs/reference.md: {missing}"
    # and each directive names something that exists
    for path in directives:
        mod, _, name = path.rpartition(".")
        while mod:
            try:
                obj = importlib.import_module(mod)
                break
            except ImportError:
                mod, _, outer = mod.rpartition(".")
                name = f"{outer}.{name}"
        for part in name.split("."):
            obj = getattr(obj, part)
        assert not inspect.ismodule(obj), path


def test_every_public_name_has_args_and_returns():
    """Google-style docstrings on every public function, class and method of tokkit, tokkit.corpora,
    tokkit.analysis, tokkit.dynamic and tokkit.train: Args when it takes parameters, Returns when it returns."""
    objects = _public_objects()
    assert len(objects) > 100
    problems = [p for label, obj in objects for p in _doc_problems(obj, label)]
    assert not problems, f"{len(problems)} docstring problems:\n" + "\n".join(problems)
