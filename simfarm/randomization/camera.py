"""Camera parameters: position (`cam_pos`), orientation (`cam_quat`) and field of view (`cam_fovy`).

Scene cameras (`overview_*`, `workspace`) and robot cameras (`robot/...`, e.g. the wrist camera) are
separate parameters: a few centimetres is a small change for a room camera and a broken mount for
a wrist camera. Orientation jitter is a rotation vector (radians, in the camera's own frame)
composed with the nominal quaternion.
"""

from __future__ import annotations

import mujoco
import numpy as np

from simfarm.randomization.base import ModelGroups, Nominal, ParamDef, Selection, field_param
from simfarm.randomization.distributions import ParamSpec


def quat_from_rotvec(rotvec: np.ndarray) -> np.ndarray:
    """(n, 3) rotation vectors -> (n, 4) unit quaternions (w, x, y, z)."""
    angle = np.linalg.norm(rotvec, axis=1)
    half = 0.5 * angle
    scale = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.concatenate([np.cos(half)[:, None], rotvec * scale[:, None]], axis=1)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (n, 4) quaternion arrays."""
    aw, ax, ay, az = a.T
    bw, bx, by, bz = b.T
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=1)


def _sample_orientation(spec: ParamSpec, nominal: Nominal, sel: Selection, groups: ModelGroups, rng: np.random.Generator) -> np.ndarray:
    rotvec = spec.sample(rng, sel.n_owners, axes=3)[sel.owners]
    quat = quat_mul(nominal["cam_quat"][sel.ids], quat_from_rotvec(rotvec))
    return quat / np.linalg.norm(quat, axis=1, keepdims=True)


def _write_quat(model: mujoco.MjModel, sel: Selection, values: np.ndarray, nominal: Nominal) -> None:
    model.cam_quat[sel.ids] = values


def _camera_params(prefix: str, select, what: str) -> tuple[ParamDef, ParamDef, ParamDef]:
    position = field_param(
        f"{prefix}_position", "visual", "cam_pos", None, select,
        f"cam_pos of {what} (3 axes, metres, in the parent body's frame), one draw per camera.",
        axes=3, default_mode="add", width=3, independent_axes=True,
    )
    orientation = ParamDef(
        name=f"{prefix}_orientation", group="visual", fields=("cam_quat",), select=select,
        sample=_sample_orientation, write=_write_quat, width=4, axes=3, modes=("add",), default_mode="add",
        doc=f"cam_quat of {what}: a rotation vector (radians, camera frame) composed with the nominal.",
    )
    fovy = field_param(
        f"{prefix}_fovy", "visual", "cam_fovy", None, select,
        f"cam_fovy (degrees) of {what}, one draw per camera.", low=1.0, high=179.0,
    )
    return position, orientation, fovy


camera_position, camera_orientation, camera_fovy = _camera_params(
    "camera", lambda g: g.scene_cameras, "scene cameras (overview_*, workspace)"
)
wrist_camera_position, wrist_camera_orientation, wrist_camera_fovy = _camera_params(
    "wrist_camera", lambda g: g.wrist_cameras, "robot cameras (robot/..., e.g. the wrist camera)"
)

PARAMS = (
    camera_position, camera_orientation, camera_fovy,
    wrist_camera_position, wrist_camera_orientation, wrist_camera_fovy,
)
