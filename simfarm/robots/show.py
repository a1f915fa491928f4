"""`simfarm robot show NAME out=PATH.png`: the robot alone at its home pose, with its TCP frame.

    simfarm robot show ur5e out=ur5e.png [pretty=true] [size=480x640]

Two views side by side (front three-quarter and side), the robot on a floor at its home pose,
gripper open; the TCP (`grip_site`: z approach in blue, y finger motion in green) and the hand's
frame are drawn. A one-line summary (DoF, reach, cameras, control modes) goes to stderr.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import mujoco
import numpy as np

from simfarm.checks import boolean, did_you_mean, writable_file
from simfarm.errors import ConfigError

log = logging.getLogger("simfarm.robots")
KEYS = ("out", "pretty", "size")


def robot_scene(name: str) -> tuple[mujoco.MjModel, object]:
    """A model of the robot on a lit floor with two cameras framing it, and its handle."""
    from simfarm.robots import make_robot
    from simfarm.robots.serial import look_at_quat

    robot = make_robot(name)
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.1], rgba=[0.55, 0.57, 0.6, 1])
    spec.worldbody.add_light(pos=[0.5, -1.0, 3.0], dir=[-0.2, 0.3, -1.0], diffuse=[0.8, 0.8, 0.8])
    spec.worldbody.add_light(pos=[-1.0, 1.0, 2.5], dir=[0.3, -0.3, -1.0], diffuse=[0.35, 0.35, 0.35])
    frame = spec.worldbody.add_frame()
    frame.attach_body(robot.build_spec().body("base"), "robot/", "")
    height = robot.mount_height_m + 0.3
    scale = max(robot.reach_m, 0.5)
    target = np.array([0.2 * scale, 0.0, robot.mount_height_m + 0.15])
    for cam, eye in (("front", [1.4 * scale, -1.1 * scale, height + 0.35]), ("side", [0.25 * scale, -1.7 * scale, height])):
        spec.worldbody.add_camera(name=cam, pos=eye, quat=look_at_quat(eye, target, (0, 0, 1)), fovy=50)
    model = spec.compile()
    return model, robot.bind(model)


def render_robot(name: str, path_png: str | Path, size: tuple[int, int] = (480, 640), pretty: bool = True) -> Path:
    from PIL import Image

    from simfarm.render import CameraRenderer

    path = writable_file("out", path_png, (".png",))
    model, handle = robot_scene(name)
    data = mujoco.MjData(model)
    handle.reset(data)
    mujoco.mj_forward(model, data)
    # Frame sizes are in units of the model's mean body size: about 10 cm long axes.
    model.vis.scale.framelength = 0.1 / model.stat.meansize
    model.vis.scale.framewidth = 0.008 / model.stat.meansize
    with CameraRenderer(model, size[0], size[1], pretty=pretty) as renderer:
        renderer.option.frame = mujoco.mjtFrame.mjFRAME_SITE
        renderer.option.sitegroup[4] = 1  # the TCP and hand sites live in group 4
        frames = [renderer.render(data, cam).copy() for cam in ("front", "side")]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(frames, axis=1)).save(path)
    return path


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ConfigError(f"size: expected HEIGHTxWIDTH such as 480x640, got {text!r}") from None
    if not (16 <= h <= 4096 and 16 <= w <= 4096):
        raise ConfigError(f"size: height and width must be in 16..4096, got {text!r}")
    return h, w


def main(argv: list[str]) -> int:
    from simfarm.robots import make_robot, robot_names
    from simfarm.robots.registry import describe

    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv else 2
    if argv[0] != "show":
        raise ConfigError(f"robot: unknown subcommand {argv[0]!r}{did_you_mean(argv[0], ['show'])}; accepted: show")
    names = [a for a in argv[1:] if "=" not in a]
    if len(names) != 1:
        raise ConfigError(f"robot show: expected one robot NAME (one of {', '.join(robot_names())}), got {names}")
    values = {"out": "", "pretty": "true", "size": "480x640"}
    for arg in argv[1:]:
        if "=" in arg:
            key, _, value = arg.partition("=")
            if key not in KEYS:
                raise ConfigError(f"robot show: unknown key {key!r}{did_you_mean(key, KEYS)}; accepted: {', '.join(KEYS)}")
            values[key] = value
    if not values["out"]:
        raise ConfigError("robot show: out=PATH.png is required")
    writable_file("out", values["out"], (".png",))
    pretty, size = boolean("pretty", values["pretty"]), _size(values["size"])
    robot = make_robot(names[0])
    info = describe(robot)
    log.info("%s: %d DoF, reach %.3f m, cameras %s, control modes %s", info["name"], info["dof"], info["reach_m"],
             ", ".join(info["cameras"]) or "none", ", ".join(info["control_modes"]))
    log.info("wrote %s", render_robot(robot.name, values["out"], size, pretty))
    return 0
