"""Small frame helpers shared by the robot builders."""

from __future__ import annotations

import mujoco
import numpy as np


def look_at_quat(eye, target, up) -> np.ndarray:
    """Quaternion of a MuJoCo camera at `eye` looking at `target` (cameras look along -z, `up` sets y)."""
    eye, target, up = (np.asarray(v, dtype=float) for v in (eye, target, up))
    back = eye - target
    back /= np.linalg.norm(back)
    right = np.cross(up, back)
    right /= np.linalg.norm(right)
    mat = np.column_stack([right, np.cross(back, right), back])
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, mat.flatten())
    return quat
