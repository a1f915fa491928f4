"""Optional robot source: MuJoCo Menagerie models (mesh-accurate visuals).

Models come from `$MENAGERIE_ROOT/<model>/` (a checkout of google-deepmind/mujoco_menagerie) or
from the `mujoco_menagerie` package's cache. Nothing is downloaded unless `download=True`: on an
air-gapped machine a missing model fails at once with instructions. A small table maps each known
model to its arm joints, gripper actuator, TCP and cameras; a `grip_site` and a `wrist_cam` are
added to the hand when the model lacks them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from simfarm.errors import RobotError
from simfarm.robots.builtin import Robot
from simfarm.robots.layout import RobotLayout
from simfarm.robots.panda import MAX_REACH_M, TCP_OFFSET_M, _look_at_quat


@dataclass(frozen=True)
class MenagerieEntry:
    """How simfarm drives one Menagerie model."""

    robot_file: str
    root_body: str
    hand_body: str
    arm_joints: tuple[str, ...]
    arm_actuators: tuple[str, ...]
    home_qpos: tuple[float, ...]
    gripper_joints: tuple[str, ...]
    gripper_actuator: str
    gripper_ctrl_open: float
    gripper_ctrl_closed: float
    gripper_home_qpos: tuple[float, ...]
    tcp_in_hand_m: tuple[float, float, float]
    reach_m: float
    footprint_radius_m: float


KNOWN_MODELS: dict[str, MenagerieEntry] = {
    "franka_emika_panda": MenagerieEntry(
        robot_file="panda.xml",
        root_body="link0",
        hand_body="hand",
        arm_joints=tuple(f"joint{i}" for i in range(1, 8)),
        arm_actuators=tuple(f"actuator{i}" for i in range(1, 8)),
        home_qpos=(0.0, -math.pi / 4, 0.0, -3 * math.pi / 4, 0.0, math.pi / 2, math.pi / 4),
        gripper_joints=("finger_joint1", "finger_joint2"),
        # actuator8 maps 0..255 to 0..0.04 m per finger.
        gripper_actuator="actuator8",
        gripper_ctrl_open=255.0,
        gripper_ctrl_closed=0.0,
        gripper_home_qpos=(0.04, 0.04),
        tcp_in_hand_m=(0.0, 0.0, TCP_OFFSET_M),
        reach_m=MAX_REACH_M,
        footprint_radius_m=0.15,
    ),
}


def _fetch_hint(model: str) -> str:
    return (
        f"set MENAGERIE_ROOT=/path/to/mujoco_menagerie (a checkout of github.com/google-deepmind/mujoco_menagerie "
        f"holding {model}/), or fetch it once where the internet is reachable with "
        f"`python -c \"import mujoco_menagerie; mujoco_menagerie.prefetch(['{model}'])\"`, "
        f"or use the offline builtin robot=arm"
    )


def find_model_file(
    model: str, root: str | os.PathLike | None = None, download: bool = False
) -> Path:
    """The model's robot XML: under `root` or $MENAGERIE_ROOT, else the mujoco_menagerie cache."""
    entry = KNOWN_MODELS[model]
    root = root or os.environ.get("MENAGERIE_ROOT")
    if root:
        folder = Path(root) / model
        candidates = [folder / entry.robot_file, folder / f"{model}.xml", folder / "scene.xml"]
        for path in candidates:
            if path.is_file():
                return path
        raise RobotError(
            f"menagerie model {model!r} not found under MENAGERIE_ROOT={root} (looked for "
            + ", ".join(str(c) for c in candidates)
            + "); "
            + _fetch_hint(model)
        )
    try:
        import mujoco_menagerie
    except ImportError:
        raise RobotError(
            f"menagerie model {model!r}: the mujoco-menagerie package is not installed (pip install 'simfarm[menagerie]') "
            f"and MENAGERIE_ROOT is not set; " + _fetch_hint(model)
        ) from None
    record = mujoco_menagerie.get(model)
    cache = mujoco_menagerie.Cache()
    if not download and not cache.is_cached(record):
        raise RobotError(
            f"menagerie model {model!r} is not in the local cache ({cache.dir}); "
            + _fetch_hint(model)
            + ", or pass download=true"
        )
    try:
        return record.path(cache) / entry.robot_file
    except mujoco_menagerie.MenagerieError as exc:
        raise RobotError(
            f"menagerie model {model!r} could not be fetched ({exc}); " + _fetch_hint(model)
        ) from exc


def _absolutize_asset_paths(spec: mujoco.MjSpec, model_dir: Path) -> None:
    """Make mesh/texture files absolute so the spec still compiles once attached elsewhere."""
    mesh_dir = model_dir / (spec.meshdir or "")
    tex_dir = model_dir / (spec.texturedir or "")
    for mesh in spec.meshes:
        if mesh.file and not Path(mesh.file).is_absolute():
            mesh.file = str((mesh_dir / mesh.file).resolve())
    for tex in spec.textures:
        if tex.file and not Path(tex.file).is_absolute():
            tex.file = str((tex_dir / tex.file).resolve())
    spec.meshdir = ""
    spec.texturedir = ""


class MenagerieRobot(Robot):
    """A Menagerie arm, renamed so its root body is `base` and given a `grip_site` and `wrist_cam`."""

    def __init__(self, model: str, root: str | None = None, download: bool = False):
        if model not in KNOWN_MODELS:
            raise RobotError(
                f"unknown menagerie model {model!r}; accepted: {', '.join('menagerie:' + m for m in KNOWN_MODELS)}"
            )
        entry = KNOWN_MODELS[model]
        layout = RobotLayout(
            root_body="base",
            arm_joints=entry.arm_joints,
            arm_actuators=entry.arm_actuators,
            arm_home_qpos=entry.home_qpos,
            arm_mount_body="base",
            tcp_site="grip_site",
            wrist_camera="wrist_cam",
            gripper_joints=entry.gripper_joints,
            gripper_actuator=entry.gripper_actuator,
            gripper_ctrl_open=entry.gripper_ctrl_open,
            gripper_ctrl_closed=entry.gripper_ctrl_closed,
            gripper_home_qpos=entry.gripper_home_qpos,
        )
        super().__init__(
            name=f"menagerie:{model}",
            layout=layout,
            has_arm=True,
            has_base=False,
            footprint_radius_m=entry.footprint_radius_m,
            reach_m=entry.reach_m,
            # The Menagerie arm has no pedestal: its base link sits on whatever the scene puts it on.
            mount_height_m=0.0,
            params={"root": root, "download": bool(download)},
        )
        self.model_name = model
        self.entry = entry
        self.xml_path = find_model_file(model, root, download)

    def build_spec(self) -> mujoco.MjSpec:
        spec = mujoco.MjSpec.from_file(str(self.xml_path))
        _absolutize_asset_paths(spec, self.xml_path.parent)
        root = spec.body(self.entry.root_body)
        if root is None:
            raise RobotError(
                f"menagerie model {self.model_name!r} ({self.xml_path}) has no body {self.entry.root_body!r}"
            )
        root.name = "base"
        root.pos = [0.0, 0.0, 0.0]
        hand = spec.body(self.entry.hand_body)
        if hand is None:
            raise RobotError(
                f"menagerie model {self.model_name!r} has no hand body {self.entry.hand_body!r}"
            )
        if spec.site("grip_site") is None:
            hand.add_site(
                name="grip_site", pos=list(self.entry.tcp_in_hand_m), size=[0.006, 0, 0], group=4
            )
        if spec.camera("wrist_cam") is None:
            eye = np.array([0.075, 0.0, 0.03])
            hand.add_camera(
                name="wrist_cam",
                pos=eye,
                quat=_look_at_quat(eye, np.array([0.0, 0.0, 0.22]), np.array([1.0, 0.0, 0.0])),
                fovy=75.0,
            )
        # Keyframes refer to the model's own qpos layout, which an attaching scene changes.
        for key in list(spec.keys):
            spec.delete(key)
        return spec
