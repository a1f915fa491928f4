"""The rules for an env's options, shared by `gymnasium.make(...)` kwargs and job configs.

`check_env_options` is the one place that says what `obs_mode`, `control_hz`, `cameras`,
`camera_size`, `max_steps`, ... accept: `SimfarmEnv.__init__` runs it on its EnvConfig and
`simfarm.config.validate` runs it (through `simfarm.envs.validate_config`) on a job, so a
mistake reads the same in Python and on the command line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simfarm import checks
from simfarm.errors import ConfigError

# The parts an observation mode combines with "+" (e.g. rgb+depth+state), in canonical order.
OBS_PARTS = ("rgb", "depth", "segmentation", "pointcloud", "state")
OBS_MODE_EXAMPLES = ("state", "rgb+state", "rgb+depth+state", "rgb+depth+segmentation+state", "pointcloud+state")
IMAGE_PARTS = ("rgb", "depth", "segmentation", "pointcloud")  # the parts that need cameras
POINTCLOUD_POINTS_RANGE = (1, 1_000_000)
# The physics step of every built scene (simfarm.scene.builder.TIMESTEP_S). Kept here as a number
# so checking a config imports no MuJoCo; a test holds the two equal.
PHYSICS_TIMESTEP_S = 0.002
CAMERA_SIZE_RANGE = (16, 4096)


def control_rates_hz(timestep_s: float = PHYSICS_TIMESTEP_S) -> list[int]:
    """Control rates that are a whole number of physics steps (500 Hz physics: 1, 2, 4, 5, 10 ... 500)."""
    steps_per_s = round(1.0 / timestep_s)
    return [hz for hz in range(1, steps_per_s + 1) if steps_per_s % hz == 0]


def check_cameras(value: Any) -> tuple[str, ...]:
    """Camera names as a tuple; a single name (`cameras=wrist`) is one camera, not its letters."""
    if isinstance(value, str):
        value = [value] if value else []
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"cameras: must be a list of camera names (e.g. [workspace, wrist]), got {value!r}")
    for cam in value:
        if not isinstance(cam, str) or not cam:
            raise ConfigError(f"cameras: camera names must be non-empty strings, got {cam!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"cameras: each camera may appear once, got {list(value)!r}")
    return tuple(value)


def check_camera_size(value: Any) -> tuple[int, int]:
    lo, hi = CAMERA_SIZE_RANGE
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi for v in value)
    )
    if not ok:
        shown = list(value) if isinstance(value, tuple) else value  # as a config writes it
        raise ConfigError(f"camera_size: must be [height, width] with integers in {lo}..{hi}, got {shown!r}")
    return (int(value[0]), int(value[1]))


def obs_parts(mode: str) -> frozenset[str]:
    """The parts of a (checked) observation mode: obs_parts("rgb+state") == {"rgb", "state"}."""
    return frozenset(mode.split("+"))


def check_obs_mode(value: Any) -> str:
    """An observation mode in canonical order (depth+rgb -> rgb+depth); ConfigError naming the part."""
    accepted = f"parts {', '.join(OBS_PARTS)} joined with '+' (e.g. {', '.join(OBS_MODE_EXAMPLES)})"
    if not isinstance(value, str) or not value:
        raise ConfigError(f"obs_mode: got {value!r}; accepted: {accepted}")
    parts = [p.strip() for p in value.split("+")]
    for part in parts:
        if part not in OBS_PARTS:
            raise ConfigError(f"obs_mode: unknown part {part!r}{checks.did_you_mean(part, OBS_PARTS)} in {value!r}; accepted: {accepted}")
    if len(set(parts)) != len(parts):
        raise ConfigError(f"obs_mode: {value!r} names a part twice; accepted: {accepted}")
    return "+".join(p for p in OBS_PARTS if p in parts)


def check_pointcloud_crop(value: Any) -> bool | tuple[tuple[float, float], ...]:
    """`true` (the workspace), `false` (no crop), or a box [[xmin, xmax], [ymin, ymax], [zmin, zmax]] in the base frame."""
    if isinstance(value, bool):
        return value
    ok = isinstance(value, (list, tuple)) and len(value) == 3 and all(
        isinstance(r, (list, tuple)) and len(r) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in r)
        and r[0] < r[1] for r in value)
    if not ok:
        raise ConfigError(
            f"pointcloud_crop: got {value!r}; accepted: true (the workspace), false (no crop), or "
            "[[xmin, xmax], [ymin, ymax], [zmin, zmax]] metres in the robot's base frame"
        )
    return tuple((float(r[0]), float(r[1])) for r in value)


def check_control_hz(value: Any) -> int:
    rates = control_rates_hz()
    hz = checks.integer("control_hz", value, 1, rates[-1])
    if hz not in rates:
        raise ConfigError(
            f"control_hz: {hz} Hz is not a whole number of {PHYSICS_TIMESTEP_S * 1000:g} ms physics steps "
            f"(the recorded fps would be wrong); accepted: {', '.join(map(str, rates))}"
        )
    return hz


def check_env_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """The env options present in `values`, checked and normalized (ConfigError naming the key)."""
    out: dict[str, Any] = {}
    if "obs_mode" in values:
        out["obs_mode"] = check_obs_mode(values["obs_mode"])
    if "pointcloud_points" in values:
        out["pointcloud_points"] = checks.integer("pointcloud_points", values["pointcloud_points"], *POINTCLOUD_POINTS_RANGE)
    if "pointcloud_crop" in values:
        out["pointcloud_crop"] = check_pointcloud_crop(values["pointcloud_crop"])
    if "control_hz" in values:
        out["control_hz"] = check_control_hz(values["control_hz"])
    if "cameras" in values:
        out["cameras"] = None if values["cameras"] is None else check_cameras(values["cameras"])
    if "camera_size" in values:
        out["camera_size"] = check_camera_size(values["camera_size"])
    if values.get("max_steps") is not None:
        out["max_steps"] = checks.integer("max_steps", values["max_steps"], 1)
    elif "max_steps" in values:
        out["max_steps"] = None
    if "scene_resample_every" in values:
        out["scene_resample_every"] = checks.integer("scene_resample_every", values["scene_resample_every"], 1)
    if "pretty" in values:
        out["pretty"] = checks.boolean("pretty", values["pretty"])
    for key in ("holdout", "suite"):
        if values.get(key) is not None:
            from simfarm.suites import load_suite, suite_names

            if not isinstance(values[key], str):
                raise ConfigError(f"{key}: must be a suite name ({', '.join(suite_names())}), got {values[key]!r}")
            try:
                load_suite(values[key])
            except ConfigError as exc:
                raise ConfigError(f"{key}: {exc}") from exc
            out[key] = values[key]
    if "render_goal_markers" in values:
        out["render_goal_markers"] = checks.boolean("render_goal_markers", values["render_goal_markers"])
    if "split" in values:
        from simfarm.seeding import SPLITS

        out["split"] = checks.one_of("split", values["split"], SPLITS)
    if values.get("control_mode") is not None:
        mode = values["control_mode"]
        if not isinstance(mode, str):
            raise ConfigError(f"control_mode: must be a name such as ee_delta or joint_pos, got {mode!r}")
        out["control_mode"] = mode
    return out
