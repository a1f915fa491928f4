"""Which camera names a job can use, known before any scene is built or any worker starts.

A scene's cameras come from its SceneSpec (a room program gives `workspace` and one `overview_<k>`
per room; a fixed scene lists its own); the robot adds `wrist` when it has a wrist camera. The
driver samples the SceneSpec of the job's first episode (pure Python, no MuJoCo model) and checks
the configured names against it, so a misspelt camera fails in one line instead of in a worker.
"""

from __future__ import annotations

from typing import Any

from simfarm.checks import did_you_mean
from simfarm.errors import ConfigError, SceneError

ROBOT_PREFIX = "robot/"  # where the scene builder attaches the robot (simfarm.scene.builder)


def default_cameras(robot) -> tuple[str, ...]:
    """`cameras: null`: the scene's workspace view plus the robot's own cameras (wrist, top... if any)."""
    return ("workspace", *robot.cameras)


def robot_camera_names(robot) -> list[str]:
    """The names a job may use for the robot's own cameras: `wrist` and its model name `robot/wrist_cam`."""
    return [*robot.cameras, *(ROBOT_PREFIX + cam for cam in robot.cameras.values())]


def model_camera_name(robot, name: str) -> str:
    """The compiled model's name of camera `name` (a robot camera's dataset name, or a scene camera)."""
    return ROBOT_PREFIX + robot.cameras[name] if name in robot.cameras else name


def scene_camera_names(spec) -> list[str]:
    return [cam.name for cam in spec.cameras]


def check_job_cameras(cfg: dict[str, Any]) -> None:
    """ConfigError when an image job names a camera that neither its scenes nor its robot have."""
    from simfarm.envs.options import IMAGE_PARTS, check_cameras, obs_parts

    if not obs_parts(cfg.get("obs_mode", "state")) & set(IMAGE_PARTS) or not cfg.get("scene") or not cfg.get("robot"):
        return
    from simfarm.robots import make_robot
    from simfarm.robots.mix import is_mix, mix_weights
    from simfarm.scene import resolve_scene_source
    from simfarm.seeding import scene_rng
    from simfarm.tasks import make_task

    if is_mix(cfg["robot"]):
        for member in mix_weights(cfg["robot"]):
            check_job_cameras({**cfg, "robot": member})
        return
    robot_cfg = {"name": cfg["robot"]} if isinstance(cfg["robot"], str) else dict(cfg["robot"])
    robot = make_robot(robot_cfg.pop("name"), **robot_cfg)
    cameras = check_cameras(cfg["cameras"]) if cfg.get("cameras") is not None else default_cameras(robot)
    source = resolve_scene_source(cfg["scene"])
    task = make_task(cfg["task"]) if cfg.get("task") else None
    request = task.scene_request(task.options) if task is not None else None
    try:
        spec = source.sample(scene_rng(int(cfg.get("seed", 0)), 0, cfg.get("split", "train")), robot=robot, request=request)
    except SceneError:
        return  # the first draw did not suit the task; the episode's own redraws will tell
    known = [*robot_camera_names(robot), *scene_camera_names(spec)]
    for cam in cameras:
        if cam in known or _is_room_overview(cam, source):
            continue
        raise ConfigError(
            f"cameras: unknown camera {cam!r}{did_you_mean(cam, known)}; "
            f"robot {robot.name!r} in scene {source.name!r} has: {', '.join(known)}"
        )


def _is_room_overview(cam: str, source) -> bool:
    """`overview_<k>` of a room program: present in scenes with more than k rooms."""
    if source.fixed or not cam.startswith("overview_"):
        return False
    from simfarm.scene.catalog import load_program

    suffix = cam[len("overview_"):]
    return suffix.isdigit() and int(suffix) < load_program(source.program).room_count[1]
