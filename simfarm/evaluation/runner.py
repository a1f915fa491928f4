"""`simfarm eval`: evaluate a policy in simulation on held-out seeds, on Ray like generation.

Reuses the rollout path (same scenes, tasks, randomization) with `split=test`, whose seeds never
overlap a generation job's (`train`) with the same seed (simfarm.seeding). Optionally sweeps
several tasks, room programs and randomization presets in one run. Writes report.json, report.md,
plots and mp4 videos of the first K episodes plus up to K failures.

Like `generate`, an output that holds a report is refused unless `overwrite=true`, and even then
the old report is replaced only once the new one is written: the evaluation writes into a
sibling folder (`<parent>/.<name>.simfarm-next`) that is swapped in at the end
(simfarm.farm.state.replace_output). An evaluation is not resumable: an interrupted one leaves
the output as it was.
"""

from __future__ import annotations

import itertools
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from simfarm.config import config_hash, to_dict, validate
from simfarm.errors import ConfigError, EpisodeError, FarmError

log = logging.getLogger(__name__)

EVAL_ONLY_KEYS = ("videos", "failure_videos", "latency_s", "tasks", "scenes", "randomizations")
# The report keeps one result row per episode (report.json's `episodes`), so an evaluation's size
# is bounded: a million rows is ~1 GB of driver memory and a report.json of several hundred MB.
MAX_EVAL_EPISODES = 1_000_000
# Episodes in flight per worker: enough to hide the task round trip, few enough that the driver
# holds only a window of the evaluation, not all of it.
IN_FLIGHT_PER_WORKER = 2
RAY_TASK_RETRIES = 3  # Ray's default max_retries for a task whose worker died


def expand_sweep(c: dict[str, Any]) -> list[dict[str, Any]]:
    """One job config per (task, scene, randomization) combination named in tasks/scenes/randomizations.

    Swept groups are composed from their config files; everything else (including groups that
    are not swept, such as a `scene=` given on the command line) is kept from the eval config.
    """
    from simfarm.config import compose

    if c.get("suite"):
        return suite_combos(c)
    axes = {"task": c.get("tasks"), "scene": c.get("scenes"), "randomization": c.get("randomizations")}
    swept = {group: values for group, values in axes.items() if values}
    if not swept:
        return [c]
    combos = []
    for values in itertools.product(*swept.values()):
        sub = dict(c)
        for group, value in zip(swept, values, strict=True):
            sub[group] = to_dict(compose("generate", [f"{group}={value}"]))[group]
        combos.append(sub)
    return combos


def suite_combos(c: dict[str, Any]) -> list[dict[str, Any]]:
    """One job config per entry of the suite named by `suite` (configs/suites/NAME.yaml).

    Entries set task, scene, randomization, robot and episodes; the rest comes from the eval config.
    The goal suite runs on training's scenes (split train) with goals from a held-out stream.
    """
    from simfarm.config import compose
    from simfarm.suites import load_suite

    if c.get("tasks") or c.get("scenes") or c.get("randomizations"):
        raise ConfigError(f"suite={c['suite']}: a suite names its own tasks, scenes and presets; drop tasks/scenes/randomizations")
    suite = load_suite(str(c["suite"]))
    combos = []
    for entry in suite.entries:
        overrides = [f"{group}={entry[group]}" for group in ("task", "scene", "randomization", "robot") if entry.get(group)]
        composed = to_dict(compose("generate", overrides))
        sub = dict(c)
        for group in ("task", "scene", "randomization", "robot"):
            if entry.get(group):
                sub[group] = composed[group]
        if entry.get("episodes"):
            sub["episodes"] = int(entry["episodes"])
        if suite.goals:
            sub["split"] = "train"
        combos.append(sub)
    return combos


def make_eval_runner(cfg: dict[str, Any]):
    """A worker's EpisodeRunner with the evaluation's simulated latency applied to its policy."""
    from simfarm.policies import LatencyPolicy
    from simfarm.rollout import EpisodeRunner

    latency = float(cfg.get("latency_s") or 0.0)

    def wrap(policy, env):
        return LatencyPolicy(policy, latency, float(env.config.control_hz), env.action_space) if latency > 0 else policy

    return EpisodeRunner({k: v for k, v in cfg.items() if k not in EVAL_ONLY_KEYS}, wrap_policy=wrap)


def evaluate_episode_in_worker(pin_cpu: bool, compact_heap: bool, *args) -> dict[str, Any]:
    """evaluate_episode in a Ray worker set up as a generation worker is (cluster.pin_cpus, cluster.compact_heap)."""
    from simfarm.farm.execute import prepare_worker

    prepare_worker(pin_cpu, compact_heap)
    return evaluate_episode(*args)


def evaluate_episode(cfg: dict[str, Any], h: str, index: int, video_dir: str | None, video_first: int) -> dict[str, Any]:
    """Run one evaluation episode (in a Ray worker); returns its result row for the report."""
    from simfarm.farm.shard import get_runner

    runner, _ = get_runner("simfarm.evaluation.runner:make_eval_runner", cfg, h)
    base = {
        "episode_index": index,
        "task": cfg["task"]["name"],
        "program": cfg["scene"].get("name") if isinstance(cfg["scene"], dict) else cfg["scene"],
        "randomization": cfg.get("randomization_name", "custom"),
        "config_hash": h,
    }
    try:
        ep = runner.run(index)
    except EpisodeError as exc:
        return {**base, "success": False, "length": 0, "error": str(exc).splitlines()[0], "safety": {}}
    act_times = list(getattr(runner.policy, "act_time_s", []) or [])
    if not act_times and ep.length:
        act_times = [ep.metadata["act_time_s"] / ep.length]
    result = {
        **base,
        "success": ep.success,
        "length": ep.length,
        "time_to_success_s": ep.length / ep.fps if ep.success else None,
        "safety": ep.metadata["safety"],
        "instruction": ep.instruction,
        "seed": ep.metadata["seed"],
        "error": None,
        "act_time_s": act_times,
    }
    if video_dir and ep.images and (index < video_first or not ep.success):
        cam = next(iter(ep.images))
        sub = "" if index < video_first else "failures"
        path = Path(video_dir) / sub / f"{base['task']}_{base['program']}_ep{index:05d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_mp4(path, ep.images[cam], ep.fps)
        result["video"] = str(path)
    del ep
    release_free_memory_every(EPISODES_PER_MEMORY_RELEASE)
    return result


# An evaluation task is one episode; a worker hands freed heap back every this many (see
# simfarm.farm.shard.release_free_memory), like a generation worker after each shard.
EPISODES_PER_MEMORY_RELEASE = 10
_episodes_since_release = 0


def release_free_memory_every(n: int) -> bool:
    """Call `release_free_memory()` on every n-th call in this process; True when it did."""
    global _episodes_since_release
    from simfarm.farm.shard import release_free_memory

    _episodes_since_release += 1
    if _episodes_since_release < n:
        return False
    _episodes_since_release = 0
    release_free_memory()
    return True


def write_mp4(path: Path, frames: np.ndarray, fps: float) -> None:
    """H.264 mp4 for people to watch (written to a temporary name, then renamed)."""
    import imageio.v3 as iio

    tmp = path.with_suffix(".tmp.mp4")
    iio.imwrite(tmp, frames, fps=fps, codec="libx264", plugin="pyav")
    tmp.replace(path)


def run_eval(cfg, show_progress: bool = True) -> dict[str, Any]:
    """Evaluate; returns the report dict (also written under `output`).

    Raises ConfigError before Ray starts for a bad config, FarmError when `output` holds a report
    (or foreign files) and overwrite is false, JobInterrupted after a Ctrl-C (workers cancelled,
    Ray shut down, the output left as it was).
    """
    import ray

    from simfarm.evaluation.report import REPORT_JSON, write_report
    from simfarm.farm.execute import (
        ClusterOptions,
        InterruptGuard,
        check_workers_fit,
        init_ray,
        plural,
    )
    from simfarm.farm.state import NEXT_SUFFIX, finish_replacement, replace_output, sibling
    from simfarm.writers.storage import resolve

    c = to_dict(cfg)
    if c.get("split") == "train" and not c.get("suite"):
        log.warning("eval with split=train reuses the seeds of generation jobs: results are not held out")
    if "://" in str(c["output"]):
        raise ConfigError(f"output: eval writes a local folder (report, plots, videos), got the URL {c['output']!r}")
    combos = expand_sweep(c)
    for combo in combos:
        # `suite` (checked by expand_sweep) reaches the workers' envs, not the generation keys.
        validate({k: v for k, v in combo.items() if k not in EVAL_ONLY_KEYS and k not in ("writer", "suite")})
    total = sum(int(combo["episodes"]) for combo in combos)
    if total > MAX_EVAL_EPISODES:
        raise ConfigError(
            f"episodes: an evaluation keeps one result per episode in its report, so it runs at most "
            f"{MAX_EVAL_EPISODES} episodes in all; got {total} ({plural(len(combos), 'sweep combination')} x episodes)"
        )
    options = ClusterOptions.from_config(c)
    workers = int(c.get("workers", 1))
    check_workers_fit(options, workers)
    fs, root = resolve(c["output"])
    out = Path(root)
    with InterruptGuard() as guard:
        finish_replacement(fs, root, REPORT_JSON)
        check_eval_output(out, bool(c.get("overwrite", False)))
        staged = Path(sibling(root, NEXT_SUFFIX))
        if staged.exists():  # an interrupted evaluation's (never resumed): start afresh
            shutil.rmtree(staged)
        staged.mkdir(parents=True)
        replaced = False
        try:
            started = init_ray(options, workers)
            try:
                guard.check(0, total, resumable=False)
                results = _gather(_episode_tasks(combos, options, staged / "videos", int(c.get("videos", 0))),
                                  total, workers, guard, show_progress)
            finally:
                if started:
                    ray.shutdown()
            videos = _keep_failure_videos(results, int(c.get("failure_videos", 0)))
            for r in results:  # videos are named relative to the report, which moves with them
                if r.get("video"):
                    r["video"] = Path(r["video"]).relative_to(staged).as_posix()
            report = write_report(results, staged, config={k: v for k, v in c.items() if k != "hydra"}, videos=videos)
            replace_output(fs, root, str(staged), REPORT_JSON)
            replaced = True
        finally:
            if not replaced:
                shutil.rmtree(staged, ignore_errors=True)
    log.info("eval: %s -> %s", describe_success(report["summary"]), out / "report.md")
    return report


def check_eval_output(out: Path, overwrite: bool) -> None:
    """Refuse an output that holds a report (or files no evaluation wrote) unless overwrite is true."""
    from simfarm.evaluation.report import REPORT_JSON

    if overwrite:
        return
    if (out / REPORT_JSON).exists():
        raise FarmError(
            f"output {out} already holds an evaluation report ({REPORT_JSON} exists); "
            "pass overwrite=true to replace it, or choose another output="
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FarmError(
            f"output {out} exists and holds files that no simfarm eval wrote; "
            "pass overwrite=true to replace them, or choose another output="
        )


def describe_success(summary: dict[str, Any]) -> str:
    """'40 episodes, success 31/40 = 77.5% (95% interval 62.5%-87.7%), 1 error' for a log line."""
    from simfarm.farm.execute import plural

    o = summary["overall"]
    n = int(o["n"])
    if not n:
        return "0 episodes"
    level = int(round(100 * summary.get("confidence", 0.95)))
    text = (f"{plural(n, 'episode')}, success {o['successes']}/{n} = {o['rate']:.1%} "
            f"({level}% interval {o['ci_low']:.1%}-{o['ci_high']:.1%})")
    errors = int(o.get("errors") or 0)
    return text + (f", {plural(errors, 'error')}" if errors else "")


def _episode_tasks(combos, options, video_dir: Path, video_first: int) -> Iterator[tuple[Any, tuple]]:
    """(remote function, args) of every episode, made as they are submitted (never all at once)."""
    import ray

    remote = ray.remote(num_cpus=1)(evaluate_episode_in_worker)
    for combo in combos:
        combo = {**combo, "randomization_name": _preset_name(combo)}
        h = config_hash(combo)
        combo_ref = ray.put(combo)  # one copy of the config in the object store, not one per episode
        for i in range(int(combo["episodes"])):
            yield remote, (options.pin_cpus, options.compact_heap, combo_ref, h, i, str(video_dir), video_first)


def _gather(tasks: Iterator[tuple[Any, tuple]], total: int, workers: int, guard, show_progress: bool = True) -> list[dict[str, Any]]:
    """Run the episodes with a bounded window in flight; results sorted by (task, program, episode)."""
    import ray

    from simfarm.farm.execute import DRIVER_POLL_S, make_progress, worker_error

    results: list[dict[str, Any]] = []
    in_flight: dict[Any, int] = {}
    bar = make_progress("eval", total, 0, show_progress)
    ok = failed = 0
    exhausted = False
    try:
        while True:
            while not exhausted and len(in_flight) < IN_FLIGHT_PER_WORKER * workers:
                item = next(tasks, None)
                if item is None:
                    exhausted = True
                    break
                remote, args = item
                in_flight[remote.remote(*args)] = args[4]
            if not in_flight:
                break
            guard.check(len(results), total, resumable=False)
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=DRIVER_POLL_S)
            for ref in done:
                index = in_flight.pop(ref)
                try:
                    r = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    raise worker_error(exc, f"episode {index}", RAY_TASK_RETRIES, resumable=False) from None
                results.append(r)
                ok += bool(r["success"]) and not r.get("error")
                failed += bool(r.get("error"))
            bar.show(len(results), ok, failed)
    except BaseException:
        for ref in in_flight:
            try:
                ray.cancel(ref, force=True)
            except Exception:
                pass
        raise
    finally:
        bar.close()
    return sorted(results, key=lambda r: (r["task"], r["program"], r["episode_index"]))


def _keep_failure_videos(results: list[dict[str, Any]], keep: int) -> list[str]:
    """All first-K videos plus the first `keep` failure videos; the other failure videos are deleted."""
    videos, kept_failures = [], 0
    for r in results:
        path = r.get("video")
        if not path:
            continue
        if Path(path).parent.name == "failures":
            if kept_failures >= keep:
                Path(path).unlink(missing_ok=True)
                r.pop("video")
                continue
            kept_failures += 1
        videos.append(path)
    return videos


def _preset_name(c: dict[str, Any]) -> str:
    preset = c.get("randomization")
    if isinstance(preset, dict):
        return str(preset.get("name", "custom"))
    return str(preset)
