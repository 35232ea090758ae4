"""Build the ahead-of-time kernel module: `python -m tokkit.kernels.aot_build PATH` (run by `aot.build`).

numba's pycc compiles each kernel of `aot.SPECS` from its Python source for the argument types given there
(return types are inferred) into one extension module, for this CPU, with wrappers that release the GIL as
the JIT kernels' `nogil=True` does.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from numba import types
from numba.core.compiler import Flags
from numba.np.numpy_support import from_dtype
from numba.pycc import CC
from numba.pycc import compiler as pycc_compiler

from .aot import MODULE, SPECS, parse_type


class _GilFreeFlags(Flags):
    # pycc builds its flags from this class; its wrappers otherwise hold the GIL, serialising the counting
    # threads
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.release_gil = True


def numba_type(spec: str):
    dtype, ndim, const = parse_type(spec)
    scalar = from_dtype(dtype)
    return types.Array(scalar, ndim, "C", readonly=const) if ndim else scalar


def build(path: Path) -> Path:
    pycc_compiler.Flags = _GilFreeFlags
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=path.parent))
    try:
        cc = CC(MODULE)
        cc.output_dir = str(tmp)
        cc.target_cpu = "host"
        cc.verbose = False
        for name, (module, args) in SPECS.items():
            fn = getattr(importlib.import_module(f"{__package__}.{module}"), name)
            cc.export(name, tuple(numba_type(a) for a in args))(fn.py_func)
        cc.compile()
        built = list(tmp.glob(MODULE + "*"))
        if len(built) != 1:
            raise SystemExit(f"pycc wrote {[p.name for p in built]}, expected one {MODULE} module")
        os.replace(built[0], path)  # atomic: a reader sees no module or a whole one
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tokkit.kernels.aot_build PATH")
    build(Path(sys.argv[1]))
