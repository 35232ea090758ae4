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
    from . import (  # noqa: F401
        compare,
        corpus,
        count,
        demo,
        eval,
        extend,
        kernels,
        merge,
        premiums,
        sweep,
        train,
        train_native,  # noqa: F401  (after train: the hidden `tokkit train native`)
    )


_register()


def _click_errors():
    """The click exception classes typer raises (typer may carry its own copy of click)."""
    try:
        from typer._click import exceptions as ex
    except ImportError:
        from click import exceptions as ex
    return ex


def main(argv: list[str] | None = None) -> None:
    ex = _click_errors()
    try:
        rv = app(args=argv, prog_name="tokkit", standalone_mode=False)
    except TokkitError as e:  # bad input: one clear line, exit 2, no traceback
        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except ex.UsageError as e:  # a bad flag or value: one line too, with where to look
        if not e.format_message():  # a group called without a verb: its help, as click shows it
            e.show()
            sys.exit(e.exit_code)
        where = f" (see: {e.ctx.command_path} -h)" if e.ctx is not None else ""
        typer.secho(f"error: {e.format_message()}{where}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except ex.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.secho("aborted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
