"""Synthetic episodes that look like renders (smooth gradients, moving shapes), for tests and benchmarks."""

from __future__ import annotations

import json

import numpy as np

from simfarm.episode import Episode


def clock_level(t: int) -> int:
    """Grey level of the clock block in frame t (consecutive frames differ by 60 levels)."""
    return 20 + (60 * t) % 220


def rendered_like_frames(length: int, height: int, width: int, phase: float = 0.0) -> np.ndarray:
    """uint8 (T, H, W, 3): a lit floor gradient with a disc and a box that move smoothly over time."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([
        90 + 80 * yy / height,
        110 + 60 * xx / width,
        140 + 40 * (yy + xx) / (height + width),
    ], axis=-1)
    # a checkered floor with perspective-like shading in the lower half, as MuJoCo's default grid
    tiles = ((yy // max(4, height // 8)) + (xx // max(4, width // 8))) % 2
    floor = yy > height * 0.45
    base[floor] *= (0.8 + 0.2 * tiles[floor])[:, None]
    frames = np.empty((length, height, width, 3), np.uint8)
    for t in range(length):
        img = base.copy()
        a = phase + 0.15 * t
        cy, cx = height * (0.5 + 0.25 * np.sin(a)), width * (0.5 + 0.25 * np.cos(a))
        r = 0.12 * min(height, width)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        img[disc] = (200, 60 + 40 * np.sin(a), 50)
        by, bx = int(height * 0.7), int((0.2 + 0.02 * t) * width) % width
        img[by:by + height // 8, bx:bx + width // 8] = (40, 160, 70)
        # a "clock" block whose grey level encodes t: lets tests check the decoded frame is frame t
        img[: height // 6, : width // 6] = clock_level(t)
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


SEGMENTATION_TABLE = {
    "instances": [
        {"id": 1, "name": "floor", "category": "fixture", "color": None, "class_id": 1, "class": "floor"},
        {"id": 2, "name": "ball_0", "category": "object", "color": "red", "class_id": 2, "class": "ball"},
        {"id": 3, "name": "box_0", "category": "object", "color": "green", "class_id": 3, "class": "box"},
    ],
    "classes": ["background", "floor", "ball", "box"],
}
FAR_PLANE_M = 50.0  # where nothing is hit, as MuJoCo's depth reads its far plane


def _shape_masks(t: int, height: int, width: int, phase: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(floor, disc, box) masks of frame t, the same shapes rendered_like_frames draws."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    floor = yy > height * 0.45
    a = phase + 0.15 * t
    cy, cx = height * (0.5 + 0.25 * np.sin(a)), width * (0.5 + 0.25 * np.cos(a))
    r = 0.12 * min(height, width)
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
    box = np.zeros((height, width), bool)
    by, bx = int(height * 0.7), int((0.2 + 0.02 * t) * width) % width
    box[by:by + height // 8, bx:bx + width // 8] = True
    return floor, disc, box


def synthetic_depth(length: int, height: int, width: int, phase: float = 0.0) -> np.ndarray:
    """float32 (T, H, W) metres: a floor from 0.4 m (bottom) to 6 m (horizon), far plane above it,
    the disc and the box in front; one pixel nearer than LeRobot's depth_min (0.01 m)."""
    yy = np.mgrid[0:height, 0:width][0].astype(np.float32)
    horizon = height * 0.45
    floor_depth = 0.4 + 5.6 * (height - 1 - yy) / max(1.0, height - 1 - horizon)
    out = np.empty((length, height, width), np.float32)
    for t in range(length):
        floor, disc, box = _shape_masks(t, height, width, phase)
        d = np.where(floor, floor_depth, FAR_PLANE_M)
        d = np.where(disc, 0.35 + 0.05 * np.sin(0.3 * t), d)
        d = np.where(box, 0.8 + 0.01 * t, d)
        d[0, 0] = 0.005
        out[t] = d
    return out


def synthetic_segmentation(length: int, height: int, width: int, phase: float = 0.0) -> np.ndarray:
    """uint8 (T, H, W) instance ids of SEGMENTATION_TABLE: floor 1, ball 2, box 3, nothing 0."""
    out = np.zeros((length, height, width), np.uint8)
    for t in range(length):
        floor, disc, box = _shape_masks(t, height, width, phase)
        out[t][floor] = 1
        out[t][disc] = 2
        out[t][box] = 3
    return out


def synthetic_geometry(length: int, height: int, width: int, moving: bool, fovy_deg: float = 45.0,
                       offset: float = 0.0) -> dict[str, np.ndarray]:
    """intrinsics (3, 3) and world_T_camera / base_T_camera (T, 4, 4): a camera looking along world
    +x (OpenCV axes), sliding sideways when `moving`; the robot base sits at (0.1, 0, 0)."""
    f = 0.5 * height / np.tan(np.radians(fovy_deg) / 2)
    intrinsics = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float64)
    R = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], np.float64)  # camera x right, y down, z forward
    world_T_camera = np.tile(np.eye(4), (length, 1, 1))
    world_T_camera[:, :3, :3] = R
    world_T_camera[:, :3, 3] = [-0.5, offset, 1.2]
    if moving:
        world_T_camera[:, 1, 3] += 0.01 * np.arange(length)
    base_T_world = np.eye(4)
    base_T_world[0, 3] = -0.1
    return {"intrinsics": intrinsics, "world_T_camera": world_T_camera,
            "base_T_camera": base_T_world @ world_T_camera}


def synthetic_episode(index: int, length: int, cameras: dict[str, tuple[int, int]] | None = None,
                      rng: np.random.Generator | None = None, task: str = "pick_place",
                      instruction: str | None = None, fps: float = 10.0, success: bool = True,
                      physics_size: int = 23, depth: bool = False, segmentation: bool = False,
                      geometry: bool = False) -> Episode:
    """An Episode with every STEP_KEY filled and full metadata, deterministic in (index, rng).

    `depth`, `segmentation`, `geometry` add them for every camera (the same shapes as the images;
    the first camera is fixed, the others move), with their metadata tables.
    """
    rng = rng if rng is not None else np.random.default_rng(index)
    cameras = {"workspace": (64, 80), "wrist": (48, 48)} if cameras is None else cameras
    t = np.arange(length)
    steps = {
        "observation.state": (np.sin(t[:, None] * 0.1 + np.arange(9)) + rng.normal(0, 0.01, (length, 9))).astype(np.float32),
        "observation.environment_state": rng.normal(0, 1, (length, 7)).astype(np.float32),
        "action": rng.uniform(-1, 1, (length, 7)).astype(np.float32),
        "next.reward": rng.uniform(0, 1, length).astype(np.float32),
        "next.done": t == length - 1,
        "next.success": (t == length - 1) & success,
        "timestamp": (t / fps).astype(np.float32),
        "physics_state": rng.normal(0, 1, (length, physics_size)),
    }
    images = {cam: rendered_like_frames(length, h, w, phase=index + k) for k, (cam, (h, w)) in enumerate(cameras.items())}
    scene_spec = json.dumps({"program": "kitchen", "objects": [{"name": f"cube_{index % 3}"}]})
    metadata = {
        "seed": 7, "split": "train", "episode_index": index, "config_hash": "cafe0123",
        "task": task, "robot": "arm", "scene": "kitchen", "scene_spec": scene_spec,
        "randomization": {"friction": float(rng.uniform(0.5, 1.5))},
        "success": success, "safety": {"peak_contact_force_n": float(rng.uniform(1, 50)), "collisions": int(index % 2)},
        "versions": {"simfarm": "0.1.0", "mujoco": "3.17.0"}, "wall_time_s": 1.5, "policy": "scripted",
        "error": None,
        "names": {"observation.state": [f"q{i}" for i in range(9)], "action": [f"a{i}" for i in range(7)],
                  "observation.environment_state": [f"e{i}" for i in range(7)]},
    }
    episode = Episode(index=index, task=task, instruction=instruction or f"put the cube in the bowl ({task})",
                      fps=fps, steps=steps, images=images, metadata=metadata)
    for k, (cam, (h, w)) in enumerate(cameras.items()):
        if depth:
            episode.depth[cam] = synthetic_depth(length, h, w, phase=index + k)
        if segmentation:
            episode.segmentation[cam] = synthetic_segmentation(length, h, w, phase=index + k)
        if geometry:
            episode.cameras[cam] = synthetic_geometry(length, h, w, moving=k > 0, offset=0.1 * k)
    if segmentation:
        metadata["segmentation"] = json.loads(json.dumps(SEGMENTATION_TABLE))
    if geometry:
        metadata["camera_info"] = {cam: {"height": h, "width": w, "fovy_deg": 45.0, "moving": k > 0}
                                   for k, (cam, (h, w)) in enumerate(cameras.items())}
    return episode


def write_synthetic_dataset(output_dir, kind: str = "lerobot", shard_lengths: list[list[int]] | None = None,
                            shards_dir=None, cameras: dict[str, tuple[int, int]] | None = None,
                            tasks: tuple[str, ...] = ("pick_place", "push"), episode_options: dict | None = None,
                            **spec_options):
    """Write and finalize a dataset of synthetic episodes; returns (info, shard_dirs, episodes).

    `shard_lengths[k]` lists the episode lengths of shard k; tasks alternate over episodes;
    `episode_options` go to synthetic_episode (depth=True, segmentation=True, geometry=True).
    """
    from pathlib import Path

    from simfarm.writers import DatasetSpec, finalize, make_shard_writer

    shard_lengths = shard_lengths or [[6, 9], [7]]
    shards_dir = Path(shards_dir) if shards_dir is not None else Path(str(output_dir) + ".shards")
    episodes: list[Episode] = []
    shard_dirs = []
    spec = None
    i = 0
    for k, lengths in enumerate(shard_lengths):
        shard_dir = shards_dir / f"shard-{k:05d}"
        group = []
        for n in lengths:
            task = tasks[i % len(tasks)]
            group.append(synthetic_episode(i, n, cameras=cameras, task=task, success=(i % 3 != 2),
                                           **(episode_options or {})))
            i += 1
        spec = spec or DatasetSpec.from_episode(group[0], **spec_options)
        with make_shard_writer(kind, shard_dir, spec, k) as writer:
            for ep in group:
                writer.add_episode(ep)
        episodes.extend(group)
        shard_dirs.append(shard_dir)
    info = finalize(kind, output_dir, shard_dirs)
    return info, shard_dirs, episodes
