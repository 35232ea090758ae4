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
