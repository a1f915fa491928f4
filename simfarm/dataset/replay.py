"""`simfarm dataset replay PATH [episode=N] [tolerance=0] [observations=true]`: re-simulate recorded episodes.

Rebuilds each episode's scene from its stored SceneSpec, re-applies its recorded randomization
values, re-derives its random streams from (seed, episode index, split), feeds the recorded
actions through the same control path, and compares the full physics state at every step with
the recorded one. On the same machine and versions the divergence is exactly zero.

`observations=true` also renders every frame's depth and segmentation again (for datasets that
hold them) and compares them with the stored ones: segmentation ids exactly, depth within one
quantization step of the stored code (LeRobot) or exactly (HDF5), camera poses exactly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from simfarm.errors import ConfigError, DatasetError

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    episode_index: int
    steps: int
    max_divergence: float
    first_divergent_step: int | None
    success_recorded: bool
    success_replayed: bool
    observation_mismatches: list[str] | None = None  # None: observations not compared


def replay_episode(path: str, episode_index: int, env_cache: dict | None = None,
                   observations: bool = False) -> ReplayResult:
    """Replay one episode of the dataset at `path` and measure its state divergence (and, with
    `observations`, compare re-rendered depth, segmentation and camera poses with the stored ones)."""
    from simfarm.dataset.reader import load_episode_record
    from simfarm.envs import EnvConfig, SimfarmEnv
    from simfarm.scene import SceneSpec

    actions, states, md = load_episode_record(path, episode_index)
    record = md.get("env")
    if not record or not md.get("scene_spec"):
        raise DatasetError(f"{path}: episode {episode_index} lacks the env record or SceneSpec needed for replay")
    if states.shape[0] != len(actions) or states.shape[1] == 0:
        raise DatasetError(f"{path}: episode {episode_index} has {states.shape[0]} recorded states for {len(actions)} actions")
    lacking = [k for k in ("task", "robot", "scene", "randomization", "control_mode", "control_hz", "max_steps") if k not in record]
    for k in ("seed", "episode_index", "randomization"):
        if k not in md:
            lacking.append(f"metadata.{k}")
    if lacking:
        raise DatasetError(f"{path}: episode {episode_index}'s record lacks {lacking}, needed for replay")
    obs_mode, cameras = "state", None
    if observations:
        from simfarm.envs.options import obs_parts

        parts = obs_parts(record.get("obs_mode", "state")) & {"depth", "segmentation"}
        if parts:
            obs_mode, cameras = "+".join(p for p in ("depth", "segmentation") if p in parts), tuple(record["cameras"])
    key = repr((obs_mode, sorted((k, repr(v)) for k, v in record.items())))
    env_cache = {} if env_cache is None else env_cache
    env = env_cache.get(key)
    if env is None:
        env = env_cache[key] = SimfarmEnv(
            EnvConfig(
                task=record["task"],
                robot=record["robot"],
                scene=record["scene"],
                randomization=record["randomization"],
                obs_mode=obs_mode,
                cameras=cameras,
                camera_size=tuple(record.get("camera_size", (224, 224))),
                control_mode=record["control_mode"],
                control_hz=int(record["control_hz"]),
                max_steps=int(record["max_steps"]),
                split=record.get("split", "train"),
                scene_resample_every=int(record.get("scene_resample_every", 1)),
            )
        )
    spec = SceneSpec.from_json(md["scene_spec"])
    obs, _ = env.reset(
        seed=int(md["seed"]),
        options={"episode_index": int(md["episode_index"]), "scene_spec": spec, "randomization": md["randomization"]},
    )
    checker = _ObservationCheck(path, episode_index, env) if observations else None
    worst, first_bad = 0.0, None
    info: dict[str, Any] = {"success": False}
    for t, action in enumerate(actions):
        diff = float(np.max(np.abs(env.physics_state() - states[t]))) if states[t].size else 0.0
        if diff > 0 and first_bad is None:
            first_bad = t
        worst = max(worst, diff)
        if checker is not None:
            checker.frame(t, obs)
        obs, _, _, _, info = env.step(action)
    return ReplayResult(episode_index, len(actions), worst, first_bad, bool(md.get("success")), bool(info["success"]),
                        None if checker is None else checker.problems)


class _ObservationCheck:
    """Compares each replayed frame's depth, segmentation and camera poses with the dataset's."""

    def __init__(self, path: str, episode_index: int, env) -> None:
        from simfarm.dataset.reader import open_dataset

        ds = open_dataset(path)
        self.problems: list[str] = []
        self.depth, self.seg, self.poses, self.step = {}, {}, {}, {}
        for cam in env.camera_ids:
            if "depth" in env.obs_parts:
                self.depth[cam] = ds.depth(episode_index, cam)
                coding = getattr(ds, "depth_coding", None)
                self.step[cam] = coding(cam) if coding is not None else None
            if "segmentation" in env.obs_parts:
                self.seg[cam] = ds.segmentation(episode_index, cam)
            try:
                self.poses[cam] = ds.camera_poses(episode_index, cam)
            except DatasetError:
                pass
        self.env = env

    def frame(self, t: int, obs: dict) -> None:
        for cam, stored in self.depth.items():
            rendered = obs["depth"][cam]
            coding = self.step[cam]
            if coding is None:
                bad = not np.array_equal(rendered, stored[t])
            else:
                lo, hi = coding.depth_min, coding.depth_max
                clipped = np.clip(rendered, lo, hi)
                bad = bool(np.any(np.abs(clipped - stored[t]) > coding.step_m(clipped) + 1e-6))
            if bad:
                self._problem(f"frame {t}: depth of {cam!r} differs from the stored one")
        for cam, stored in self.seg.items():
            if not np.array_equal(obs["segmentation"][cam], stored[t]):
                self._problem(f"frame {t}: segmentation of {cam!r} differs ({int((obs['segmentation'][cam] != stored[t]).sum())} pixels)")
        for cam, stored in self.poses.items():
            g = self.env.camera_geometry(cam)
            if not all(np.allclose(g[k], stored[k][t], atol=1e-9) for k in ("world_T_camera", "base_T_camera")):
                self._problem(f"frame {t}: the pose of camera {cam!r} differs")

    def _problem(self, text: str) -> None:
        if len(self.problems) < 10:
            self.problems.append(text)


def main(argv: list[str]) -> int:
    """`simfarm dataset replay PATH [episode=N] [tolerance=X]` (argv after `replay`)."""
    from simfarm.dataset.cli import parse_args

    return run_replay(parse_args("replay", argv))


def run_replay(args: Any) -> int:
    """Replay the parsed `args` (simfarm.dataset.cli.Args); every argument is checked before simulating."""
    from simfarm.checks import integer
    from simfarm.dataset.reader import open_dataset

    path, options = args.path, args.keys
    tolerance = _tolerance(options.get("tolerance", "0"))
    from simfarm.checks import boolean

    observations = boolean("observations", options.get("observations", "false"))
    episode = integer("episode", options["episode"], minimum=0) if "episode" in options else None
    ds = open_dataset(path)
    n = ds.num_episodes
    if n == 0:
        raise DatasetError(f"{path} holds no episodes to replay")
    if episode is not None and episode >= n:
        raise ConfigError(f"episode: must be an integer in 0..{n - 1} (the dataset has {n} episodes), got {episode}")
    episodes = [episode] if episode is not None else list(range(n))
    cache: dict = {}
    worst = 0.0
    mismatched = False
    print(f"{'episode':>8} {'steps':>6} {'max_divergence':>15} {'first_step':>10} {'success rec/replay':>19}")
    try:
        for i in episodes:
            r = replay_episode(path, i, cache, observations=observations)
            worst = max(worst, r.max_divergence)
            print(
                f"{r.episode_index:>8} {r.steps:>6} {r.max_divergence:>15.3e} {str(r.first_divergent_step):>10} "
                f"{str(r.success_recorded) + '/' + str(r.success_replayed):>19}"
            )
            for problem in r.observation_mismatches or []:
                print(f"         {problem}")
                mismatched = True
    finally:
        for env in cache.values():
            env.close()
    verdict = "identical" if worst == 0 else ("within tolerance" if worst <= tolerance else "DIVERGED")
    print(f"replayed {len(episodes)} episode(s): largest state divergence {worst:.3e} ({verdict})")
    if observations:
        print("observations: " + ("MISMATCHED (above)" if mismatched else "depth, segmentation and camera poses as stored"))
    return 0 if worst <= tolerance and not mismatched else 1


def _tolerance(text: str) -> float:
    from simfarm.checks import number

    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"tolerance: expected a number >= 0 (largest accepted state difference), got {text!r}") from None
    return number("tolerance", value, minimum=0.0)
