"""The driver: validate, plan, resume, run shards on Ray, enforce the failure budget, finalize.

Why Ray tasks (with retries) rather than actors: a shard is an idempotent unit of work whose
completion is recorded on storage, so "run it again somewhere else" is the whole recovery story.
Ray re-runs a task whose worker or node died (`max_retries`), places each task on whichever CPU
frees up first (no static assignment, so a slow node never holds the tail), and needs no restart
bookkeeping. What an actor would give us, a long-lived process holding the runner (env, compiled
scenes, renderer), we keep with a per-process runner cache: Ray reuses its worker processes for
tasks of the same job, so each process builds one runner and reuses it for every shard it gets.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simfarm.errors import ConfigError, FarmError, SimfarmError
from simfarm.farm.plan import ShardPlan, ShardPlans, plan_shards
from simfarm.farm.shard import (
    DEFAULT_RUNNER_FACTORY,
    EpisodeRecord,
    ShardResult,
    ShardTask,
    run_shard,
    writer_kind,
)
from simfarm.farm.state import JOB_FILE, JobStore, check_resumable, finish_replacement

log = logging.getLogger(__name__)

# Environment a worker process sets before building its runner: one rendering thread and one BLAS
# thread per worker, since the farm already runs one worker per core (NOTES.md "Threads").
DEFAULT_WORKER_ENV = {"LP_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MUJOCO_GL": "egl"}
DEFAULT_MAX_TASK_RETRIES = 3
# The driver wakes when a shard finishes, and otherwise this often to refresh the live counts
# (workers batch their episode reports once a second, so polling faster shows nothing new).
DRIVER_POLL_S = 1.0
COMPACT_HEAP_DEFAULT = False  # on: peak RSS -25% for ~2% of CPU (benchmarks/README.md, "Memory per worker")


@dataclass
class JobProgress:
    """Counts the driver shows while the job runs (episode granularity)."""

    total: int
    done: int = 0
    kept: int = 0
    dropped: int = 0
    failed: int = 0
    successes: int = 0
    frames: int = 0

    def add(self, record: EpisodeRecord) -> None:
        self.done += 1
        self.frames += record.length
        self.successes += int(record.success)
        if record.status == "kept":
            self.kept += 1
        elif record.status == "dropped":
            self.dropped += 1
        else:
            self.failed += 1

    @property
    def success_rate(self) -> float:
        return self.successes / self.done if self.done else 0.0


@dataclass
class ClusterOptions:
    """The `cluster` config group: where Ray runs and how shards are retried."""

    address: str | None = None
    num_cpus: int | None = None
    runtime_env: dict[str, Any] | None = None
    max_task_retries: int = DEFAULT_MAX_TASK_RETRIES
    worker_env: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_WORKER_ENV))
    include_dashboard: bool = False
    pin_cpus: bool = True  # each worker process pins itself to a free CPU of its node (simfarm.farm.cpus)
    compact_heap: bool = COMPACT_HEAP_DEFAULT  # workers fix glibc's mmap threshold and cap its arenas (shard.tune_malloc)
    oversubscribe: bool = False  # local Ray: allow more workers than this machine's CPUs

    @classmethod
    def from_config(cls, c: dict[str, Any]) -> ClusterOptions:
        raw = dict(c.get("cluster") or {})
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            from simfarm.checks import did_you_mean

            hints = "".join(did_you_mean(k, known) for k in sorted(unknown))
            raise ConfigError(f"cluster has unknown keys {sorted(unknown)}{hints}; accepted: {sorted(known)}")
        env = {**DEFAULT_WORKER_ENV, **{k: str(v) for k, v in (raw.pop("worker_env", None) or {}).items()}}
        opts = cls(**{k: v for k, v in raw.items() if v is not None}, worker_env=env)
        for key in ("pin_cpus", "compact_heap", "oversubscribe"):
            if not isinstance(getattr(opts, key), bool):
                raise ConfigError(f"cluster.{key} must be true or false, got {getattr(opts, key)!r}")
        if isinstance(opts.max_task_retries, bool) or not isinstance(opts.max_task_retries, int) or opts.max_task_retries < 0:
            raise ConfigError(f"cluster.max_task_retries must be an integer >= 0, got {opts.max_task_retries!r}")
        if opts.num_cpus is not None and (isinstance(opts.num_cpus, bool) or not isinstance(opts.num_cpus, int) or opts.num_cpus < 1):
            raise ConfigError(f"cluster.num_cpus must be null or an integer >= 1, got {opts.num_cpus!r}")
        return opts

    @property
    def starts_local_ray(self) -> bool:
        """True when simfarm starts Ray on this machine itself (no address, not inside `ray job submit`)."""
        return self.address is None and not os.environ.get("RAY_ADDRESS")


def versions() -> dict[str, str]:
    """The rollout's versions (simfarm, mujoco, python) plus Ray's."""
    import ray

    from simfarm.rollout import versions as rollout_versions

    return {**rollout_versions(), "ray": ray.__version__}


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 shard', '2 shards' (`many` for irregular plurals)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def prepare_job(cfg) -> tuple[dict[str, Any], str, ShardPlans, ClusterOptions]:
    """Validate everything and plan the shards; raises ConfigError before any process starts.

    The plan is lazy (`ShardPlans`): this costs the same for 10 episodes as for 10**13.
    """
    from simfarm.config import config_hash, to_dict, validate

    c = to_dict(cfg)
    validate(c)
    options = ClusterOptions.from_config(c)
    check_workers_fit(options, int(c.get("workers", 1)))
    shards = plan_shards(c["episodes"], int(c.get("shard_size", 5)))
    return c, config_hash(c), shards, options


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask: containers and `taskset` limits count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def check_workers_fit(options: ClusterOptions, workers: int) -> None:
    """Refuse more workers than CPUs on the local Ray simfarm starts, unless asked for explicitly.

    Oversubscribed workers share cores: every one runs slower and the job is no faster. Asking
    for it (`cluster.oversubscribe=true`, or `cluster.num_cpus=` given) is allowed. A remote
    cluster's CPUs are only known once joined (see `warn_if_cluster_too_small`).
    """
    if not options.starts_local_ray or options.oversubscribe or options.num_cpus is not None:
        return
    cpus = usable_cpus()
    if workers > cpus:
        raise ConfigError(
            f"workers: {workers} is more than the {plural(cpus, 'CPU')} this machine lets simfarm use; "
            f"use workers<={cpus}, or cluster.oversubscribe=true (or cluster.num_cpus=N) to run more workers than CPUs"
        )


def warn_if_cluster_too_small(workers: int) -> None:
    """Once, after joining a cluster: say so when `workers` exceeds its CPUs (fewer shards run at once)."""
    import ray

    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
    except Exception:  # the warning is advice; never fail a job over it
        return
    if workers > cpus:
        log.warning(
            "workers=%d but the Ray cluster has %s: at most %s run at once (the cluster's autoscaler may add more)",
            workers, plural(cpus, "CPU"), plural(cpus, "shard"),
        )


# Ray's notice that it turned token authentication on by default (ray._private.authentication):
# for the local Ray simfarm starts itself it says nothing the user can act on, on every job.
_RAY_AUTH_LOGGER = "ray._private.authentication.authentication_token_setup"
_RAY_AUTH_NOTICE = "Token authentication is enabled for this Ray cluster"


class _DropRayAuthNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_RAY_AUTH_NOTICE)


def init_ray(options: ClusterOptions, workers: int) -> bool:
    """Start or join Ray; returns True when this call started it (and so must shut it down).

    address null: a fresh local Ray with `num_cpus` (default `workers`) CPUs, unless RAY_ADDRESS is
    set (as inside `ray job submit`), which joins that cluster. "auto" or HOST:PORT joins a cluster.
    Token authentication stays as Ray configures it: simfarm never turns it off (for a local Ray it
    only hides Ray's notice that it is on).
    """
    import ray

    if ray.is_initialized():
        return False
    common = {"logging_level": logging.WARNING, "log_to_driver": True, "runtime_env": options.runtime_env}
    if options.starts_local_ray:
        # "local": a fresh Ray for this job even if `ray start` left a cluster on this machine.
        notice = logging.getLogger(_RAY_AUTH_LOGGER)
        quiet = _DropRayAuthNotice()
        notice.addFilter(quiet)
        try:
            ray.init(address="local", num_cpus=options.num_cpus or workers, include_dashboard=options.include_dashboard, **common)
        finally:
            notice.removeFilter(quiet)
    else:
        ray.init(address=options.address, **common)
        warn_if_cluster_too_small(workers)
    return True


class JobInterrupted(FarmError):
    """Ctrl-C stopped a job: the workers were cancelled and Ray shut down; finished shards are kept."""

    def __init__(self, done: int, total: int, resumable: bool = True) -> None:
        self.done, self.total = done, total
        tail = "; run the same command to resume" if resumable else ""
        super().__init__(f"interrupted: {done} of {plural(total, 'episode')} done{tail}")


EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C


class InterruptGuard:
    """Turns the first Ctrl-C (SIGINT) into a flag the driver checks at safe points.

    A KeyboardInterrupt raised inside Ray's own code (`ray.init` starting its processes, a
    `ray.wait`) leaves Ray half started or half stopped: agent processes outlive the driver and
    Ray's C++ core prints a crash dump. So the first Ctrl-C is only recorded; the driver stops at
    its next check (at most `DRIVER_POLL_S` later), cancels the workers and shuts Ray down. A
    second Ctrl-C raises KeyboardInterrupt at once. Only the main thread can take signals: from
    another thread the guard does nothing.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def check(self, done: int, total: int, resumable: bool = True) -> None:
        if self.requested:
            raise JobInterrupted(done, total, resumable)


def prepare_worker(pin_cpu: bool, compact_heap: bool) -> None:
    """Once per worker process (both calls are idempotent): its CPU and its heap settings."""
    if pin_cpu:
        from simfarm.farm.cpus import pin_to_free_cpu

        pin_to_free_cpu()
    if compact_heap:
        from simfarm.farm.shard import tune_malloc

        tune_malloc()


def _make_remote(options: ClusterOptions):
    import ray

    pin, compact = options.pin_cpus, options.compact_heap

    @ray.remote(num_cpus=1, max_retries=options.max_task_retries, retry_exceptions=False)
    def shard_task(task: ShardTask, progress, interval_s: float) -> dict[str, Any]:
        prepare_worker(pin, compact)
        reporter = ProgressReporter(progress, interval_s)
        try:
            return run_shard(task, on_episode=reporter).to_dict()
        finally:
            reporter.flush()

    return shard_task


def progress_interval_s(workers: int) -> float:
    """How often a worker tells the progress actor about its episodes: every second, and less often
    on big clusters so the one actor sees at most ~500 messages per second (32k workers: every 64 s;
    the bar still moves with every finished shard)."""
    return max(1.0, workers / 500.0)


class ProgressReporter:
    """A worker's episode records for the progress actor, sent in batches at most every `interval_s`."""

    def __init__(self, progress, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.progress = progress
        self.interval_s = interval_s
        self.clock = clock
        self.pending: list[tuple[int, str, bool, int]] = []
        self.last = clock()

    def __call__(self, record: EpisodeRecord) -> None:
        self.pending.append((record.index, record.status, record.success, record.length))
        if self.clock() - self.last >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        batch, self.pending, self.last = self.pending, [], self.clock()
        if batch and self.progress is not None:
            try:
                self.progress.report.remote(batch)
            except Exception:  # progress is cosmetic; never fail a shard over it
                pass


class EpisodeTally:
    """Episode records of the shards still running, by shard; finished shards are forgotten.

    The progress actor's state: its size is the episodes in flight, not the job's, and so is the
    snapshot it sends the driver every second (the driver counts finished shards from their
    results). A retried shard's episodes replace its first attempt's (keyed by episode index).
    """

    def __init__(self, shard_size: int) -> None:
        self.shard_size = shard_size
        self.running: dict[int, dict[int, tuple[str, bool, int]]] = {}
        self.finished: set[int] = set()

    def report(self, batch: list[tuple[int, str, bool, int]]) -> None:
        for index, status, success, length in batch:
            shard = index // self.shard_size
            if shard not in self.finished:
                self.running.setdefault(shard, {})[index] = (status, success, length)

    def finish(self, shard_index: int) -> None:
        self.finished.add(shard_index)
        self.running.pop(shard_index, None)

    def counts(self) -> tuple[int, int, int, int, int, int]:
        """(done, kept, dropped, failed, successes, frames) over the running shards' episodes."""
        done = kept = dropped = failed = successes = frames = 0
        for records in self.running.values():
            for status, success, length in records.values():
                done += 1
                frames += length
                successes += int(success)
                kept += status == "kept"
                dropped += status == "dropped"
                failed += status == "failed"
        return done, kept, dropped, failed, successes, frames


def _make_progress_actor(shard_size: int):
    """A tiny actor on the driver's node that workers tell about each finished episode."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    Progress = ray.remote(num_cpus=0, max_restarts=0)(EpisodeTally)
    node = ray.get_runtime_context().get_node_id()
    return Progress.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node, soft=True)).remote(shard_size)


def run_job(
    cfg,
    runner_factory: str | Callable = DEFAULT_RUNNER_FACTORY,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Run a generation job to completion (or resume it); returns the job report (job.json).

    Raises ConfigError before starting anything for a bad config, FarmError when the output is
    finished (and overwrite is false), holds a different job, or the failure budget is spent, and
    JobInterrupted after a Ctrl-C (workers cancelled, Ray shut down, finished shards kept).

    overwrite=true never deletes the finished output first: the new job runs in a sibling
    (`JobStore.replacement`, resumable like any output) and replaces the old one only once it is
    complete (`JobStore.replace_with`; see `simfarm.farm.state.replace_output` for object stores).
    """
    t_start = time.perf_counter()
    c, h, plan, options = prepare_job(cfg)
    store = JobStore(c["output"])
    with InterruptGuard() as guard:
        if finish_replacement(store.fs, store.root, JOB_FILE) and store.is_finished():
            done = store.read_job()
            if done.get("config_hash") == h:
                log.info("%s: the job this command asked for was complete; its interrupted replacement is now finished", store.output)
                return done
        mode = check_resumable(store, c, h, bool(c.get("overwrite", False)))
        target = store
        if mode == "overwrite":
            target = store.replacement()
            log.warning(
                "overwrite=true: writing the new job to %s; it replaces %s once it is complete", target.output, store.output
            )
            mode = check_resumable(target, c, h, overwrite=True)
            if mode == "overwrite":  # a staged job of another config: only ever a replacement, never a finished output
                target.remove_all()
                mode = "new"
        report = _run_job_in(target, mode, c, h, plan, options, runner_factory, show_progress, guard, t_start)
        if target is not store:
            store.replace_with(target)
            log.info("replaced %s with the new job", store.output)
    print_summary(report, file=sys.stderr)
    return report


def _run_job_in(store: JobStore, mode: str, c, h, plan: ShardPlans, options: ClusterOptions, runner_factory, show_progress, guard: InterruptGuard, t_start) -> dict[str, Any]:
    markers = {}
    if mode == "resume":
        markers = {n: m for n, m in store.markers().items() if m.get("config_hash") == h}
    if mode == "resume" or store.exists():
        removed = store.collect_garbage(markers)
        if removed:
            log.info("removed %s left by an interrupted run", plural(len(removed), "unfinished shard folder"))
    if mode != "resume":
        store.write_state({"config_hash": h, "content": _content(c), "config": c, "versions": versions()})
    results: dict[int, ShardResult] = {}
    for m in markers.values():
        r = ShardResult.from_dict(m)
        if r.shard_index < len(plan):
            results[r.shard_index] = r
    workers = int(c.get("workers", 1))
    max_failures = int(c.get("max_failures", 0))
    total_episodes = plan.num_episodes
    n_pending = len(plan) - len(results)
    resumed = JobProgress(total=total_episodes)
    for r in results.values():
        for e in r.episodes:
            resumed.add(e)
    if resumed.failed > max_failures and n_pending:
        raise FarmError(
            f"the finished shards already hold {plural(resumed.failed, 'failed episode')}, more than "
            f"max_failures={max_failures}; resume with a larger max_failures (e.g. "
            f"max_failures={resumed.failed + 10}) to finish the job"
        )
    log.info(
        "job %s: %s in %s of %d; %s already finished, %d to run on %s",
        h, plural(total_episodes, "episode"), plural(len(plan), "shard"), plan.shard_size,
        plural(len(results), "shard"), n_pending, plural(workers, "worker"),
    )

    t_run0 = time.perf_counter()
    ray_init_s = 0.0
    now = JobProgress(total=total_episodes)
    ran_now: list[ShardResult] = []
    if n_pending:
        started = False
        try:
            t0 = time.perf_counter()
            started = init_ray(options, workers)
            ray_init_s = time.perf_counter() - t0
            guard.check(resumed.done, total_episodes)
            t_run0 = time.perf_counter()
            pending = (s for s in plan if s.index not in results)
            _run_pending(c, h, store, pending, n_pending, plan.shard_size, options, runner_factory, workers, max_failures,
                         results, ran_now, resumed, now, show_progress, guard)
        finally:
            if started:
                import ray

                ray.shutdown()
    run_s = time.perf_counter() - t_run0

    # Every shard is done: from here on a Ctrl-C waits: finalize, job.json and the swap are short, and a half-made
    # dataset is worth less than the seconds they take.
    t0 = time.perf_counter()
    ordered = [results[s.index] for s in plan]
    shard_dirs = [store.path(r.dir) for r in ordered if r.dir]
    kind = writer_kind(c)
    if kind != "none" and shard_dirs:
        from simfarm.writers import finalize

        finalize(kind, store.root, shard_dirs, fs=store.fs)
    finalize_s = time.perf_counter() - t0
    report = _job_report(c, h, ordered, ran_now, now, resumed, workers, run_s, ray_init_s, finalize_s, t_start)
    store.write_job(report)
    if store.local:
        store.collect_garbage({r.name: r.to_dict() for r in ordered})
    return report


def _run_pending(c, h, store, pending: Iterator[ShardPlan], n_pending: int, shard_size: int, options, runner_factory, workers,
                 max_failures, results, ran_now, resumed, now, show_progress, guard: InterruptGuard):
    """Keep `workers` shards in flight until every pending shard is done (pending is consumed lazily)."""
    import ray

    shard_task = _make_remote(options)
    progress = _make_progress_actor(shard_size)
    factory = runner_factory if isinstance(runner_factory, str) else f"{runner_factory.__module__}:{runner_factory.__qualname__}"
    interval_s = progress_interval_s(workers)
    in_flight: dict[Any, ShardPlan] = {}
    bar = make_progress("generate", resumed.total, resumed.done, show_progress)
    queue_done = False
    try:
        while True:
            while not queue_done and len(in_flight) < workers:
                shard = next(pending, None)
                if shard is None:
                    queue_done = True
                    break
                task = ShardTask(
                    output=store.output if not store.local else store.root,
                    shard=shard,
                    cfg=c,
                    config_hash=h,
                    runner_factory=factory,
                    worker_env=options.worker_env,
                )
                in_flight[shard_task.remote(task, progress, interval_s)] = shard
            if not in_flight:
                break
            guard.check(resumed.done + now.done, resumed.total)
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=DRIVER_POLL_S)
            for ref in ready:
                shard = in_flight.pop(ref)
                result = _shard_result(ref, shard, options)
                results[shard.index] = result
                ran_now.append(result)
                for e in result.episodes:
                    now.add(e)
                progress.finish.remote(shard.index)
            live = _live_counts(progress, now)
            bar.show(resumed.done + live.done, resumed.successes + live.successes, resumed.failed + live.failed)
            failed = resumed.failed + live.failed
            if failed > max_failures:
                raise FarmError(_budget_message(store, failed, max_failures, results, resumed, now))
    except BaseException:
        for ref in in_flight:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # already finished or its worker already gone
                pass
        raise
    finally:
        bar.close()
        try:
            ray.kill(progress)
        except Exception:
            pass


def _shard_result(ref, shard: ShardPlan, options: ClusterOptions) -> ShardResult:
    """A finished shard's result; a worker's error becomes one line naming the shard."""
    import ray

    episodes = f"episodes {shard.first_episode}..{shard.first_episode + shard.num_episodes - 1}"
    try:
        return ShardResult.from_dict(ray.get(ref))
    except ray.exceptions.RayError as exc:
        raise worker_error(exc, f"{shard.name} ({episodes})", options.max_task_retries) from None


def worker_error(exc: BaseException, what: str, max_task_retries: int = 0, resumable: bool = True) -> SimfarmError:
    """One-line error for a Ray task that failed: `what` names the work (a shard, an episode).

    A user's error found only in a worker (e.g. a camera the scene lacks, at its first build)
    keeps its class and message, as if the driver had found it; another error in a worker is
    logged with its traceback and named by its first line; a lost worker or node says to re-run.
    """
    from ray.exceptions import RayTaskError

    if isinstance(exc, RayTaskError):
        cause = getattr(exc, "cause", None) or exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        if isinstance(cause, SimfarmError):
            kind = ConfigError if isinstance(cause, ConfigError) else FarmError
            return kind(f"{first} (found by a worker running {what})")
        log.error("%s failed in a worker:\n%s", what, exc)
        return FarmError(f"{what} failed in a worker: {type(cause).__name__}: {first}")
    first = (str(exc).strip().splitlines() or [""])[0]
    again = "re-run the same command to resume" if resumable else "re-run the same command"
    return FarmError(
        f"{what} was lost {plural(max_task_retries + 1, 'time')} ({type(exc).__name__}: {first}); "
        f"{again}, or raise cluster.max_task_retries"
    )


def _live_counts(progress, now: JobProgress) -> JobProgress:
    """Episode-level counts for this run: finished shards' results plus the running shards' episodes."""
    import ray

    try:
        done, kept, dropped, failed, successes, frames = ray.get(progress.counts.remote(), timeout=2.0)
    except Exception:
        return now
    return JobProgress(
        total=now.total, done=now.done + done, kept=now.kept + kept, dropped=now.dropped + dropped,
        failed=now.failed + failed, successes=now.successes + successes, frames=now.frames + frames,
    )


# -- progress display ---------------------------------------------------------------------------

PROGRESS_LINE_EVERY_S = 5.0


def make_progress(desc: str, total: int, initial: int, show: bool, file=None):
    """A live bar on a terminal; plain lines every few seconds when stderr goes to a log; nothing if not `show`."""
    file = file or sys.stderr
    if not show:
        return NoProgress()
    isatty = getattr(file, "isatty", None)
    if isatty is not None and isatty():
        return ProgressBar(desc, total, initial, file)
    return ProgressLines(desc, total, initial, file)


class NoProgress:
    def show(self, done: int, successes: int, failed: int) -> None:
        pass

    def close(self) -> None:
        pass


class ProgressBar:
    """tqdm's live bar (carriage returns redraw one line: for terminals only)."""

    def __init__(self, desc: str, total: int, initial: int, file) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=initial, unit="ep", file=file, mininterval=0.5, dynamic_ncols=True, desc=desc)

    def show(self, done: int, successes: int, failed: int) -> None:
        # Postfix first: update() redraws the bar, which should show the counts it moved for.
        self.bar.set_postfix(success=f"{successes / done:.0%}" if done else "-", failed=failed, refresh=False)
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def format_duration(seconds: float) -> str:
    """'52 s', '14 min', '3.2 h', '12 days' (an ETA is an estimate: no false precision)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


class ProgressLines:
    """One plain line every `every_s` seconds and a last one at close, for logs (no carriage returns).

        generate: 40/200 episodes (20%), 3.1 ep/s, ETA 52 s, success 95%, failed 0
    """

    def __init__(self, desc: str, total: int, initial: int, file, every_s: float = PROGRESS_LINE_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.desc, self.total, self.initial, self.file = desc, total, initial, file
        self.every_s, self.clock = every_s, clock
        self.t0 = self.last_t = clock()
        self.state = (initial, 0, 0)
        self.printed: tuple[int, int, int] | None = None

    def show(self, done: int, successes: int, failed: int) -> None:
        self.state = (done, successes, failed)
        if self.clock() - self.last_t >= self.every_s:
            self._print()

    def close(self) -> None:
        if self.printed != self.state and self.state[0] > self.initial:
            self._print()

    def line(self) -> str:
        done, successes, failed = self.state
        elapsed = self.clock() - self.t0
        rate = (done - self.initial) / elapsed if elapsed > 0 else 0.0
        eta = format_duration((self.total - done) / rate) if rate > 0 else "-"
        pct = f"{done / self.total:.0%}" if self.total else "-"
        success = f"{successes / done:.0%}" if done else "-"
        return (f"{self.desc}: {done}/{self.total} episodes ({pct}), {rate:.1f} ep/s, ETA {eta}, "
                f"success {success}, failed {failed}")

    def _print(self) -> None:
        print(self.line(), file=self.file, flush=True)
        self.printed, self.last_t = self.state, self.clock()


def _budget_message(store, failed, max_failures, results, resumed, now) -> str:
    """One line: how many failed, what is kept, the first errors, and how to go on."""
    errors = []
    for r in sorted(results.values(), key=lambda r: r.shard_index):
        errors += [f"episode {e.index}: {(str(e.error).splitlines() or [''])[0]}" for e in r.episodes if e.status == "failed"]
        if len(errors) >= 3:
            break
    finished = len(results)
    return (
        f"failure budget spent: {plural(failed, 'episode')} failed, more than max_failures={max_failures}; "
        f"job stopped; {plural(finished, 'shard')} {'is' if finished == 1 else 'are'} finished and kept in {store.output}; "
        f"first errors: {'; '.join(errors[:3]) or '(in shards still running)'}; "
        f"fix the cause, or re-run the same command with max_failures={failed + 10} to finish the job"
    )


def _content(c: dict[str, Any]) -> dict[str, Any]:
    from simfarm.config import NON_CONTENT_KEYS

    return {k: v for k, v in c.items() if k not in NON_CONTENT_KEYS}


def _job_report(c, h, ordered: list[ShardResult], ran_now: list[ShardResult], now: JobProgress, resumed: JobProgress, workers, run_s, ray_init_s, finalize_s, t_start) -> dict[str, Any]:
    total = JobProgress(total=now.total)
    failures = []
    for r in ordered:
        for e in r.episodes:
            total.add(e)
            if e.status == "failed":
                failures.append({"episode_index": e.index, "shard": r.name, "error": e.error})
    ran = total.done - resumed.done
    return {
        "config": c,
        "config_hash": h,
        "output": c["output"],
        "workers": workers,
        "episodes": {
            "planned": total.total,
            "kept": total.kept,
            "dropped": total.dropped,
            "failed": total.failed,
            "frames_kept": sum(e.length for r in ordered for e in r.episodes if e.status == "kept"),
            "run_this_session": ran,
            "resumed_from_earlier_runs": resumed.done,
        },
        "success_rate": total.successes / total.done if total.done else 0.0,
        "success_rate_of_completed": total.successes / (total.done - total.failed) if total.done > total.failed else 0.0,
        "failures": failures,
        "shards": {"total": len(ordered), "run_this_session": len(ran_now), "resumed": len(ordered) - len(ran_now)},
        "timings": {
            "ray_init_s": ray_init_s,
            "run_s": run_s,
            "finalize_s": finalize_s,
            "total_s": time.perf_counter() - t_start,
        },
        "throughput": {
            "episodes_per_s": ran / run_s if run_s > 0 and ran else 0.0,
            "frames_per_s": now.frames / run_s if run_s > 0 and ran else 0.0,
            "episodes_per_hour_per_worker": 3600.0 * ran / run_s / workers if run_s > 0 and ran else 0.0,
        },
        "utilization": worker_utilization(ran_now, workers, run_s),
        "memory": worker_memory(ordered),
        "versions": versions(),
    }


def worker_utilization(ran_now: list[ShardResult], workers: int, run_s: float) -> dict[str, Any]:
    """How much of the run the workers spent inside shards, and how fast each was while it did.

    `busy_share` is the shards' summed wall time over workers x run time: what is missing went to
    starting worker processes, the driver's scheduling and the job's tail (workers idle while the
    last shards finish). `frames_per_busy_s` per process is the worker's own speed, so a scaling
    loss can be told apart from a scheduling loss.
    """
    procs: dict[str, dict[str, Any]] = {}
    for r in ran_now:
        p = procs.setdefault(f"{r.host}:{r.pid}", {"shards": 0, "busy_s": 0.0, "frames": 0, "runner_setup_s": 0.0})
        p["shards"] += 1
        p["busy_s"] += r.wall_time_s
        p["frames"] += sum(e.length for e in r.episodes)
        p["runner_setup_s"] += r.runner_setup_s
    for p in procs.values():
        p["frames_per_busy_s"] = p["frames"] / p["busy_s"] if p["busy_s"] > 0 else 0.0
    busy = sum(p["busy_s"] for p in procs.values())
    return {
        "busy_share": busy / (workers * run_s) if workers and run_s > 0 else 0.0,
        "per_process": procs,
    }


def memory_growth_pct(rss_mib: list[float]) -> float:
    """Growth over a series of RSS samples in percent: Theil-Sen slope x span / median (0 for < 2)."""
    y = np.asarray(rss_mib, dtype=np.float64)
    if y.size < 2:
        return 0.0
    # All pairs is O(n^2): a worker of a very long job (thousands of shards) is judged on at most
    # MAX_TREND_SAMPLES evenly spaced shards, at their own positions.
    x = np.linspace(0, y.size - 1, min(y.size, MAX_TREND_SAMPLES)).round().astype(int)
    i, j = np.triu_indices(x.size, k=1)
    slope = float(np.median((y[x[j]] - y[x[i]]) / (x[j] - x[i])))
    return 100.0 * slope * (y.size - 1) / float(np.median(y))


MAX_TREND_SAMPLES = 400


def worker_memory(ordered: list[ShardResult]) -> dict[str, Any]:
    """Per worker process: resident memory after each shard (MiB), its peak, and its growth once warm.

    RSS is taken after the shard's `release_free_memory()`, so it is what the worker really holds;
    it still varies by ±10% with the size of the scenes a shard ran, and a worker's first shards
    also warm caches up. So `growth_after_warmup_pct` is the trend, not two samples: the
    Theil-Sen slope (median of the slopes between every pair of shards, which a few large scenes
    cannot tilt) over the shards after the first fifth, times their span, as a percentage of their
    median. A leak of x% over the run reads as about x%; flat memory with noise reads near 0.
    """
    procs: dict[str, dict[str, Any]] = {}
    for r in sorted(ordered, key=lambda r: (r.host, r.pid, r.shard_index)):  # queue order ~ run order
        if not r.rss_mib:
            continue
        p = procs.setdefault(f"{r.host}:{r.pid}", {"shards": 0, "cpu": r.cpu, "rss_mib_by_shard": [], "peak_rss_mib": 0.0})
        p["shards"] += 1
        p["rss_mib_by_shard"].append(round(r.rss_mib, 1))
        p["peak_rss_mib"] = max(p["peak_rss_mib"], r.peak_rss_mib)
    for p in procs.values():
        rss = p["rss_mib_by_shard"]
        p["first_rss_mib"], p["last_rss_mib"] = rss[0], rss[-1]
        fifth = max(1, len(rss) // 5)
        p["warm_rss_mib"] = float(np.median(rss[2 * fifth : 3 * fifth] or rss[:1]))
        p["end_rss_mib"] = float(np.median(rss[-fifth:]))
        p["growth_after_warmup_pct"] = memory_growth_pct(rss[fifth:])
    return {
        "peak_rss_mib_max": max((p["peak_rss_mib"] for p in procs.values()), default=0.0),
        "per_process": procs,
    }


def print_summary(report: dict[str, Any], file=sys.stderr) -> None:
    """The final table a user reads after `simfarm generate`."""
    ep = report["episodes"]
    tp = report["throughput"]
    tm = report["timings"]
    rows = [
        ("output", report["output"]),
        ("config hash", report["config_hash"]),
        ("episodes planned", ep["planned"]),
        ("kept / dropped / failed", f"{ep['kept']} / {ep['dropped']} / {ep['failed']}"),
        ("run now / resumed", f"{ep['run_this_session']} / {ep['resumed_from_earlier_runs']}"),
        ("success rate", f"{report['success_rate']:.1%}"),
        ("frames kept", ep["frames_kept"]),
        ("workers", report["workers"]),
        ("episodes/s", f"{tp['episodes_per_s']:.2f}"),
        ("frames/s", f"{tp['frames_per_s']:.1f}"),
        ("workers busy", f"{report['utilization']['busy_share']:.0%} of the run (the rest: worker start, scheduling, the job's tail)"),
        ("wall time", f"{tm['total_s']:.1f} s (ray init {tm['ray_init_s']:.1f} s, run {tm['run_s']:.1f} s, finalize {tm['finalize_s']:.1f} s)"),
    ]
    width = max(len(k) for k, _ in rows)
    print("simfarm generate: done", file=file)
    for k, v in rows:
        print(f"  {k:<{width}}  {v}", file=file)
    for f in report["failures"][:5]:
        print(f"  failed episode {f['episode_index']}: {f['error']}", file=file)
