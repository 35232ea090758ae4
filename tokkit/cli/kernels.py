"""`tokkit kernels`: where the training kernels come from, and building the compiled ones ahead of time."""

from __future__ import annotations

import typer

from . import app
from ._common import guarded, print_json
from .options import Json, Quiet

kernels_app = typer.Typer(no_args_is_help=True, help="The training kernels: compiled once (numba pycc) or JIT.")
app.add_typer(kernels_app, name="kernels")


@kernels_app.command("status")
@guarded
def status(as_json: Json = False, quiet: Quiet = False):
    """Show the mode (TOKKIT_KERNELS), the compiled module's path and whether it is built."""
    from ..kernels import aot

    info = aot.status()
    if as_json:
        print_json(info)
        return
    if quiet:
        return
    for k in ("mode", "module", "built", "failure"):
        typer.echo(f"{k:8s} {info[k]}")


@kernels_app.command("build")
@guarded
def build(force: bool = typer.Option(False, "--force", help="Rebuild even if the module exists."),
          as_json: Json = False, quiet: Quiet = False):
    """Compile the training kernels now, e.g. in a Docker image or CI setup step: 1-2 minutes on a quiet
    machine, up to 10 on a busy 2-core one."""
    import time

    from ..kernels import aot

    path = aot.module_path()
    if force:
        path.unlink(missing_ok=True)
    failed = path.with_name(path.name + ".failed")
    failed.unlink(missing_ok=True)  # an explicit build retries a failed one
    t = time.perf_counter()
    aot.build(path, quiet=quiet or as_json)
    seconds = round(time.perf_counter() - t, 1)
    if as_json:
        print_json(dict(module=str(path), seconds=seconds))
    elif not quiet:
        typer.echo(f"built {path} in {seconds:.1f} s")
