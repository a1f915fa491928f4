"""Camera geometry: intrinsics, extrinsics, projection and back-projection, in OpenCV's conventions.

Every camera simfarm renders is a MuJoCo perspective camera with a vertical field of view `fovy`
and square pixels, so its pinhole intrinsics follow from fovy and the image size alone:
fy = fx = (H / 2) / tan(fovy / 2), cx = (W - 1) / 2, cy = (H - 1) / 2 (pixel centres at integer
coordinates, the first pixel's centre at (0, 0): OpenCV's convention, and dm_control's).

Camera frames use OpenCV's axes (x right, y down, z forward along the optical axis), not MuJoCo's
(x right, y up, looking along -z). `world_T_camera` maps camera-frame points to the world;
`base_T_camera` to the robot's base frame (the robot's root body: its pedestal or mobile base).
A point p_cam = (x, y, z) lands on pixel (u, v) = (fx x / z + cx, fy y / z + cy).
"""

from __future__ import annotations

import mujoco
import numpy as np

# MuJoCo camera axes -> OpenCV camera axes: flip y and z.
MJ_TO_CV = np.diag([1.0, -1.0, -1.0])


def intrinsic_matrix(fovy_deg: float, height: int, width: int) -> np.ndarray:
    """(3, 3) pinhole matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] of a MuJoCo camera at this size."""
    f = 0.5 * height / np.tan(np.deg2rad(fovy_deg) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def camera_fovy(model: mujoco.MjModel, cam_id: int) -> float:
    return float(model.cam_fovy[cam_id])


def world_T_camera(data: mujoco.MjData, cam_id: int) -> np.ndarray:
    """(4, 4) pose of camera `cam_id` in the world, OpenCV axes (from data.cam_xpos / cam_xmat)."""
    T = np.eye(4)
    T[:3, :3] = data.cam_xmat[cam_id].reshape(3, 3) @ MJ_TO_CV
    T[:3, 3] = data.cam_xpos[cam_id]
    return T


def world_T_body(data: mujoco.MjData, body_id: int) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = data.xmat[body_id].reshape(3, 3)
    T[:3, 3] = data.xpos[body_id]
    return T


def invert(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid transform (4, 4)."""
    out = np.eye(4)
    R = T[:3, :3]
    out[:3, :3] = R.T
    out[:3, 3] = -R.T @ T[:3, 3]
    return out


def project(points: np.ndarray, K: np.ndarray, world_T_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (N, 2) as (u, v) and depths (N,) along the optical axis of world points (N, 3)."""
    cam = transform(invert(world_T_cam), points)
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = np.stack([K[0, 0] * cam[:, 0] / z + K[0, 2], K[1, 1] * cam[:, 1] / z + K[1, 2]], axis=1)
    return uv, z


def transform(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (4, 4) transform to points (N, 3)."""
    return points @ T[:3, :3].T + T[:3, 3]


def pixel_rays(K: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, 3) camera-frame directions with z = 1 through each pixel centre."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)


def backproject(depth: np.ndarray, K: np.ndarray, rays: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) camera-frame points of a depth image (metres along the optical axis)."""
    rays = pixel_rays(K, *depth.shape) if rays is None else rays
    return rays * depth[..., None]
