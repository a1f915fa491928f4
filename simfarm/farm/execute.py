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
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simfarm.errors import FarmError
from simfarm.farm.plan import ShardPlan, plan_shards
from simfarm.farm.shard import (
    DEFAULT_RUNNER_FACTORY,
    EpisodeRecord,
    ShardResult,
    ShardTask,
    run_shard,
    writer_kind,
)
from simfarm.farm.state import JobStore, check_resumable

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

    @classmethod
    def from_config(cls, c: dict[str, Any]) -> ClusterOptions:
        raw = dict(c.get("cluster") or {})
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            from simfarm.errors import ConfigError

            raise ConfigError(f"cluster has unknown keys {sorted(unknown)}; accepted: {sorted(known)}")
        env = {**DEFAULT_WORKER_ENV, **{k: str(v) for k, v in (raw.pop("worker_env", None) or {}).items()}}
        opts = cls(**{k: v for k, v in raw.items() if v is not None}, worker_env=env)
        for key in ("pin_cpus", "compact_heap"):
            if not isinstance(getattr(opts, key), bool):
                from simfarm.errors import ConfigError

                raise ConfigError(f"cluster.{key} must be true or false, got {getattr(opts, key)!r}")
        if not isinstance(opts.max_task_retries, int) or opts.max_task_retries < 0:
            from simfarm.errors import ConfigError

            raise ConfigError(f"cluster.max_task_retries must be an integer >= 0, got {opts.max_task_retries!r}")
        return opts


def versions() -> dict[str, str]:
    """The rollout's versions (simfarm, mujoco, python) plus Ray's."""
    import ray

    from simfarm.rollout import versions as rollout_versions

    return {**rollout_versions(), "ray": ray.__version__}


def prepare_job(cfg) -> tuple[dict[str, Any], str, list[ShardPlan], ClusterOptions]:
    """Validate everything and plan the shards; raises ConfigError before any process starts."""
    from simfarm.config import config_hash, to_dict, validate

    c = to_dict(cfg)
    validate(c)
    options = ClusterOptions.from_config(c)
    shards = plan_shards(c["episodes"], int(c.get("shard_size", 5)))
    return c, config_hash(c), shards, options


def init_ray(options: ClusterOptions, workers: int) -> bool:
    """Start or join Ray; returns True when this call started it (and so must shut it down).

    address null: a fresh local Ray with `num_cpus` (default `workers`) CPUs, unless RAY_ADDRESS is
    set (as inside `ray job submit`), which joins that cluster. "auto" or HOST:PORT joins a cluster.
    Token authentication stays as Ray configures it: simfarm never turns it off.
    """
    import ray

    if ray.is_initialized():
        return False
    common = {"logging_level": logging.WARNING, "log_to_driver": True, "runtime_env": options.runtime_env}
    if options.address is None and not os.environ.get("RAY_ADDRESS"):
        # "local": a fresh Ray for this job even if `ray start` left a cluster on this machine.
        ray.init(address="local", num_cpus=options.num_cpus or workers, include_dashboard=options.include_dashboard, **common)
    else:
        ray.init(address=options.address, **common)
    return True


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


def _make_progress_actor():
    """A tiny actor on the driver's node that workers tell about each finished episode."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0, max_restarts=0)
    class Progress:
        def __init__(self) -> None:
            self.records: dict[int, tuple[str, bool, int]] = {}

        def report(self, batch: list[tuple[int, str, bool, int]]) -> None:
            for index, status, success, length in batch:
                self.records[index] = (status, success, length)

        def snapshot(self) -> dict[int, tuple[str, bool, int]]:
            return self.records

    node = ray.get_runtime_context().get_node_id()
    return Progress.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node, soft=True)).remote()


def run_job(
    cfg,
    runner_factory: str | Callable = DEFAULT_RUNNER_FACTORY,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Run a generation job to completion (or resume it); returns the job report (job.json).

    Raises ConfigError before starting anything for a bad config, FarmError when the output is
    finished (and overwrite is false), holds a different job, or the failure budget is spent.
    """
    t_start = time.perf_counter()
    c, h, plan, options = prepare_job(cfg)
    store = JobStore(c["output"])
    mode = check_resumable(store, c, h, bool(c.get("overwrite", False)))
    if mode == "overwrite":
        log.warning("overwrite=true: deleting %s", store.output)
        store.remove_all()
    markers = {}
    if mode == "resume":
        markers = {n: m for n, m in store.markers().items() if m.get("config_hash") == h}
        removed = store.collect_garbage(markers)
        if removed:
            log.info("removed %d unfinished shard folder(s) left by an interrupted run", len(removed))
    else:
        store.write_state({"config_hash": h, "content": _content(c), "config": c, "versions": versions()})
    results: dict[int, ShardResult] = {}
    for m in markers.values():
        r = ShardResult.from_dict(m)
        results[r.shard_index] = r
    pending = [s for s in plan if s.index not in results]
    workers = int(c.get("workers", 1))
    max_failures = int(c.get("max_failures", 0))
    total_episodes = sum(s.num_episodes for s in plan)
    resumed = JobProgress(total=total_episodes)
    for r in results.values():
        for e in r.episodes:
            resumed.add(e)
    if resumed.failed > max_failures and pending:
        raise FarmError(
            f"the finished shards already hold {resumed.failed} failed episodes, more than "
            f"max_failures={max_failures}; resume with a larger max_failures (e.g. "
            f"max_failures={resumed.failed + 10}) to finish the job"
        )
    log.info(
        "job %s: %d episodes in %d shards of %d; %d shard(s) already finished, %d to run on %d worker(s)",
        h, total_episodes, len(plan), c.get("shard_size", 5), len(results), len(pending), workers,
    )

    t_run0 = time.perf_counter()
    ray_init_s = 0.0
    now = JobProgress(total=total_episodes)
    if pending:
        started = False
        try:
            t0 = time.perf_counter()
            started = init_ray(options, workers)
            ray_init_s = time.perf_counter() - t0
            t_run0 = time.perf_counter()
            _run_pending(c, h, store, pending, options, runner_factory, workers, max_failures, results, resumed, now, show_progress)
        finally:
            if started:
                import ray

                ray.shutdown()
    run_s = time.perf_counter() - t_run0

    t0 = time.perf_counter()
    ordered = [results[s.index] for s in plan]
    shard_dirs = [store.path(r.dir) for r in ordered if r.dir]
    kind = writer_kind(c)
    if kind != "none" and shard_dirs:
        from simfarm.writers import finalize

        finalize(kind, store.root, shard_dirs, fs=store.fs)
    finalize_s = time.perf_counter() - t0
    ran_now = [results[s.index] for s in pending if s.index in results]
    report = _job_report(c, h, ordered, ran_now, now, resumed, workers, run_s, ray_init_s, finalize_s, t_start)
    store.write_job(report)
    if store.local:
        store.collect_garbage({r.name: r.to_dict() for r in ordered})
    print_summary(report, file=sys.stderr)
    return report


def _run_pending(c, h, store, pending, options, runner_factory, workers, max_failures, results, resumed, now, show_progress):
    import ray
    from ray.exceptions import RayTaskError

    shard_task = _make_remote(options)
    progress = _make_progress_actor()
    factory = runner_factory if isinstance(runner_factory, str) else f"{runner_factory.__module__}:{runner_factory.__qualname__}"
    queue = deque(pending)
    interval_s = progress_interval_s(workers)
    in_flight: dict[Any, ShardPlan] = {}
    bar = _progress_bar(resumed, show_progress)
    try:
        while queue or in_flight:
            while queue and len(in_flight) < workers:
                shard = queue.popleft()
                task = ShardTask(
                    output=store.output if not store.local else store.root,
                    shard=shard,
                    cfg=c,
                    config_hash=h,
                    runner_factory=factory,
                    worker_env=options.worker_env,
                )
                in_flight[shard_task.remote(task, progress, interval_s)] = shard
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=DRIVER_POLL_S)
            for ref in ready:
                shard = in_flight.pop(ref)
                try:
                    result = ShardResult.from_dict(ray.get(ref))
                except RayTaskError as exc:
                    raise FarmError(f"{shard.name} (episodes {shard.first_episode}..{shard.first_episode + shard.num_episodes - 1}) failed: {exc}") from exc
                except ray.exceptions.RayError as exc:  # worker or node lost more often than retries allow
                    raise FarmError(
                        f"{shard.name} was lost {options.max_task_retries + 1} times ({type(exc).__name__}: {exc}); "
                        "re-run the same command to resume, or raise cluster.max_task_retries"
                    ) from exc
                results[shard.index] = result
                for e in result.episodes:
                    now.add(e)
            live = _live_counts(progress, results, now, pending)
            _update_bar(bar, resumed, live)
            failed = resumed.failed + live.failed
            if failed > max_failures:
                raise FarmError(_budget_message(store, failed, max_failures, results, resumed, now, pending))
    except BaseException:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        raise
    finally:
        if bar is not None:
            bar.close()
        try:
            ray.kill(progress)
        except Exception:
            pass


def _live_counts(progress, results, now: JobProgress, pending) -> JobProgress:
    """Episode-level counts for this run: the progress actor's, or the shard results' if larger."""
    import ray

    try:
        snap = ray.get(progress.snapshot.remote(), timeout=2.0)
    except Exception:
        return now
    live = JobProgress(total=now.total)
    for status, success, length in snap.values():
        live.add(EpisodeRecord(index=-1, status=status, success=success, length=length))
    return live if live.done >= now.done else now


def _progress_bar(resumed: JobProgress, show: bool):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(total=resumed.total, initial=resumed.done, unit="ep", file=sys.stderr, mininterval=0.5, dynamic_ncols=True, desc="generate")


def _update_bar(bar, resumed: JobProgress, live: JobProgress) -> None:
    if bar is None:
        return
    done = resumed.done + live.done
    successes = resumed.successes + live.successes
    # Postfix first: update() redraws the bar, which should show the counts it moved for.
    bar.set_postfix(success=f"{successes / done:.0%}" if done else "-", failed=resumed.failed + live.failed, refresh=False)
    if done > bar.n:
        bar.update(done - bar.n)


def _budget_message(store, failed, max_failures, results, resumed, now, pending) -> str:
    errors = []
    for r in sorted(results.values(), key=lambda r: r.shard_index):
        errors += [f"episode {e.index}: {e.error}" for e in r.episodes if e.status == "failed"]
    finished = len(results)
    return (
        f"failure budget spent: {failed} episodes failed, more than max_failures={max_failures}; "
        f"job stopped. {finished} shard(s) are finished and kept in {store.output}. "
        f"Errors (first {min(len(errors), 5)}):\n  " + "\n  ".join(errors[:5] or ["(in shards still running)"])
        + f"\nfix the cause, or re-run the same command with max_failures={failed + 10} to finish the job"
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
