"""`simfarm eval`: evaluate a policy in simulation on held-out seeds, on Ray like generation.

Reuses the rollout path (same scenes, tasks, randomization) with `split=test`, whose seeds never
overlap a generation job's (`train`) with the same seed (simfarm.seeding). Optionally sweeps
several tasks, room programs and randomization presets in one run. Writes report.json, report.md,
plots and mp4 videos of the first K episodes plus up to K failures.
"""

from __future__ import annotations

import itertools
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from simfarm.config import config_hash, to_dict, validate
from simfarm.errors import ConfigError, EpisodeError

log = logging.getLogger(__name__)

EVAL_ONLY_KEYS = ("videos", "failure_videos", "latency_s", "tasks", "scenes", "randomizations")


def expand_sweep(c: dict[str, Any]) -> list[dict[str, Any]]:
    """One job config per (task, scene, randomization) combination named in tasks/scenes/randomizations.

    Swept groups are composed from their config files; everything else (including groups that
    are not swept, such as a `scene=` given on the command line) is kept from the eval config.
    """
    from simfarm.config import compose

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


def make_eval_runner(cfg: dict[str, Any]):
    """A worker's EpisodeRunner with the evaluation's simulated latency applied to its policy."""
    from simfarm.policies import LatencyPolicy
    from simfarm.rollout import EpisodeRunner

    runner = EpisodeRunner({k: v for k, v in cfg.items() if k not in EVAL_ONLY_KEYS})
    latency = float(cfg.get("latency_s") or 0.0)
    if latency > 0:
        runner.policy = LatencyPolicy(runner.policy, latency, runner.fps, runner.env.action_space)
    return runner


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


def run_eval(cfg) -> dict[str, Any]:
    """Evaluate; returns the report dict (also written under `output`)."""
    import ray

    from simfarm.evaluation.report import write_report
    from simfarm.farm.execute import ClusterOptions, init_ray

    c = to_dict(cfg)
    if c.get("split") == "train":
        log.warning("eval with split=train reuses the seeds of generation jobs: results are not held out")
    out = Path(c["output"])
    if "://" in str(c["output"]):
        raise ConfigError("eval output must be a local folder (reports and videos are written there)")
    combos = expand_sweep(c)
    for combo in combos:
        validate({k: v for k, v in combo.items() if k not in EVAL_ONLY_KEYS and k != "writer"})
    options = ClusterOptions.from_config(c)
    started = init_ray(options, int(c.get("workers", 1)))
    video_dir = out / "videos"
    if video_dir.exists():
        shutil.rmtree(video_dir)
    remote = ray.remote(num_cpus=1)(evaluate_episode_in_worker)
    try:
        refs = []
        for combo in combos:
            combo = {**combo, "randomization_name": _preset_name(combo)}
            h = config_hash(combo)
            refs += [remote.remote(options.pin_cpus, options.compact_heap, combo, h, i, str(video_dir), int(c.get("videos", 0)))
                     for i in range(int(combo["episodes"]))]
        results = _gather(refs)
    finally:
        if started:
            ray.shutdown()
    videos = _keep_failure_videos(results, int(c.get("failure_videos", 0)))
    report = write_report(results, out, config={k: v for k, v in c.items() if k != "hydra"}, videos=videos)
    s = report["summary"]
    rate = s.get("success", s.get("overall", {}))
    log.info("eval: %s episodes, success %s -> %s", len(results), rate, out / "report.md")
    return report


def _gather(refs) -> list[dict[str, Any]]:
    import ray
    from tqdm import tqdm

    results = []
    pending = list(refs)
    with tqdm(total=len(refs), desc="eval", unit="ep") as bar:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            results += ray.get(done)
            bar.update(len(done))
            ok = sum(r["success"] for r in results)
            bar.set_postfix(success=f"{ok / len(results):.0%}")
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
