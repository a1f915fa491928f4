"""Rollout: an env and a policy produce an Episode. One EpisodeRunner per worker process.

The runner holds the env (its compiled scene cache and renderer) and the policy for the life of
the worker, and preallocates the per-step buffers once, so an episode costs physics + rendering and
little else.
"""

from __future__ import annotations

import platform
import time
import traceback
from typing import Any

import mujoco
import numpy as np

import simfarm
from simfarm.config import config_hash
from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.episode import Episode
from simfarm.errors import EpisodeError, PolicyError, SimfarmError
from simfarm.policies import validate_action
from simfarm.policies.base import wants_expert_labels
from simfarm.policies.wrappers import TakeoverGate
from simfarm.robots import canonical, make_robot
from simfarm.robots.mix import episode_robot, is_mix, mix_weights
from simfarm.seeding import episode_seeds
from simfarm.tasks.expert import as_labeller


def versions() -> dict[str, str]:
    return {"simfarm": simfarm.__version__, "mujoco": mujoco.__version__, "python": platform.python_version()}


class EpisodeRunner:
    """Runs episodes of one job config: `run(i)` is a pure function of (config, seed, i)."""

    def __init__(self, cfg: dict[str, Any], env: SimfarmEnv | None = None, policy=None, wrap_policy=None):
        self.cfg = cfg
        self.config_hash = config_hash(cfg)
        self.wrap_policy = wrap_policy or (lambda policy, env: policy)
        # robot=mix: one env (and policy) per robot of the mix, built when its first episode comes.
        self.mix = mix_weights(cfg["robot"]) if is_mix(cfg.get("robot")) else None
        self._members: dict[str, tuple[SimfarmEnv, Any]] = {}
        self._labelers: dict[int, Any] = {}  # id(env) -> the expert that labels its episodes
        self._takeovers: dict[int, TakeoverGate] = {}  # id(env) -> when that expert takes the controls
        if self.mix is None:
            env = env if env is not None else SimfarmEnv(EnvConfig.from_job(cfg))
            self.env, self.policy = self._adopt(env, policy)
        else:
            self.env, self.policy = self._member(next(iter(self.mix)))
            self.max_arm_joints = max(len(make_robot(name).layout.arm_joints) for name in self.mix)
        self.seed = int(cfg["seed"])
        self.split = cfg.get("split", "train")
        self.fps = float(self.env.config.control_hz)
        self._buffers: dict[str, np.ndarray] = {}
        # robomimic HDF5 stores the scene's MJCF per demo (`model_file`); LeRobot rebuilds scenes
        # from the stored SceneSpec instead, so only HDF5 jobs pay for the export.
        writer = cfg.get("writer") or {}
        self.with_model_xml = isinstance(writer, dict) and writer.get("kind") == "hdf5"
        from simfarm.annotations import make_annotator

        self.annotator = make_annotator(cfg)
        self._model_xml: tuple[str, str] | None = None  # (scene hash, MJCF)

    def _adopt(self, env: SimfarmEnv, policy=None):
        # Episodes store the observation before each action: the one after the last is never used.
        env.final_observation_images = False
        if wants_expert_labels(self.cfg):
            # A second, noiseless expert that only labels: DAgger / DART data from any policy.
            self._labelers[id(env)] = as_labeller(env.make_expert())
            gate = TakeoverGate.from_job(self.cfg, env.action_space)
            if gate is not None:
                self._takeovers[id(env)] = gate
        return env, self.wrap_policy(policy if policy is not None else make_job_policy(self.cfg, env), env)

    def _member(self, robot: str):
        """The env and policy of one robot of a mix (made once per worker)."""
        if robot not in self._members:
            env = SimfarmEnv(EnvConfig.from_job({**self.cfg, "robot": {"name": robot}}))
            self._members[robot] = self._adopt(env)
        return self._members[robot]

    # -- buffers ------------------------------------------------------------------------------

    def _buffer(self, key: str, shape: tuple[int, ...], dtype) -> np.ndarray:
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(shape, dtype)
        return buf

    # -- episodes -----------------------------------------------------------------------------

    def run(self, episode_index: int, actions: np.ndarray | None = None) -> Episode:
        """Run episode `episode_index`; with `actions`, replay them instead of asking the policy.

        Raises EpisodeError (with the cause) if the policy or the physics fails.
        """
        t0 = time.perf_counter()
        if self.mix is not None:
            self.env, self.policy = self._member(episode_robot(self.mix, self.seed, episode_index, self.split))
        env = self.env
        try:
            obs, info = env.reset(seed=self.seed, options={"episode_index": episode_index})
        except SimfarmError as exc:
            raise EpisodeError(f"episode {episode_index}: setup failed: {exc}") from exc
        seeds = episode_seeds(self.seed, episode_index, self.split)
        T = env.max_steps if actions is None else len(actions)
        n_state = env.observation_space["state"].shape[0] if "state" in env.observation_space.spaces else 0
        n_env = env.observation_space["environment_state"].shape[0] if n_state else 0
        n_act = env.action_space.shape[0]
        n_phys = mujoco.mj_stateSize(env.model, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        buf = {
            "observation.state": self._buffer("state", (T, n_state), np.float32),
            "observation.environment_state": self._buffer("env", (T, n_env), np.float32),
            "action": self._buffer("action", (T, n_act), np.float32),
            "next.reward": self._buffer("reward", (T,), np.float32),
            "next.done": self._buffer("done", (T,), bool),
            "next.success": self._buffer("success", (T,), bool),
            "physics_state": self._buffer("physics", (T, n_phys), np.float64),
        }
        labeler = self._labelers.get(id(env)) if actions is None else None
        if labeler is not None:
            buf["action.expert"] = self._buffer("action_expert", (T, n_act), np.float32)
        gate = self._takeovers.get(id(env)) if labeler is not None else None
        takeover_step = None
        # The cross-embodiment view (simfarm.robots.canonical) of every robot with an arm.
        canon = env.robot.has_arm
        arms = tuple(getattr(env.robot, "arms", ("arm",)))
        if canon:
            buf["observation.ee_pose"] = self._buffer("ee_pose", (T, 8 * len(arms)), np.float32)
            buf["action.ee_delta"] = self._buffer("ee_delta", (T, 7 * len(arms)), np.float32)
            pose = canonical.ee_pose(env.handle, env.data)
        # A point-cloud job records what its clouds are made of (RGB, depth, segmentation, camera
        # geometry: LeRobot datasets recompute clouds from them) and the clouds (HDF5 stores them).
        cloud = None
        if "pointcloud" in env.obs_parts:
            cloud = self._buffer("pointcloud", (T, *env.observation_space["pointcloud"].shape), np.float32)
        images = self._camera_buffers(env, "images", T, cloud is not None)
        depth = self._camera_buffers(env, "depth", T, cloud is not None)
        segmentation = self._camera_buffers(env, "segmentation", T, cloud is not None)
        # Camera geometry per frame (the wrist moves; a mobile base moves every camera's base_T_camera).
        poses = {cam: (self._buffer(f"wTc/{cam}", (T, 4, 4), np.float64), self._buffer(f"bTc/{cam}", (T, 4, 4), np.float64))
                 for cam in env.camera_ids}
        intrinsics = {cam: env.camera_geometry(cam)["intrinsics"] for cam in poses}
        t = 0
        act_time_s = 0.0
        # The subtask each frame is on, as (subtask index, first frame) at each change.
        subtask_starts: list[tuple[int, int]] = []
        try:
            if actions is None:
                # Inside the try: a policy that cannot even reset (a dead server) fails this episode only.
                self.policy.reset(env.task.instruction, seeds.policy_seed())
            if self.annotator is not None:
                self.annotator.start(env)
            if labeler is not None:
                labeler.reset(env.task.instruction, seeds.policy_seed())
            if gate is not None:
                gate.reset()
            while t < T:
                if not subtask_starts or subtask_starts[-1][0] != env.subtask_index:
                    subtask_starts.append((env.subtask_index, t))
                if n_state:
                    buf["observation.state"][t] = obs["state"]
                    buf["observation.environment_state"][t] = obs["environment_state"]
                views = env.cloud_views if cloud is not None else obs
                for key, buffers in (("images", images), ("depth", depth), ("segmentation", segmentation)):
                    for cam, frames in buffers.items():
                        frames[t] = views[key][cam]
                if cloud is not None:
                    cloud[t] = obs["pointcloud"]
                for cam, (world_T_cam, base_T_cam) in poses.items():
                    g = env.camera_geometry(cam)
                    world_T_cam[t], base_T_cam[t] = g["world_T_camera"], g["base_T_camera"]
                env.physics_state(out=buf["physics_state"][t])
                if self.annotator is not None:
                    self.annotator.observe(env, t)
                if labeler is not None:
                    buf["action.expert"][t] = labeler.act(obs)
                if actions is not None:
                    action = actions[t]
                elif takeover_step is not None:
                    action = buf["action.expert"][t]
                else:
                    ta = time.perf_counter()
                    action = self.policy.act(obs)
                    act_time_s += time.perf_counter() - ta
                action = validate_action(action, env.action_space, getattr(self.policy, "name", type(self.policy).__name__))
                if gate is not None and takeover_step is None and gate.strayed(action, buf["action.expert"][t]):
                    takeover_step = t
                    action = buf["action.expert"][t].copy()
                buf["action"][t] = action
                if labeler is not None and hasattr(labeler, "executed"):
                    labeler.executed(action)
                obs, reward, terminated, truncated, info = env.step(action)
                if canon:
                    buf["observation.ee_pose"][t] = pose
                    after = canonical.ee_pose(env.handle, env.data)
                    buf["action.ee_delta"][t] = canonical.ee_delta(action, env.control_mode, pose, after, len(arms))
                    pose = after
                buf["next.reward"][t] = reward
                buf["next.success"][t] = info["success"]
                t += 1
                if terminated or truncated:
                    break
        except EpisodeError as exc:
            raise EpisodeError(f"episode {episode_index} step {t}: {exc}") from exc
        except PolicyError as exc:
            raise EpisodeError(f"episode {episode_index} step {t}: policy error: {exc}") from exc
        except SimfarmError:
            raise
        except Exception as exc:  # a user policy's bug must fail the episode, not the worker
            tb = traceback.format_exc(limit=3)
            raise EpisodeError(f"episode {episode_index} step {t}: {type(exc).__name__}: {exc}\n{tb}") from exc

        steps = {key: arr[:t].copy() for key, arr in buf.items()}
        annotations = self.annotator.finish(t) if self.annotator is not None else None
        if annotations is not None:
            steps.update(annotation_columns(annotations["arrays"]))
        steps["next.done"][:] = False
        if t:
            steps["next.done"][-1] = True
        steps["timestamp"] = (np.arange(t, dtype=np.float64) / self.fps).astype(np.float32)
        if not n_state:
            del steps["observation.state"], steps["observation.environment_state"]
        names = {
            "observation.state": env.state_names() if n_state else [],
            "observation.environment_state": list(env.task.environment_state_names) if n_state else [],
            "action": env.action_names(),
            **({"action.expert": env.action_names()} if labeler is not None else {}),
            **({"observation.ee_pose": canonical.names(canonical.EE_POSE_NAMES, arms),
                "action.ee_delta": canonical.names(canonical.EE_DELTA_NAMES, arms)} if canon else {}),
        }
        if self.mix is not None and n_state:
            self._pad_joints(steps, names, len(env.robot.layout.arm_joints))
        spec = env.built_scene.spec
        metadata = {
            **{k: v for k, v in env.episode_info.items() if k not in ("setup_time_s",)},
            "config_hash": self.config_hash,
            "task": env.task.name,
            "robot": env.robot.name,
            "scene": env.scene_source.name,
            "scene_spec": spec.to_json(),
            "success": bool(info["success"]),
            "safety": info["safety"],
            "length": t,
            "fps": self.fps,
            "control_mode": env.control_mode,
            # What rebuilds this episode's env for replay (with the stored SceneSpec and values).
            "env": env_record(env),
            "policy": getattr(self.policy, "current_component", None) or getattr(self.policy, "name", "unknown"),
            "act_time_s": act_time_s,
            **({"takeover_step": takeover_step} if gate is not None else {}),
            "versions": versions(),
            "wall_time_s": time.perf_counter() - t0,
            "names": names,
            "subtasks": [{"index": k, "text": env.episode_info["plan"][k], "start_frame": start} for k, start in subtask_starts],
            "subtasks_done": info["subtasks_done"],
            "error": None,
        }
        if annotations is not None:
            metadata["annotations"] = annotations["meta"]
        if self.mix is not None:
            metadata["robot_type"] = "mix:" + ",".join(self.mix)
        if self.with_model_xml:
            metadata["model_xml"] = self._scene_xml(spec)
        return Episode(
            index=episode_index,
            task=env.task.name,
            instruction=env.task.instruction,
            fps=self.fps,
            steps=steps,
            images={cam: frames[:t].copy() for cam, frames in images.items()},
            metadata=metadata,
            depth={cam: frames[:t].copy() for cam, frames in depth.items()},
            segmentation={cam: frames[:t].copy() for cam, frames in segmentation.items()},
            cameras={cam: {"intrinsics": intrinsics[cam], "world_T_camera": w[:t].copy(), "base_T_camera": b[:t].copy()}
                     for cam, (w, b) in poses.items()},
            annotations={} if annotations is None else {"events": annotations["events"],
                                                         "persistent": annotations["persistent"]},
            pointcloud=None if cloud is None else cloud[:t].copy(),
        )

    def _camera_buffers(self, env: SimfarmEnv, key: str, T: int, all_views: bool = False) -> dict[str, np.ndarray]:
        """Per camera, a reused (T, ...) buffer for view `key` (images, depth, segmentation): those
        the observation has, or with `all_views` every one (a point-cloud job's)."""
        h, w = env.config.camera_size
        shape, dtype = {"images": ((h, w, 3), np.uint8), "depth": ((h, w), np.float32),
                        "segmentation": ((h, w), np.uint8)}[key]
        if key not in env.observation_space.spaces and not all_views:
            return {}
        return {cam: self._buffer(f"{key}/{cam}", (T, *shape), dtype) for cam in env.camera_ids}

    def _pad_joints(self, steps: dict[str, np.ndarray], names: dict[str, list[str]], n_joints: int) -> None:
        """A mix's robots differ in joint count: their states are aligned slot by slot, joint k in
        slot k (zeros past a robot's last joint), then gripper, TCP (and base) as every robot has
        them; `observation.state_mask` says which slots are real (1.0) and which padding (0.0). LeRobot sees one fixed-size
        feature; the robot of each episode is in meta/simfarm/episodes.parquet."""
        pad = self.max_arm_joints - n_joints
        state = steps["observation.state"]
        steps["observation.state"] = np.concatenate(
            [state[:, :n_joints], np.zeros((len(state), pad), state.dtype), state[:, n_joints:]], axis=1)
        # float32, not bool: LeRobot normalizes every observation.* feature by its mean and std,
        # and its normalizer cannot subtract bool tensors.
        mask = np.ones(steps["observation.state"].shape, dtype=np.float32)
        mask[:, n_joints:n_joints + pad] = 0.0
        steps["observation.state_mask"] = mask
        rest = names["observation.state"][n_joints:]
        names["observation.state"] = [f"joint{k + 1}" for k in range(self.max_arm_joints)] + rest
        names["observation.state_mask"] = list(names["observation.state"])

    def _scene_xml(self, spec) -> str:
        """The current scene's MJCF (exported once per scene)."""
        key = spec.content_hash()
        if self._model_xml is None or self._model_xml[0] != key:
            self._model_xml = (key, self.env.built_scene.mjspec.to_xml())
        return self._model_xml[1]

    def close(self) -> None:
        pairs = list(self._members.values()) if self.mix is not None else [(self.env, self.policy)]
        for env, policy in pairs:
            close = getattr(policy, "close", None)
            if close is not None:
                close()
            env.close()


def annotation_columns(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The annotation arrays as frames side-table columns ("frames.annotation.<name>", simfarm.writers.frames)."""
    return {f"frames.annotation.{name}": np.asarray(values) for name, values in arrays.items()}


def env_record(env: SimfarmEnv) -> dict[str, Any]:
    """The env-defining config of an episode, JSON-serializable (see simfarm.dataset.replay)."""
    c = env.config
    return {
        "task": c.task,
        "robot": c.robot,
        "scene": c.scene,
        "randomization": c.randomization,
        "control_mode": env.control_mode,
        "control_hz": c.control_hz,
        "max_steps": env.max_steps,
        "split": c.split,
        "scene_resample_every": c.scene_resample_every,
        # What replay needs to render the same depth and segmentation again.
        "obs_mode": c.obs_mode,
        "cameras": list(c.cameras or ()),
        "camera_size": list(c.camera_size),
    }


def make_job_policy(cfg: dict[str, Any], env: SimfarmEnv):
    """The job's policy: `scripted` is the task's expert; other specs go through simfarm.policies."""
    from simfarm.policies import make_policy

    policy_cfg = cfg.get("policy") or {"spec": "scripted"}
    if not isinstance(policy_cfg, dict):
        policy_cfg = {"spec": str(policy_cfg)}
    options = {k: v for k, v in policy_cfg.items() if k != "spec"}
    return make_policy(policy_cfg.get("spec", "scripted"), env.observation_space, env.action_space, env=env, **options)


def make_episode_runner(cfg: dict[str, Any]) -> EpisodeRunner:
    """The farm's factory: one runner per worker process."""
    return EpisodeRunner(cfg)
