"""The gymnasium environment: a task in a (procedural or fixed) scene, with randomization and cameras.

One env owns one compiled scene at a time (rebuilt when the scene is resampled), one renderer per
image size, and the randomizer's nominal copy of the model. `reset(seed=s, options={"episode_index": i})`
derives every random stream from SeedSequence([s, i, split]) (simfarm.seeding), so an episode is
the same whichever process runs it.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import spaces

from simfarm.checks import did_you_mean
from simfarm.envs import geometry
from simfarm.envs.cameras import default_cameras, model_camera_name
from simfarm.envs.options import IMAGE_PARTS, check_env_options, obs_parts
from simfarm.errors import ConfigError, TaskError
from simfarm.seeding import episode_seeds, pointcloud_rng
from simfarm.seeding import scene_rng as scene_rng_for
from simfarm.tasks import make_task
from simfarm.tasks.base import TaskScene

# A sampled scene the task cannot use (nothing graspable in reach, no free path...) is redrawn from
# the same scene stream up to this many times before the episode fails.
MAX_SCENE_ATTEMPTS = 20
# The split whose task streams the `goal` suite draws (generation uses train, evaluation test).
GOAL_SUITE_SPLIT = "valid"
GOAL_SUITE_DRAWS = 10


@dataclass
class EnvConfig:
    """Everything that shapes an env; the gymnasium kwargs and the job config map onto it."""

    task: str | dict[str, Any] = "pick_place"
    robot: str | dict[str, Any] = "panda"
    scene: str | dict[str, Any] = "tabletop"
    randomization: str | dict[str, Any] = "light"
    obs_mode: str = "state"  # parts rgb, depth, segmentation, pointcloud, state joined by "+"
    pointcloud_points: int = 4096
    pointcloud_crop: bool | tuple = True  # True: the workspace; False: none; or a base-frame box
    control_mode: str | None = None
    control_hz: int = 10
    cameras: tuple[str, ...] | None = None  # None: workspace + the robot's own (simfarm.envs.cameras)
    camera_size: tuple[int, int] = (224, 224)
    scene_resample_every: int = 1
    max_steps: int | None = None
    pretty: bool = False
    split: str = "train"
    render_goal_markers: bool = False  # show goal regions to the cameras (a cue no real scene has)
    holdout: str | None = None  # a suite whose held-out objects, forms and robots this env never uses
    suite: str | None = None  # a suite whose held-out objects and forms this env's goals use
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_job(cls, cfg: dict[str, Any]) -> EnvConfig:
        """From a resolved job config (simfarm.config.to_dict)."""
        return cls(
            task=cfg["task"],
            robot=cfg["robot"],
            scene=cfg["scene"],
            randomization=cfg["randomization"],
            obs_mode=cfg["obs_mode"],
            pointcloud_points=int(cfg.get("pointcloud_points", 4096)),
            pointcloud_crop=cfg.get("pointcloud_crop", True),
            control_mode=cfg.get("control_mode"),
            control_hz=int(cfg["control_hz"]),
            cameras=cfg.get("cameras"),
            camera_size=tuple(cfg["camera_size"]),
            scene_resample_every=int(cfg.get("scene_resample_every", 1)),
            max_steps=cfg.get("max_steps"),
            pretty=bool(cfg.get("pretty", False)),
            split=cfg.get("split", "train"),
            render_goal_markers=bool(cfg.get("render_goal_markers", False)),
            holdout=cfg.get("holdout"),
            suite=cfg.get("suite"),
        )


def forward_all(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    """mj_forward that also recomputes static bodies (cameras and lights on the world included).

    With sleeping islands on (simfarm.scene.builder), MuJoCo computes the poses of static bodies only
    when data is made or reset, and skips them in mj_forward and mj_step. Randomization and tasks
    change model fields of static things after the reset (a world camera's `cam_pos`, a light's
    `light_pos`), so the forward pass that follows them runs with sleeping off. All trees are awake
    after a reset, so this changes nothing else.
    """
    flags = model.opt.enableflags
    model.opt.enableflags = flags & ~int(mujoco.mjtEnableBit.mjENBL_SLEEP)
    try:
        mujoco.mj_forward(model, data)
    finally:
        model.opt.enableflags = flags


def _name_of(value: str | dict[str, Any], key: str = "name") -> str:
    return value if isinstance(value, str) else str(value.get(key))


class SimfarmEnv(gym.Env):
    """A simfarm task as a gymnasium env (ids simfarm/PickPlace-v0 etc.)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, config: EnvConfig | None = None, render_mode: str | None = None, **kwargs: Any):
        config = dataclasses.replace(config) if config is not None else EnvConfig()
        accepted = [f for f in EnvConfig.__dataclass_fields__ if f != "extra"]
        for key, value in kwargs.items():
            if key not in accepted:
                raise ConfigError(f"unknown env option {key!r}{did_you_mean(key, accepted)}; accepted: {', '.join(accepted)}")
            setattr(config, key, value)
        # The same rules (and messages) as a job config's keys: simfarm.envs.options.
        for key, value in check_env_options(dataclasses.asdict(config)).items():
            setattr(config, key, value)
        if render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode: got {render_mode!r}; accepted: rgb_array")
        self.config = config
        self.obs_parts = obs_parts(config.obs_mode)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": config.control_hz}

        from simfarm.randomization import load_preset
        from simfarm.robots import make_robot
        from simfarm.scene import resolve_scene_source

        self.task = make_task(config.task)
        robot_cfg = {"name": config.robot} if isinstance(config.robot, str) else dict(config.robot)
        self.robot = make_robot(robot_cfg.pop("name"), **robot_cfg)
        self.task.check_robot(self.robot)
        from simfarm.suites import holdout_for

        self.holdout = holdout_for(config.holdout, config.suite)
        if self.holdout is not None:
            self.holdout.check_robot([self.robot.name])
            self.task.instruction_split = self.holdout.instruction_split
            self.task.object_filter = self.holdout.object_allowed
        if config.cameras is None:
            config.cameras = default_cameras(self.robot)
        self.scene_source = resolve_scene_source(config.scene)
        self.preset = load_preset(config.randomization)
        self.max_steps = int(config.max_steps or self.task.max_steps)
        self.control_mode = config.control_mode or self.task.default_control_mode

        self._built = None
        self._scene_key: Any = None
        self._renderers: dict[tuple[int, int], Any] = {}
        self._seed: int | None = None
        self._episode_counter = 0
        self._step_count = 0
        self.episode_info: dict[str, Any] = {}
        # False: the observation that comes with terminated/truncated has no "images" (one render
        # per camera saved per episode). Recorders that store the observation before each action
        # (simfarm.rollout) never use that last frame; RL code that bootstraps from it keeps True.
        self.final_observation_images = True

        # Build the first scene now so spaces are known (a fixed scene is built once for good),
        # drawn exactly as reset draws it: a scene the task cannot use is redrawn.
        self._setup_episode(0, 0, None, {})
        self.observation_space = self._make_observation_space()
        self.action_space = self.handle.action_space(self.control_mode)

    # -- scene management ---------------------------------------------------------------------

    def _ensure_scene(self, seeds, scene_spec=None, attempt: int = 0) -> None:
        """Sample + build the episode's scene unless the cached one is the same.

        `attempt` > 0 asks for the attempt-th redraw from the same scene stream (the task could not
        use the earlier draws), so the scene stays a pure function of (seed, scene index, attempt).
        """
        from simfarm.randomization import ModelRandomizer, randomize_scene_spec
        from simfarm.scene import build_scene

        if scene_spec is not None:
            key = ("spec", scene_spec.content_hash())
        elif self.scene_source.fixed and not self.preset.has_structural:
            key = ("fixed",)
        else:
            # A fixed scene with structural randomization (e.g. table height) varies per scene index
            # too: keying it by index keeps an episode's scene independent of what the worker ran before.
            key = ("sampled", seeds.seed, seeds.index // self.config.scene_resample_every, seeds.split, attempt)
        if key == self._scene_key and self._built is not None:
            return
        if scene_spec is None:
            # The scene stream belongs to the scene (shared by scene_resample_every episodes), not
            # to the episode that happens to build it first.
            scene_rng = scene_rng_for(seeds.seed, seeds.index // self.config.scene_resample_every, seeds.split)
            request = self.task.scene_request(self.task.options)
            if self.holdout is not None and self.holdout.role == "exclude" and self.holdout.suite.objects:
                request = dataclasses.replace(request, exclude_objects=self.holdout.suite.objects)
            for _ in range(attempt + 1):
                spec = self.scene_source.sample(scene_rng, robot=self.robot, request=request)
                spec, self._spec_randomization = randomize_scene_spec(spec, self.preset, scene_rng)
            # A scene the task cannot use is rejected before it costs a build (TaskError: next draw).
            self.task.check_scene(TaskScene(None, None, spec, None, self.robot))
            if self.holdout is not None:
                self.holdout.check_scene(spec)
        else:
            spec, self._spec_randomization = scene_spec, {}
        built = build_scene(spec)
        self._built = built
        self._scene_key = key
        self.model = built.model
        self.data = mujoco.MjData(self.model)
        self.handle = self.robot.bind(self.model)
        self.randomizer = ModelRandomizer(self.model, self.preset)
        self.n_substeps = max(1, int(round(1.0 / (self.config.control_hz * self.model.opt.timestep))))
        self._robot_geoms = np.asarray(self.handle.geom_ids)
        self._robot_geom_mask = np.zeros(self.model.ngeom, dtype=bool)
        self._robot_geom_mask[self._robot_geoms] = True
        self._env_geom_mask = self._static_geom_mask()
        self._camera_ids = {cam: self._camera_id(cam) for cam in self._cameras()}
        self.instances = None
        self.cloud_views: dict[str, dict[str, np.ndarray]] = {}
        if self.obs_parts & {"segmentation", "pointcloud"}:
            from simfarm.envs.segmentation import InstanceTable

            self.instances = InstanceTable(self.model, built, self.handle.geom_ids)
        self._rays: dict[str, np.ndarray] = {}

    def _static_geom_mask(self) -> np.ndarray:
        """Furniture, walls and floors: geoms the robot should not bump into (from the scene index)."""
        index = self._built.index
        mask = np.zeros(self.model.ngeom, dtype=bool)
        for ids in (index.furniture_geom_ids, index.wall_geom_ids, index.floor_geom_ids):
            mask[np.asarray(ids, dtype=int)] = True
        return mask

    def _cameras(self) -> tuple[str, ...]:
        return self.config.cameras if self.obs_parts & set(IMAGE_PARTS) else ()

    def _camera_id(self, cam: str) -> int:
        name = model_camera_name(self.robot, cam)
        cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, name)
        if cam_id < 0:
            names = [mujoco.mj_id2name(self.model, mujoco.mjtObj.mjOBJ_CAMERA, i) for i in range(self.model.ncam)]
            raise ConfigError(f"cameras: unknown camera {cam!r}; this scene has: {', '.join([*self.robot.cameras, *(n for n in names if n)])}")
        return cam_id

    @property
    def built_scene(self):
        return self._built

    @property
    def camera_ids(self) -> dict[str, int]:
        """The observation's cameras (dataset names) and their ids in the current model."""
        return dict(self._camera_ids)

    def renderer(self):
        """The env's CameraRenderer at its camera size, switched to the current scene."""
        return self._renderer(tuple(self.config.camera_size))

    # -- spaces -------------------------------------------------------------------------------

    def _make_observation_space(self) -> spaces.Dict:
        parts: dict[str, spaces.Space] = {}
        if "state" in self.obs_parts:
            n_state = len(self.handle.state_names())
            parts["state"] = spaces.Box(-np.inf, np.inf, (n_state,), np.float32)
            n_env = len(self.task.environment_state_names)
            parts["environment_state"] = spaces.Box(-np.inf, np.inf, (n_env,), np.float32)
        h, w = self.config.camera_size
        cams = self._cameras()
        if "rgb" in self.obs_parts:
            parts["images"] = spaces.Dict({cam: spaces.Box(0, 255, (h, w, 3), np.uint8) for cam in cams})
        if "depth" in self.obs_parts:
            parts["depth"] = spaces.Dict({cam: spaces.Box(0.0, np.inf, (h, w), np.float32) for cam in cams})
        if "segmentation" in self.obs_parts:
            parts["segmentation"] = spaces.Dict({cam: spaces.Box(0, 255, (h, w), np.uint8) for cam in cams})
        if "pointcloud" in self.obs_parts:
            # xyz (m, base frame), rgb (0..255), instance id: every row a real point of the scene.
            low = np.array([-np.inf] * 3 + [0.0] * 4, np.float32)
            high = np.array([np.inf] * 3 + [255.0] * 4, np.float32)
            n = self.config.pointcloud_points
            parts["pointcloud"] = spaces.Box(np.tile(low, (n, 1)), np.tile(high, (n, 1)), (n, 7), np.float32)
        return spaces.Dict(parts)

    def state_names(self) -> list[str]:
        return list(self.handle.state_names())

    def action_names(self) -> list[str]:
        return list(self.handle.action_names(self.control_mode))

    # -- episode ------------------------------------------------------------------------------

    def _setup_episode(self, seed: int, index: int, scene_spec, options: dict[str, Any]):
        """Scene (drawn again while the task cannot use it), model randomization, robot and task reset.

        Returns (seeds, applied randomization values, scene attempt). The constructor runs it too,
        so an env whose first scene draw does not suit its task still builds.
        """
        redraw = scene_spec is None and not self.scene_source.fixed
        for attempt in range(MAX_SCENE_ATTEMPTS if redraw else 1):
            # Fresh streams per attempt: an attempt's draws never depend on how far a failed one got.
            seeds = episode_seeds(seed, index, self.config.split)
            try:
                self._ensure_scene(seeds, scene_spec, attempt)
            except TaskError as exc:
                if not redraw or attempt == MAX_SCENE_ATTEMPTS - 1:
                    raise TaskError(f"{exc} (after {attempt + 1} scene draw(s))") from exc
                continue
            mujoco.mj_resetData(self.model, self.data)
            if "randomization" in options:
                applied = options["randomization"]
                self.randomizer.apply_values(self.model, applied.get("model", {}))
            else:
                applied = {"spec": self._spec_randomization, "model": self.randomizer.apply(self.model, seeds.randomization)}
            self.handle.reset(self.data)
            forward_all(self.model, self.data)
            try:
                scene = TaskScene(self.model, self._built.index, self._built.spec, self.handle, self.robot,
                                  show_goal_markers=self.config.render_goal_markers)
                if self.holdout is not None and self.holdout.role == "only" and self.holdout.suite.goals:
                    self._reset_other_goal(scene, seeds)
                else:
                    self.task.reset(scene, self.data, seeds.task)
                break
            except TaskError as exc:
                if not redraw or attempt == MAX_SCENE_ATTEMPTS - 1:
                    raise TaskError(f"{exc} (after {attempt + 1} scene draw(s))") from exc
        forward_all(self.model, self.data)

        return seeds, applied, attempt

    def _reset_other_goal(self, scene: TaskScene, seeds) -> None:
        """The goal suite: the goal this scene has in training, avoided, drawn from a stream no
        generation job uses (GOAL_SUITE_SPLIT)."""
        self.task.reset(scene, self.data, seeds.task)
        training_goal = self.task.goal.values
        rng = episode_seeds(seeds.seed, seeds.index, GOAL_SUITE_SPLIT).task
        for _ in range(GOAL_SUITE_DRAWS):
            self.task.reset(scene, self.data, rng)
            if self.task.goal.values != training_goal:
                return
        raise TaskError(f"the goal suite: this scene offers task {self.task.name!r} no goal but its training one")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode.

        options: `episode_index` (default: a counter since the last seed), `scene_spec` (a SceneSpec
        to use instead of sampling, for replay), `randomization` (recorded values to re-apply).
        """
        super().reset(seed=seed)
        options = dict(options or {})
        if seed is not None:
            self._seed = int(seed)
            self._episode_counter = 0
        elif self._seed is None:
            self._seed = int(self.np_random.integers(2**31))
        index = int(options.get("episode_index", self._episode_counter))
        self._episode_counter = index + 1
        t0 = time.perf_counter()
        seeds, applied, attempt = self._setup_episode(self._seed, index, options.get("scene_spec"), options)
        self._sensor_rng = seeds.sensor
        # The point-cloud sample's own stream, so the other modes' noise draws stay as they were.
        self._cloud_rng = pointcloud_rng(seeds.seed, seeds.index, seeds.split)
        self._timing = self.preset.make_timing(self.action_space, seeds.sensor)
        applied = {**applied, "timing": self._timing.values}
        # Camera realism (exposure, white balance, blur, JPEG, lens) on RGB only; recorded when the preset has it.
        self._camera_fx = self.preset.camera.draw(seeds.sensor)
        if self.preset.camera.enabled:
            applied["camera"] = self._camera_fx.values
        self._step_count = 0
        self._safety = {"peak_contact_force_n": 0.0, "collisions": 0, "joint_limit_hits": 0}
        self._in_collision = False
        self._success = False
        self._subtasks = self.task.subtasks()
        self._progress = 0
        self._advance_subtasks()
        self.episode_info = {
            "seed": self._seed,
            "episode_index": index,
            "split": self.config.split,
            "instruction": self.task.instruction,
            "scene_hash": self._built.spec.content_hash(),
            "scene_attempt": attempt,
            "randomization": applied,
            "goal": self.task.goal.values,
            "plan": [sub.text for sub in self._subtasks],
            "paraphrases": self.task.paraphrases(),
            "setup_time_s": time.perf_counter() - t0,
        }
        if self._camera_ids:
            self.episode_info["camera_info"] = self.camera_info()
        if self.instances is not None:
            self.episode_info["segmentation"] = self.instances.table()
        return self._observation(), self._info()

    def step(self, action):
        action = np.asarray(action, dtype=np.float32)
        if action.shape != self.action_space.shape:
            raise ValueError(
                f"action has shape {action.shape}; {self.control_mode} of robot {self.robot.name!r} expects {self.action_space.shape}"
            )
        applied = self._timing.apply(action)
        self.handle.apply_action(self.data, applied, self.control_mode)
        mujoco.mj_step(self.model, self.data, nstep=self.n_substeps)
        if not np.isfinite(self.data.qpos).all() or self.data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number > 0:
            from simfarm.errors import EpisodeError

            raise EpisodeError(f"physics diverged at step {self._step_count} (non-finite state or bad acceleration)")
        self._step_count += 1
        self._update_safety()
        self._advance_subtasks()
        success = bool(self.task.success(self.data))
        self._success = self._success or success
        reward = float(self.task.reward(self.data))
        terminated = success
        truncated = (not terminated) and self._step_count >= self.max_steps
        images = self.final_observation_images or not (terminated or truncated)
        return self._observation(images), reward, terminated, truncated, self._info()

    def _advance_subtasks(self) -> None:
        """Move past every subtask done now, in order (progress never goes back)."""
        while self._progress < len(self._subtasks) and self._subtasks[self._progress].done(self.data):
            self._progress += 1

    @property
    def subtask_index(self) -> int:
        """The subtask the robot is on: the first not yet done (the last once all are)."""
        return min(self._progress, len(self._subtasks) - 1)

    def _update_safety(self) -> None:
        """Peak contact force on the robot, collisions with furniture/walls, joint-limit hits."""
        d, m = self.data, self.model
        n = d.ncon
        colliding = False
        if n:
            g1 = d.contact.geom1[:n]
            g2 = d.contact.geom2[:n]
            robot_contacts = np.flatnonzero(self._robot_geom_mask[g1] | self._robot_geom_mask[g2])
            if robot_contacts.size:
                force = np.zeros(6)
                peak = self._safety["peak_contact_force_n"]
                for i in robot_contacts:
                    mujoco.mj_contactForce(m, d, int(i), force)
                    peak = max(peak, float(abs(force[0])))
                self._safety["peak_contact_force_n"] = peak
                other = np.where(self._robot_geom_mask[g1[robot_contacts]], g2[robot_contacts], g1[robot_contacts])
                colliding = bool(self._env_geom_mask[other].any())
        if colliding and not self._in_collision:
            self._safety["collisions"] += 1
        self._in_collision = colliding
        self._safety["joint_limit_hits"] += self.handle.joint_limit_hits(d)

    def _observation(self, images: bool = True) -> dict[str, Any]:
        obs: dict[str, Any] = {}
        if "state" in self.obs_parts:
            state = self.handle.state(self.data).astype(np.float32, copy=False)
            obs["state"] = self.preset.noisy_state(state, self._sensor_rng)
            obs["environment_state"] = self.task.environment_state(self.data).astype(np.float32, copy=False)
        if not images or not self._camera_ids:
            return obs
        parts = self.obs_parts
        renderer = self._renderer(tuple(self.config.camera_size))
        want_rgb = bool(parts & {"rgb", "pointcloud"})
        want_depth = bool(parts & {"depth", "pointcloud"})
        want_seg = bool(parts & {"segmentation", "pointcloud"})
        rgb, depth, seg = {}, {}, {}
        labels = self.instances.geom_instance if want_seg else None
        for cam, cam_id in self._camera_ids.items():
            views = renderer.render_views(self.data, cam_id, rgb=want_rgb, depth=want_depth, labels=labels)
            if want_rgb:
                rgb[cam] = self.preset.camera_image(views["rgb"], self._camera_fx, self._sensor_rng)
            if want_depth:
                depth[cam] = views["depth"]
            if want_seg:
                seg[cam] = views["labels"]
        if "rgb" in parts:
            obs["images"] = rgb
        if "depth" in parts:
            obs["depth"] = depth
        if "segmentation" in parts:
            obs["segmentation"] = seg
        if "pointcloud" in parts:
            obs["pointcloud"] = self._pointcloud(rgb, depth, seg)
            # What the cloud was made of, for recorders that store it recomputably (simfarm.rollout).
            self.cloud_views = {"images": rgb, "depth": depth, "segmentation": seg}
        return obs

    # -- camera geometry and point clouds ------------------------------------------------------

    def base_pose(self) -> np.ndarray:
        """(4, 4) world pose of the robot's base frame (its root body)."""
        return geometry.world_T_body(self.data, self.handle.root_body_id)

    def camera_geometry(self, cam: str) -> dict[str, np.ndarray]:
        """Camera `cam` now: intrinsics (3, 3), world_T_camera and base_T_camera (4, 4), OpenCV axes
        (simfarm.envs.geometry)."""
        cam_id = self._camera_ids[cam] if cam in self._camera_ids else self._camera_id(cam)
        h, w = self.config.camera_size
        world_T_cam = geometry.world_T_camera(self.data, cam_id)
        return {
            "intrinsics": geometry.intrinsic_matrix(float(self.model.cam_fovy[cam_id]), h, w),
            "world_T_camera": world_T_cam,
            "base_T_camera": geometry.invert(self.base_pose()) @ world_T_cam,
        }

    def camera_info(self) -> dict[str, dict[str, Any]]:
        """Per camera: size, vertical field of view, whether it moves in the world (a wrist), and
        `rgb_lens_k1` when the episode's camera realism distorts the RGB image (the pinhole
        intrinsics then describe depth and segmentation, and RGB through that lens:
        simfarm.randomization.camera_effects.distort)."""
        h, w = self.config.camera_size
        k1 = float(getattr(getattr(self, "_camera_fx", None), "lens_k1", 0.0) or 0.0)
        out = {}
        for cam, cam_id in self._camera_ids.items():
            body = int(self.model.cam_bodyid[cam_id])
            moving = body != 0 and not (self.model.body_weldid[body] == 0 and self.model.body_mocapid[body] < 0)
            out[cam] = {"height": h, "width": w, "fovy_deg": float(self.model.cam_fovy[cam_id]), "moving": bool(moving)}
            if k1:
                out[cam]["rgb_lens_k1"] = k1
        return out

    def _pointcloud(self, rgb: dict, depth: dict, seg: dict) -> np.ndarray:
        """(N, 7) xyz in the base frame, rgb, instance id: the cameras' points fused, cropped,
        sampled to N (simfarm.envs.pointcloud)."""
        from simfarm.envs import pointcloud

        views = []
        for cam in self._camera_ids:
            g = self.camera_geometry(cam)
            views.append(pointcloud.CameraView(depth[cam], rgb[cam], seg[cam], g["intrinsics"], g["world_T_camera"],
                                               g["base_T_camera"]))
        crop = self.config.pointcloud_crop
        if crop is True:
            box = pointcloud.workspace_box(self._built.spec)
        elif crop is False:
            box = None
        else:
            box = pointcloud.base_box(crop, self.base_pose())
        zfar = float(self.model.vis.map.zfar * self.model.stat.extent)
        return pointcloud.fuse(views, zfar, self.config.pointcloud_points, self._cloud_rng, box, self._rays)

    def _info(self) -> dict[str, Any]:
        return {
            "success": self._success,
            "is_success": self._success,
            "instruction": self.task.instruction,
            "safety": dict(self._safety),
            "step": self._step_count,
            "subtask": self._subtasks[self.subtask_index].text,
            "subtask_index": self.subtask_index,
            "subtasks_done": self._progress,
        }

    def _renderer(self, size: tuple[int, int]):
        from simfarm.render import CameraRenderer

        renderer = self._renderers.get(size)
        if renderer is None:
            renderer = self._renderers[size] = CameraRenderer(self.model, size[0], size[1], pretty=self.config.pretty)
        # Switched lazily: scenes a task rejected (redraws) never reach the renderer.
        renderer.set_model(self.model)
        return renderer

    def physics_state(self, out: np.ndarray | None = None) -> np.ndarray:
        """The full physics state (mj_getState FULLPHYSICS), what replay compares; into `out` if given."""
        spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        if out is None:
            out = np.empty(mujoco.mj_stateSize(self.model, spec))
        mujoco.mj_getState(self.model, self.data, out, spec)
        return out

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        renderer = self._renderer(tuple(self.config.camera_size))
        return renderer.render(self.data, self._camera_id("workspace"))

    def make_expert(self, noise_std: float = 0.0):
        """The task's scripted expert for this env.

        `noise_std` > 0 perturbs each executed action with Gaussian noise (a fraction of each
        dimension's range, DART-style); the expert, closed-loop, recovers from the perturbation,
        which widens the state distribution of the demonstrations.
        """
        if not noise_std >= 0.0:
            raise ConfigError(f"noise_std: got {noise_std!r}; accepted: a number >= 0 (fraction of the action range)")
        expert = self.task.make_expert(self)
        expert.noise_std = float(noise_std)
        return expert

    def close(self):
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()
