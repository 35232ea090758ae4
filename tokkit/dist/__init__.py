"""Running many independent tasks (sweep cells, counting shards) on a local process pool or a Ray cluster,
with bounded retries and results handed to the driver as each task finishes."""

from .backends import TaskResult, check_workers, run_tasks

__all__ = ["TaskResult", "check_workers", "run_tasks"]
