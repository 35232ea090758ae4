"""Write docs/cli.md, the CLI reference, from the typer app itself (every visible verb and flag).

    python docs/gen_cli.py            # rewrite docs/cli.md
    python docs/gen_cli.py --check    # exit 1 when docs/cli.md is stale (the tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tokkit.cli import app  # noqa: E402

HEADER = """# CLI reference

Generated from the `tokkit` command by `python docs/gen_cli.py`; every flag means the same on every verb (the
vocabulary is in [Architecture](architecture.md)). `tokkit VERB -h` prints the same on the terminal.
"""


def _walk(cmd, path):
    if getattr(cmd, "hidden", False):
        return
    if hasattr(cmd, "commands"):
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], path + [name])
    else:
        yield path, cmd


def _row(p, ctx) -> str:
    names = ", ".join(f"`{o}`" for o in list(p.opts) + list(getattr(p, "secondary_opts", [])))
    shown = str(p.display_type(ctx)).lower().strip("<>").replace("list[", "").rstrip("]")
    kind = "argument" if p.param_type_name == "argument" else ("flag" if getattr(p, "is_flag", False) else shown)
    if getattr(p, "multiple", False) or (p.param_type_name == "argument" and p.nargs == -1):
        kind += ", repeatable"
    default = p.default if p.default not in (None, False, [], ()) and not callable(p.default) else ""
    help_ = " ".join((getattr(p, "help", None) or "").split()).replace("|", "\\|")
    return f"| {names} | {kind} | {default if default != '' else ''} | {help_} |"


def render() -> str:
    root = typer.main.get_command(app)
    out = [HEADER]
    for path, cmd in _walk(root, ["tokkit"]):
        out.append(f"## `{' '.join(path)}`\n")
        doc = " ".join((cmd.help or "").split())
        if doc:
            out.append(doc + "\n")
        params = [p for p in cmd.params if not getattr(p, "hidden", False) and p.name != "help"]
        if params:
            ctx = cmd.make_context(path[-1], [], resilient_parsing=True)
            out.append("| flag | kind | default | meaning |\n|---|---|---|---|")
            out.extend(_row(p, ctx) for p in params)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv=None) -> int:
    text = render()
    target = HERE / "cli.md"
    if "--check" in (argv or sys.argv[1:]):
        return 0 if target.exists() and target.read_text(encoding="utf-8") == text else 1
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
