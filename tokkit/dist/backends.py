"""Two executors behind one function: a local process pool (the embedded default) and Ray (the `dist`
extra). Tasks are (key, function, args); the function must be importable at module level so workers can
unpickle it. A failed task (an exception, or a worker that died) is retried up to `retries` times; each
outcome reaches `on_result` in the driver as soon as it is final, so the caller can persist it at once."""

from __future__ import annotations

import os
import re
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Sequence

from .._extras import require
from ..errors import InputError

Task = tuple[Hashable, Callable[..., Any], Sequence[Any]]


@dataclass
class TaskResult:
    key: Hashable
    ok: bool
    value: Any = None
    error: str | None = None
    attempts: int = 1
    seconds: float = 0.0
    input_error: bool = False   # the task raised InputError: bad input, final at once (never retried)


def check_workers(workers: int | None, *, what: str = "workers") -> int | None:
    """Validate a worker/thread count before any work: None (all cores) or an integer >= 1."""
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise InputError(f"{what} must be a whole number >= 1 (or omitted for all cores), got {workers!r}")
    if workers < 1:
        raise InputError(f"{what} must be at least 1 (or omitted for all cores), got {workers}")
    return workers


def _is_input_error(e: BaseException) -> bool:
    # Ray wraps a task's exception in a RayTaskError that also derives from the cause's class
    return isinstance(e, InputError) or isinstance(getattr(e, "cause", None), InputError)


def _input_message(e: BaseException) -> str:
    cause = getattr(e, "cause", None)
    src = cause if isinstance(cause, InputError) else e
    text = str(src).strip()
    return text.splitlines()[0] if text else type(src).__name__


def _die_with_parent(parent: int) -> None:
    """Workers get SIGKILL when the driver dies (Linux), so a killed sweep leaves no orphan still computing
    (and writing) cells that the next run will compute again. A driver that died before the signal was
    armed is caught by its pid: the worker was already re-parented."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _timed_call(fn, args):
    t = time.perf_counter()
    return fn(*args), time.perf_counter() - t


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _describe(e: BaseException) -> str:
    return _ANSI.sub("", "".join(traceback.format_exception_only(type(e), e)).strip())


def run_tasks(tasks: Iterable[Task], *, backend: str = "local", workers: int | None = None,
              address: str | None = None, retries: int = 2,
              on_result: Callable[[TaskResult], None] | None = None) -> list[TaskResult]:
    """Run every task; return the final outcome of each (in completion order).

    backend: "local" (process pool of `workers`, default all cores) or "ray" (`address` of an existing
    cluster, default a local one with `workers` CPUs). retries: extra attempts after a failure; a task
    that raises InputError (bad input, which a retry cannot fix) is final at once, with input_error=True.
    """
    check_workers(workers)
    tasks = list(tasks)
    keys = [k for k, _, _ in tasks]
    if len(set(keys)) != len(keys):
        raise InputError("task keys must be unique")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InputError(f"retries must be a whole number >= 0, got {retries!r}")
    if not tasks:
        return []
    if backend == "local":
        return _run_local(tasks, workers or os.cpu_count() or 1, retries, on_result)
    if backend == "ray":
        return _run_ray(tasks, workers, address, retries, on_result)
    raise InputError(f"backend={backend!r}: expected 'local' or 'ray'")


def _finish(results, on_result, res: TaskResult) -> None:
    results.append(res)
    if on_result is not None:
        on_result(res)


def _child(conn, parent, fn, args) -> None:
    _die_with_parent(parent)
    t = time.perf_counter()
    try:
        value = fn(*args)
        msg = (True, value, None, time.perf_counter() - t, False)
    except InputError as e:  # bad input: the driver reports it as it is, without retrying
        msg = (False, None, _input_message(e), time.perf_counter() - t, True)
    except BaseException as e:  # noqa: BLE001 - reported to the driver, which decides about retries
        msg = (False, None, _describe(e), time.perf_counter() - t, False)
    try:
        conn.send(msg)
    except Exception as e:  # noqa: BLE001 - e.g. a result that does not pickle
        conn.send((False, None, f"cannot send the result back: {_describe(e)}", msg[3], False))
    conn.close()


def _run_local(tasks, workers, retries, on_result) -> list[TaskResult]:
    """One process per task attempt, at most `workers` at a time: a process that dies (killed, segfault,
    out of memory) is charged to its own task only, which a shared pool cannot tell."""
    import multiprocessing as mp
    from multiprocessing.connection import wait as mp_wait

    # fork where available: spawn re-imports the caller's __main__, which breaks unguarded scripts and
    # notebooks; TOKKIT_MP_START=spawn is the way out for parents that already run threads (e.g. numba's)
    method = os.environ.get("TOKKIT_MP_START") or ("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    ctx = mp.get_context(method)
    spec = {k: (fn, args) for k, fn, args in tasks}
    queue = list(spec)
    attempts = dict.fromkeys(spec, 0)
    running: dict = {}  # key -> (process, receiving end)
    results: list[TaskResult] = []
    try:
        while queue or running:
            while queue and len(running) < workers:
                k = queue.pop(0)
                attempts[k] += 1
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(send, os.getpid(), *spec[k]), daemon=True)
                proc.start()
                send.close()
                running[k] = (proc, recv)
            ready = mp_wait([r for _, r in running.values()] + [p.sentinel for p, _ in running.values()])
            for k in [k for k, (p, r) in running.items() if r in ready or p.sentinel in ready]:
                proc, recv = running.pop(k)
                try:
                    ok, value, error, secs, bad_input = recv.recv()
                except (EOFError, OSError):
                    proc.join()
                    ok, value, error, secs, bad_input = (False, None, f"worker process died (exit code "
                                                         f"{proc.exitcode})", 0.0, False)
                recv.close()
                proc.join()
                if ok:
                    _finish(results, on_result, TaskResult(k, True, value, attempts=attempts[k], seconds=secs))
                elif bad_input:
                    _finish(results, on_result, TaskResult(k, False, error=error, attempts=attempts[k],
                                                           seconds=secs, input_error=True))
                elif attempts[k] <= retries:
                    queue.append(k)
                else:
                    _finish(results, on_result, TaskResult(k, False, error=error, attempts=attempts[k], seconds=secs))
    finally:
        for proc, recv in running.values():  # interrupted (e.g. Ctrl-C): leave no worker behind
            proc.kill()
            proc.join()
            recv.close()
    return results


def _run_ray(tasks, workers, address, retries, on_result) -> list[TaskResult]:
    ray = require("ray", "dist", purpose="for the ray backend")
    if not ray.is_initialized():
        kw: dict[str, Any] = dict(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False)
        if address:
            kw["address"] = address
        elif workers:
            kw["num_cpus"] = workers
        ray.init(**kw)
    remote = ray.remote(max_retries=0)(_timed_call)  # retries are ours, so they are counted and bounded
    spec = {k: (fn, args) for k, fn, args in tasks}
    attempts = dict.fromkeys(spec, 0)
    refs = {}

    def submit(k):
        attempts[k] += 1
        fn, args = spec[k]
        refs[remote.remote(fn, args)] = k

    for k in spec:
        submit(k)
    results: list[TaskResult] = []
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        ref = ready[0]
        k = refs.pop(ref)
        try:
            value, secs = ray.get(ref)
        except Exception as e:  # noqa: BLE001 - RayTaskError, WorkerCrashedError, ...
            if _is_input_error(e):
                _finish(results, on_result, TaskResult(k, False, error=_input_message(e), attempts=attempts[k],
                                                       input_error=True))
            elif attempts[k] <= retries:
                submit(k)
            else:
                _finish(results, on_result, TaskResult(k, False, error=_describe(e)[:2000], attempts=attempts[k]))
            continue
        _finish(results, on_result, TaskResult(k, True, value, attempts=attempts[k], seconds=secs))
    return results
