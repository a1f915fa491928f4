"""Depth, segmentation and camera geometry of real simulated episodes: stored, read back, replayed."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import write_real_dataset

from simfarm.cli import main as simfarm_main
from simfarm.dataset.reader import open_dataset
from simfarm.dataset.replay import replay_episode
from simfarm.writers.depth import DepthCoding

OVERRIDES = ("obs_mode=rgb+depth+segmentation+state", "camera_size=[48,64]")


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    base = tmp_path_factory.mktemp("observed")
    out = {}
    for kind in ("lerobot", "hdf5"):
        out[kind] = (base / kind, write_real_dataset(base / kind, kind, episodes=1, max_steps=8, overrides=OVERRIDES))
    return out


@pytest.mark.parametrize("kind", ["lerobot", "hdf5"])
def test_stored_depth_segmentation_and_poses_read_back_as_rendered(observed, kind):
    path, (episode,) = observed[kind]
    ds = open_dataset(path)
    for cam in episode.depth:
        depth = ds.depth(0, cam)
        if kind == "lerobot":
            coding = DepthCoding()
            clipped = np.clip(episode.depth[cam], coding.depth_min, coding.depth_max)
            assert np.all(np.abs(depth - clipped) <= coding.step_m(clipped) / 2 + 1e-6)
        else:
            np.testing.assert_array_equal(depth, episode.depth[cam])
        np.testing.assert_array_equal(ds.segmentation(0, cam), episode.segmentation[cam])
        poses = ds.camera_poses(0, cam)
        np.testing.assert_array_equal(poses["world_T_camera"], episode.cameras[cam]["world_T_camera"])
    assert ds.segmentation_table(0) == episode.metadata["segmentation"]


@pytest.mark.parametrize("kind", ["lerobot", "hdf5"])
def test_replay_renders_the_same_depth_and_segmentation_again(observed, kind, capsys):
    path, (episode,) = observed[kind]
    result = replay_episode(str(path), 0, observations=True)
    assert result.max_divergence == 0.0 and result.observation_mismatches == []
    assert simfarm_main(["dataset", "replay", str(path), "observations=true"]) == 0
    assert "depth, segmentation and camera poses as stored" in capsys.readouterr().out


def test_replay_names_a_frame_whose_stored_segmentation_was_changed(observed, tmp_path, capsys):
    import shutil

    src, (episode,) = observed["hdf5"]
    path = tmp_path / "tampered"
    shutil.copytree(src, path)
    cam = next(iter(episode.segmentation))
    with h5py.File(path / "data.hdf5", "r+") as f:
        seg = f[f"data/demo_0/obs/{cam}_seg"]
        frame = seg[3]
        frame[:5, :5] = 200
        seg[3] = frame
    result = replay_episode(str(path), 0, observations=True)
    assert result.observation_mismatches == [f"frame 3: segmentation of {cam!r} differs (25 pixels)"]
    assert simfarm_main(["dataset", "replay", str(path), "observations=true"]) == 1
    assert "MISMATCHED" in capsys.readouterr().out


@pytest.fixture(scope="module")
def clouds(tmp_path_factory):
    base = tmp_path_factory.mktemp("clouds")
    over = ("obs_mode=pointcloud+state", "camera_size=[48,64]", "pointcloud_points=512", "annotations=[]")
    return {kind: (base / kind, write_real_dataset(base / kind, kind, episodes=1, max_steps=4, overrides=over))
            for kind in ("lerobot", "hdf5")}


def test_point_cloud_jobs_store_the_clouds_in_hdf5_and_what_recomputes_them_in_lerobot(clouds):
    from simfarm.envs import pointcloud
    from simfarm.scene import SceneSpec

    path, (episode,) = clouds["hdf5"]
    with h5py.File(path / "data.hdf5") as f:
        np.testing.assert_array_equal(f["data/demo_0/obs/pointcloud"][()], episode.pointcloud)
    path, (episode,) = clouds["lerobot"]
    assert episode.pointcloud.shape == (4, 512, 7) and set(episode.depth) == set(episode.segmentation) == set(episode.images)
    ds = open_dataset(path)
    spec = SceneSpec.from_json(episode.metadata["scene_spec"])
    table = ds.camera_table(0)
    t = 2
    views = []
    for cam in episode.depth:
        poses = ds.camera_poses(0, cam)
        views.append(pointcloud.CameraView(
            ds.depth(0, cam)[t], ds.frames(0, f"observation.images.{cam}")[t], ds.segmentation(0, cam)[t],
            np.asarray(table[cam]["intrinsics"]), poses["world_T_camera"][t], poses["base_T_camera"][t]))
    every = pointcloud.fuse(views, zfar=200.0, n=None, crop=pointcloud.workspace_box(spec))
    # every recorded point has a recomputed one within a few depth codes, with the same instance id
    d2 = ((episode.pointcloud[t][:, None, :3] - every[None, :, :3]) ** 2).sum(axis=-1)
    nearest = d2.argmin(axis=1)
    dist = np.sqrt(d2[np.arange(len(nearest)), nearest])
    assert np.quantile(dist, 0.99) < 0.01
    assert (every[nearest, 6] == episode.pointcloud[t][:, 6]).mean() > 0.97
