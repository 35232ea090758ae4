"""The training kernels compiled ahead of time, so that a training process does not carry numba.

numba's JIT runtime costs about 150 MB of resident memory before any work (llvmlite's LLVM, numba's type
system, the code of the cached kernels), more than Hugging Face's trainer needs in all on 100 MB of text.
The kernels that training runs (`SPECS`) are therefore compiled once by numba's `pycc` into an ordinary
extension module kept in tokkit's cache folder, keyed by the kernel sources, the numba, numpy and Python
versions and the CPU. A process that finds the module imports it and never imports numba; one that does
not builds it first, in a subprocess (a minute or two, once), or falls back to numba's JIT. `prepare()` does
that at a time the caller chooses (a trainer: before it starts its clocks). Both are silent unless
quiet=False, which shows a notice and an elapsed-time spinner while the compiler runs.

`kernel(name)` returns the compiled function, or the JIT dispatcher under `TOKKIT_KERNELS=jit`, when the
build failed (no C compiler, no Python headers) or for a kernel not in `SPECS`. TOKKIT_KERNELS=aot makes a
failed build an error. The compiled functions check their arguments here (a pycc export trusts its caller:
a wrong dtype would read memory as the wrong type), and release the GIL like the JIT ones.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import operator
import os
import platform
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .._progress import notice, progress
from ..errors import TokkitError

MODULE = "_tokkit_train"

# kernel -> (module under tokkit.kernels, argument types). "const" arrays are only read (declared
# read-only to numba, so a kernel that writes one fails to compile); "[:]" and "[:, :]" are C-contiguous.
SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "line_starts": ("wordcount", ("const uint8[:]", "int64")),
    "utf8_error": ("wordcount", ("const uint8[:]",)),
    "count_into": ("wordcount", ("int64[:, :]", "uint8[:]", "int64[:]", "const uint8[:]", "const int64[:]",
                                 "const int64[:]", "int64", "int64", "int64", "const uint16[:]", "int64")),
    "merge_into": ("wordcount", ("int64[:, :]", "uint8[:]", "int64[:]", "const int64[:, :]", "const uint8[:]",
                                 "int64")),
    "table_words": ("wordcount", ("int64[:, :]", "uint8[:]", "int64[:]", "int64")),
    "bpe_train": ("bpe", ("int32[:]", "const int64[:]", "const int64[:]", "uint8[:]", "int64[:]", "int32[:]",
                          "int64", "int64", "int64", "const int32[:]", "const int32[:]", "int64[:]", "int64")),
    "bpe_train_parity": ("bpe_parity", ("int32[:]", "const int64[:]", "const int64[:]", "const int32[:]",
                                        "const uint8[:]", "int64", "const float64[:]", "uint8[:]", "int64[:]",
                                        "int32[:]", "int64", "int64", "int64", "int64", "int64[:]")),
    "replay_merges": ("replay", ("const uint8[:]", "const int64[:]", "const int32[:]", "const int32[:]",
                                 "const int32[:]", "const int32[:]")),
}
# the files whose text decides what the module holds
SOURCES = ("aot.py", "aot_build.py", "wordcount.py", "counting.py", "pretokenize.py", "split_patterns.py",
           "unicode_table.py", "bpe_core.py", "bpe.py", "bpe_parity.py", "replay.py")

_lock = threading.Lock()
_module = None  # the loaded extension, False when unavailable in this process
_failure: str | None = None


class KernelBuildError(TokkitError):
    """The ahead-of-time kernels could not be built (and TOKKIT_KERNELS=aot asked for them)."""


def parse_type(spec: str) -> tuple[np.dtype, int, bool]:
    """(dtype, ndim (0: scalar), read-only) of a SPECS type."""
    const = spec.startswith("const ")
    name = spec[6:] if const else spec
    ndim = name.count(":")
    return np.dtype(name.split("[")[0]), ndim, const


def _mode() -> str:
    mode = os.environ.get("TOKKIT_KERNELS", "auto").strip().lower() or "auto"
    if mode not in ("auto", "aot", "jit"):
        raise TokkitError(f"TOKKIT_KERNELS={mode!r}: expected auto, aot or jit")
    return mode


def cache_root() -> Path:
    base = os.environ.get("TOKKIT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tokkit")
    return Path(base) / "kernels"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "none"


def _cpu() -> str:
    # the module is compiled for this CPU's instruction set: a shared cache folder must not hand it to another
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith(("flags", "Features", "model name")):
                    return line
    except OSError:
        pass
    return platform.machine() + platform.processor()


def key() -> str:
    """The hash naming this installation's compiled module."""
    h = hashlib.sha256()
    here = Path(__file__).parent
    for name in SOURCES:
        h.update(name.encode() + b"\0" + (here / name).read_bytes())
    for part in (sys.version, _version("numba"), _version("numpy"), platform.platform(), _cpu()):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:20]


def module_path() -> Path:
    return cache_root() / f"train-{key()}{importlib.machinery.EXTENSION_SUFFIXES[0]}"


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(MODULE, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


BUILD_NOTICE = ("compiling tokkit's training kernels (once per installation; 1-2 minutes on a quiet machine, "
                "up to 10 on a busy 2-core one)")


def build(path: Path | None = None, *, quiet: bool = True, timeout: float | None = None) -> Path:
    """Compile the kernels into `path` (default: this installation's module in the cache folder), in a
    subprocess under a file lock, so that concurrent processes build once. Unless quiet, a notice and an
    elapsed-time spinner on stderr. The build runs as long as it takes (a busy machine may need many
    minutes); timeout (seconds) stops it earlier. Raises KernelBuildError."""
    path = Path(path or module_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # no flock (Windows): concurrent builds only waste time, the rename is atomic
            pass
        if path.exists():
            return path
        root = str(Path(__file__).resolve().parents[2])  # the folder holding this tokkit package
        env = dict(os.environ, TOKKIT_KERNELS="jit",
                   PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        notice(BUILD_NOTICE, quiet=quiet)
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "tokkit.kernels.aot_build", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        with progress("compiling kernels", total=None, quiet=quiet):
            while True:
                try:
                    out, err = proc.communicate(timeout=0.5)  # keeps draining the pipes while it waits
                    break
                except subprocess.TimeoutExpired:
                    if timeout is not None and time.monotonic() - start > timeout:
                        proc.kill()
                        proc.communicate()
                        raise KernelBuildError(f"building the kernels took over {timeout:.0f} s") from None
        if proc.returncode != 0 or not path.exists():
            tail = (err or out).strip().splitlines()[-3:]
            raise KernelBuildError("building the kernels failed: " + " | ".join(tail))
    return path


def _load(quiet: bool = True):
    """The extension module, building it if needed; None where the JIT is to be used."""
    global _module, _failure
    with _lock:
        if _module is not None:
            return _module or None
        mode = _mode()
        if mode == "jit":
            _module = False
            return None
        path = module_path()
        failed = Path(str(path) + ".failed")
        try:
            if not path.exists():
                if failed.exists() and mode == "auto":
                    # a build failed here before: do not pay for it again in every process
                    raise KernelBuildError(failed.read_text())
                try:
                    build(path, quiet=quiet)
                except KernelBuildError as e:
                    try:
                        failed.parent.mkdir(parents=True, exist_ok=True)
                        failed.write_text(str(e))
                    except OSError:  # an unwritable cache: the next process will try again
                        pass
                    raise
            _module = _import(path)
            return _module
        except (KernelBuildError, ImportError, OSError) as e:
            _failure = str(e)
            if mode == "aot":
                raise KernelBuildError(f"TOKKIT_KERNELS=aot: {e}") from None
            _module = False
            return None


def _checked(name: str, fn: Callable) -> Callable:
    types = [parse_type(t) for t in SPECS[name][1]]

    def call(*args):
        if len(args) != len(types):
            raise TypeError(f"{name}() takes {len(types)} arguments ({len(args)} given)")
        for k, (arg, (dtype, ndim, const)) in enumerate(zip(args, types)):
            if ndim == 0:
                if dtype.kind == "f":
                    float(arg)
                elif not -(1 << 63) <= operator.index(arg) < (1 << 63):
                    raise OverflowError(f"{name}() argument {k}: {arg} does not fit in int64")
            elif not (isinstance(arg, np.ndarray) and arg.dtype == dtype and arg.ndim == ndim
                      and arg.flags.c_contiguous and (const or arg.flags.writeable)):
                got = f"{arg.dtype}, {arg.ndim}-d" if isinstance(arg, np.ndarray) else type(arg).__name__
                raise TypeError(f"{name}() argument {k}: expected a C-contiguous{'' if const else ' writable'} "
                                f"{dtype} array of {ndim} dimension(s), got {got}")
        return fn(*args)

    call.__name__ = name
    call.__doc__ = f"{name}, compiled ahead of time (see tokkit.kernels.aot)."
    return call


_kernels: dict[str, Callable] = {}


def prepare(*, quiet: bool = True) -> bool:
    """Build (once per installation) and load the compiled kernels now, so that a trainer pays for the
    compile before it starts its clocks, with a notice and a spinner unless quiet. True when the compiled
    kernels are in use; False when numba's JIT runs them (TOKKIT_KERNELS=jit, or a failed build)."""
    return _load(quiet) is not None


def kernel(name: str, *, quiet: bool = True) -> Callable:
    """The kernel `name` of tokkit.kernels.<SPECS[name][0]>: compiled ahead of time when possible (built
    first if needed, quietly unless quiet=False; call `prepare` to do that at a time of your choosing)."""
    fn = _kernels.get(name)
    if fn is None:
        if name not in SPECS:
            raise KeyError(f"no kernel {name!r} (expected one of {', '.join(SPECS)})")
        mod = _load(quiet)
        if mod is not None:
            fn = _checked(name, getattr(mod, name))
        else:
            import importlib

            fn = getattr(importlib.import_module(f"{__package__}.{SPECS[name][0]}"), name)
        _kernels[name] = fn
    return fn


def status() -> dict:
    """Where the kernels come from in this process, for `tokkit kernels`."""
    path = module_path()
    return dict(mode=_mode(), module=str(path), built=path.exists(),
                loaded=bool(_module), failure=_failure or (Path(str(path) + ".failed").read_text()
                                                           if Path(str(path) + ".failed").exists() else None),
                compiler=sysconfig.get_config_var("CC"))
