"""Worker side: run one shard's episodes, write them, publish the shard, write its marker.

Plain Python, no Ray: the Ray task in `simfarm.farm.execute` is a thin wrapper, so this runs (and
is tested) in any process.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import functools
import importlib
import os
import resource
import shutil
import socket
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from simfarm.errors import ConfigError, EpisodeError
from simfarm.farm.cpus import pinned_cpu
from simfarm.farm.plan import ShardPlan
from simfarm.farm.state import JobStore, new_attempt_id

DEFAULT_RUNNER_FACTORY = "simfarm.rollout:make_episode_runner"


@dataclass(frozen=True)
class ShardTask:
    """Everything a worker needs to produce one shard (plain data: it crosses process boundaries)."""

    output: str
    shard: ShardPlan
    cfg: dict[str, Any]
    config_hash: str
    runner_factory: str = DEFAULT_RUNNER_FACTORY
    worker_env: dict[str, str] = field(default_factory=dict)


@dataclass
class EpisodeRecord:
    """What the job report needs about one episode (the dataset holds the rest)."""

    index: int
    status: str  # "kept" | "dropped" (keep=success, task failed) | "failed" (EpisodeError)
    success: bool = False
    length: int = 0
    wall_time_s: float = 0.0
    error: str | None = None


@dataclass
class ShardResult:
    """A finished shard: the content of its completion marker."""

    shard_index: int
    name: str
    dir: str | None  # published folder relative to the output; None when no episode was kept
    config_hash: str
    attempt: str
    episodes: list[EpisodeRecord]
    host: str
    pid: int
    runner_setup_s: float
    wall_time_s: float
    rss_mib: float = 0.0  # the worker's resident memory after this shard (leak tracking)
    peak_rss_mib: float = 0.0
    cpu: int | None = None  # the CPU the worker pinned itself to (simfarm.farm.cpus), if it did

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ShardResult:
        d = dict(d)
        d["episodes"] = [EpisodeRecord(**e) for e in d["episodes"]]
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# One runner per worker process, reused across shards: it holds the env, its compiled scenes and
# its renderer, which cost far more to build than an episode costs to run.
_RUNNERS: dict[tuple[str, str], Any] = {}


def load_factory(spec: str | Callable) -> Callable:
    """Resolve a "module:attr" runner factory (or pass a callable through)."""
    if callable(spec):
        return spec
    module_name, sep, attr = str(spec).partition(":")
    if not sep:
        raise ConfigError(f"runner factory {spec!r} must be 'module:function'")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"runner factory {spec!r} cannot be imported: {exc}") from exc


def get_runner(factory: str, cfg: dict[str, Any], config_hash: str) -> tuple[Any, float]:
    """This process's runner for (factory, config): built once; returns (runner, setup seconds)."""
    key = (str(factory), config_hash)
    if key in _RUNNERS:
        return _RUNNERS[key], 0.0
    close_runners()  # a worker reused by another job: one runner (one renderer) per process
    t0 = time.perf_counter()
    runner = load_factory(factory)(cfg)
    _RUNNERS[key] = runner
    return runner, time.perf_counter() - t0


def close_runners() -> None:
    """Close this process's runners (renderers must be closed explicitly)."""
    while _RUNNERS:
        _, runner = _RUNNERS.popitem()
        try:
            runner.close()
        except Exception:  # closing at exit must not mask the job's own outcome
            pass


atexit.register(close_runners)


def writer_kind(cfg: dict[str, Any]) -> str:
    writer = cfg.get("writer") or {}
    return str(writer.get("kind", "lerobot")) if isinstance(writer, dict) else str(writer)


def run_shard(task: ShardTask, on_episode: Callable[[EpisodeRecord], None] | None = None) -> ShardResult:
    """Run, write and publish one shard; the marker written last makes it count.

    If the shard already has a marker (a retry of an attempt that did finish), its result is
    returned without running anything, so a shard is never produced twice.
    """
    t0 = time.perf_counter()
    for key, value in task.worker_env.items():
        os.environ.setdefault(key, str(value))
    store = JobStore(task.output)
    name = task.shard.name
    existing = store.read_marker(name)
    if existing is not None:
        return ShardResult.from_dict(existing)
    attempt = new_attempt_id()
    runner, setup_s = get_runner(task.runner_factory, task.cfg, task.config_hash)
    kind = writer_kind(task.cfg)
    keep = task.cfg.get("keep", "all")
    if store.local:
        shard_dir = store.staging_dir(name, attempt)
        tmp_root = None
    else:
        tmp_root = tempfile.mkdtemp(prefix=f"simfarm-{name}-")
        shard_dir = os.path.join(tmp_root, name)
    writer = None
    records: list[EpisodeRecord] = []
    try:
        for index in task.shard.episode_indices:
            te = time.perf_counter()
            try:
                episode = runner.run(index)
            except EpisodeError as exc:
                record = EpisodeRecord(index=index, status="failed", error=_error_text(exc), wall_time_s=time.perf_counter() - te)
            else:
                kept = keep == "all" or episode.success
                record = EpisodeRecord(
                    index=index,
                    status="kept" if kept else "dropped",
                    success=episode.success,
                    length=episode.length,
                )
                if kept and kind != "none":
                    if writer is None:
                        writer = _open_writer(kind, shard_dir, task, episode)
                    writer.add_episode(episode)
                record.wall_time_s = time.perf_counter() - te
            records.append(record)
            if on_episode is not None:
                on_episode(record)
        rel = None
        if writer is not None:
            writer.close()
            writer = None
            rel = store.publish(name, attempt, shard_dir)
        episode = None
        release_free_memory()
        result = ShardResult(
            shard_index=task.shard.index,
            name=name,
            dir=rel,
            config_hash=task.config_hash,
            attempt=attempt,
            episodes=records,
            host=socket.gethostname(),
            pid=os.getpid(),
            runner_setup_s=setup_s,
            wall_time_s=time.perf_counter() - t0,
            rss_mib=current_rss_mib(),
            peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            cpu=pinned_cpu(),
        )
        store.write_marker(name, result.to_dict())
        return result
    finally:
        if writer is not None:
            writer.abort()
        if tmp_root is not None:
            shutil.rmtree(tmp_root, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _glibc():
    """glibc, for its malloc controls; None where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def release_free_memory() -> None:
    """Hand the heap's free pages back to the OS (glibc `malloc_trim`; a no-op elsewhere).

    Every episode allocates and frees tens of MB (a new scene, its frames, their copies); glibc
    keeps the freed memory, fragmented, so a worker's resident memory climbed for its first
    ~150 episodes (393 -> 565 MiB over 120 rollouts in one process) although nothing leaked.
    Trimming after each shard keeps it flat (~240 MiB) for a few ms per shard; trimming after
    every episode would re-fault 20 MB of pages per episode.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


# mallopt parameters (glibc's malloc.h) and the values a worker sets.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
WORKER_MMAP_THRESHOLD = 1 << 20
WORKER_ARENA_MAX = 2


@functools.lru_cache(maxsize=1)
def tune_malloc() -> bool:
    """Keep a long-lived worker's heap from fragmenting (glibc; once per process; False elsewhere).

    `cluster.compact_heap=true` calls this in every worker. Measured in a Ray worker over 600
    episodes, with `malloc_trim` after every shard: the memory malloc hands out stayed flat
    (~200 MiB) while the free memory it kept in its arenas grew from 200 to 400 MiB, and resident
    memory followed it, noisily. Two glibc defaults cause it:
    - the mmap threshold adapts: once a large block (an episode's stacked frames, several MB) is
      freed, blocks up to that size come from the heap, where they leave holes between small ones;
    - every thread that allocates may get its own arena (a Ray worker has ~60 threads).
    A fixed 1 MiB threshold (large blocks are mapped and unmapped, so they never fragment the heap)
    and at most two arenas take a worker's peak RSS from 650-730 to 500-530 MiB and halve the
    spread of its post-shard RSS. The price is page faults: ~35 MB of an episode's buffers are
    mapped afresh each episode (≈ 150 more faults per step), ≈ 2% of a 2-worker job's throughput
    in three interleaved pairs. Growth over 500 episodes was under 5% either way (3.8% tuned, 3.5%
    not), so it is off by default: worth it where memory per core is tight.
    """
    libc = _glibc()
    if libc is None:
        return False
    threshold_set = libc.mallopt(M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD) == 1  # mallopt returns 1 on success
    arenas_set = libc.mallopt(M_ARENA_MAX, WORKER_ARENA_MAX) == 1
    return threshold_set and arenas_set


def current_rss_mib() -> float:
    """This process's resident memory now (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _open_writer(kind: str, shard_dir: str, task: ShardTask, first_episode):
    from simfarm.writers import DatasetSpec, make_shard_writer, spec_options

    writer_cfg = task.cfg.get("writer") or {}
    options = spec_options(writer_cfg) if isinstance(writer_cfg, dict) else {}
    spec = DatasetSpec.from_episode(first_episode, **options)
    return make_shard_writer(kind, shard_dir, spec, task.shard.index)


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if exc.__cause__ is not None and str(exc.__cause__) not in text:
        text += f" (cause: {type(exc.__cause__).__name__}: {exc.__cause__})"
    return text


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc, limit=5))
