"""One CPU per worker: a Ray worker process claims a free CPU of its node and pins itself to it.

Ray's `num_cpus=1` only counts CPUs; it does not stop a worker's threads (the AV1 encoder's, the
renderer's) from spreading over every core, so two workers on two cores contend with each other's
encoder threads and a lone worker quietly borrows the idle core. Pinning keeps one worker's work
on one core, which is what `workers=K` promises and what per-core figures assume.

Claims are advisory locks on files in a node-local folder (`flock`, released by the kernel when
the process dies, so a killed worker's CPU is free again at once). CPUs come from the process's
own affinity mask, so containers and `taskset` limits are respected. When every CPU is taken
(more worker processes than CPUs) the worker runs unpinned.
"""

from __future__ import annotations

import logging
import os
import tempfile

log = logging.getLogger(__name__)

_claim: tuple[int, int] | None = None  # (cpu, fd of the held lock file) for this process


def default_lock_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"simfarm-cpus-{uid}")


def pinned_cpu() -> int | None:
    """The CPU this process pinned itself to, if it did."""
    return None if _claim is None else _claim[0]


def pin_to_free_cpu(lock_dir: str | None = None) -> int | None:
    """Claim the lowest free CPU of this process's affinity mask and pin the calling thread to it.

    Threads started afterwards by this thread (encoder, renderer) inherit the pin. Idempotent:
    a process pins once and keeps its CPU. Returns the CPU, or None when none was free or the
    platform cannot pin.
    """
    global _claim
    if _claim is not None:
        return _claim[0]
    if not hasattr(os, "sched_setaffinity"):
        return None
    import fcntl

    lock_dir = lock_dir or default_lock_dir()
    os.makedirs(lock_dir, exist_ok=True)
    for cpu in sorted(os.sched_getaffinity(0)):
        fd = os.open(os.path.join(lock_dir, f"cpu-{cpu}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError as exc:
            os.close(fd)
            log.warning("could not pin worker %d to CPU %d: %s", os.getpid(), cpu, exc)
            return None
        _claim = (cpu, fd)
        return cpu
    log.info("worker %d: every CPU is claimed by another worker; running unpinned", os.getpid())
    return None
