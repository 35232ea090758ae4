"""When to use triton: only on CUDA tensors, or anywhere under TRITON_INTERPRET=1 (the CPU interpreter that
tests use). Importing triton is deferred so that `import tokkit.kernels.<op>` stays cheap without it."""

from __future__ import annotations

import functools
import os


@functools.lru_cache(maxsize=1)
def triton_available() -> bool:
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception:  # not installed, or installed without a working backend
        return False
    return True


def triton_modules():
    """(triton, triton.language), imported when a kernel is first built."""
    import triton
    import triton.language as tl

    return triton, tl


def triton_kernels(build):
    """A module's triton kernels: `build(triton, tl)` defines them with `@triton.jit` and returns them. The
    decorated name is a function that runs it on first use (importing triton then) and keeps the result."""
    @functools.lru_cache(maxsize=1)
    def kernels():
        return build(*triton_modules())

    return kernels


def block_size(n: int) -> int:
    """The BLOCK constexpr of a kernel's loop over n elements: a power of two, at least 16, at most 1024."""
    import triton

    return min(1024, triton.next_power_of_2(max(n, 16)))


def interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def use_triton(*tensors, backend: str = "auto") -> bool:
    """backend: 'auto' (triton on CUDA tensors), 'triton' (force; CPU tensors need TRITON_INTERPRET=1),
    'torch' (reference)."""
    from ..errors import InputError

    if backend == "torch":
        return False
    if backend not in ("auto", "triton"):
        raise InputError(f"backend must be 'auto', 'triton' or 'torch', not {backend!r}")
    on_cuda = all(t.is_cuda for t in tensors)
    if backend == "triton":
        if not triton_available():
            raise InputError("backend='triton' but triton is not installed (pip install 'tokkit[gpu]')")
        if not on_cuda and not interpreting():
            raise InputError("backend='triton' on CPU tensors needs TRITON_INTERPRET=1 (the triton interpreter)")
        return True
    return on_cuda and triton_available()
