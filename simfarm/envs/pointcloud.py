"""Point clouds fused from depth images: what `obs_mode=pointcloud` returns, recomputable from a dataset.

A cloud is (N, 7) float32: x, y, z in the robot's base frame (m), r, g, b (0..255), instance id.
`fuse` takes, per camera, a depth image (metres along the optical axis), the matching RGB and
segmentation images and the camera's geometry (simfarm.envs.geometry: intrinsics, world_T_camera,
base_T_camera); drops pixels that see nothing (depth at the far plane) and, with a crop box,
pixels outside it; then draws exactly N of the remaining points (uniformly without replacement, or
all of them plus repeats when fewer remain) with `rng`, or keeps them all with `n=None`.

Datasets store depth, segmentation, RGB and the camera geometry of every frame, so a dataset's
clouds are `fuse(...)` of what `LeRobotReader.depth/segmentation/frames/camera_poses` return
(the crop box of the env is `workspace_box(spec)`), to within one depth code and the RGB codec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfarm.envs import geometry

# A pixel whose depth is within this fraction of the far plane saw nothing.
FAR_FRACTION = 0.999


@dataclass(frozen=True)
class CropBox:
    """Points kept: those whose coordinates in the box's frame (crop_T_world @ world point) lie in [lo, hi]."""

    crop_T_world: np.ndarray  # (4, 4)
    lo: np.ndarray  # (3,)
    hi: np.ndarray  # (3,)


@dataclass(frozen=True)
class CameraView:
    depth: np.ndarray  # (H, W) float32 metres
    rgb: np.ndarray  # (H, W, 3) uint8
    segmentation: np.ndarray  # (H, W) uint8
    intrinsics: np.ndarray  # (3, 3)
    world_T_camera: np.ndarray  # (4, 4)
    base_T_camera: np.ndarray  # (4, 4)


def workspace_box(spec) -> CropBox | None:
    """The workspace crop of a SceneSpec: the footprint of the furniture the robot faces (5 cm
    margin), from 2 cm above the floor to 60 cm above its top; None when it names no workspace."""
    piece = next((f for f in spec.furniture if f.name == spec.workspace), None)
    if piece is None:
        return None
    world_T_ws = np.eye(4)
    c, s = np.cos(piece.yaw_rad), np.sin(piece.yaw_rad)
    world_T_ws[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    world_T_ws[:3, 3] = [piece.pos[0], piece.pos[1], 0.0]
    hx, hy = piece.size[0] / 2 + 0.05, piece.size[1] / 2 + 0.05
    top = float(piece.pos[2]) + float(piece.size[2])
    return CropBox(geometry.invert(world_T_ws), np.array([-hx, -hy, 0.02], np.float32),
                   np.array([hx, hy, top + 0.6], np.float32))


def base_box(box: tuple, world_T_base: np.ndarray) -> CropBox:
    """A crop box given as [[x0, x1], [y0, y1], [z0, z1]] metres in the robot's base frame."""
    lo = np.array([r[0] for r in box], np.float32)
    hi = np.array([r[1] for r in box], np.float32)
    return CropBox(geometry.invert(world_T_base), lo, hi)


def fuse(views: list[CameraView], zfar: float, n: int | None, rng: np.random.Generator | None = None,
         crop: CropBox | None = None, rays: dict | None = None) -> np.ndarray:
    """The fused cloud of `views` (see the module docstring). `rays` caches pixel rays by image
    size and intrinsics between calls. The crop is decided on every pixel, the sample drawn among
    the kept pixels, and only the sampled points are gathered and moved to the base frame."""
    rays = {} if rays is None else rays
    kept, flat_rays = [], []
    for view in views:
        d = view.depth.reshape(-1)
        key = (view.depth.shape, view.intrinsics.tobytes())
        r = rays.get(key)
        if r is None:
            r = rays[key] = geometry.pixel_rays(view.intrinsics, *view.depth.shape).reshape(-1, 3).astype(np.float32)
        keep = d < zfar * FAR_FRACTION
        if crop is not None:
            T = (crop.crop_T_world @ view.world_T_camera).astype(np.float32)
            local = (r * d[:, None]) @ T[:3, :3].T + T[:3, 3]
            keep &= np.all((local >= crop.lo) & (local <= crop.hi), axis=1)
        kept.append(np.flatnonzero(keep))
        flat_rays.append(r)
    counts = np.array([len(k) for k in kept], dtype=np.int64)
    total = int(counts.sum())
    if n is None:
        picks = kept
        out = np.zeros((total, 7), np.float32)
    else:
        out = np.zeros((n, 7), np.float32)
        if total == 0:
            return out
        pick = np.sort(rng.choice(total, n, replace=total < n))
        starts = np.concatenate([[0], np.cumsum(counts)])
        picks = [kept[k][pick[(pick >= starts[k]) & (pick < starts[k + 1])] - starts[k]] for k in range(len(views))]
    row = 0
    for view, idx, r in zip(views, picks, flat_rays, strict=True):
        rows = slice(row, row + len(idx))
        pts_cam = r[idx] * view.depth.reshape(-1)[idx][:, None]
        out[rows, :3] = geometry.transform(view.base_T_camera, pts_cam.astype(np.float64))
        out[rows, 3:6] = view.rgb.reshape(-1, 3)[idx]
        out[rows, 6] = view.segmentation.reshape(-1)[idx]
        row += len(idx)
    return out
