"""The `tokkit` command: a thin layer over the Python API, one module per verb group."""

from __future__ import annotations

import sys

import typer

from ..errors import TokkitError

app = typer.Typer(name="tokkit", no_args_is_help=True, add_completion=False,
                  help="Tokenizer and sequence-length engineering.",
                  context_settings={"help_option_names": ["-h", "--help"]})


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:  # the installed distribution's version (pyproject.toml)
            typer.echo(f"tokkit {version('tokkit')}")
        except PackageNotFoundError:
            typer.echo("tokkit (not installed: no version)")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print tokkit's version and exit.")) -> None:
    """Tokenizer and sequence-length engineering."""


# `tokkit train <recipe>`: each training recipe registers a subcommand on this group
train_app = typer.Typer(no_args_is_help=True, help="Train tokenizers (byte-level BPE on the native or HF engine, "
                        "character BPE, superword, SentencePiece, parity-aware BPE).")
app.add_typer(train_app, name="train")


def _register() -> None:
    # each verb module adds its commands to `app` when imported
    from . import compare, corpus, count, demo, eval, kernels, merge, premiums, sweep, train  # noqa: F401
    from . import train_native  # noqa: F401  (after train: the hidden `tokkit train native`)


_register()


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=True)
    except TokkitError as e:  # bad input: one clear line, exit 2, no traceback
        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
        sys.exit(2)
