"""Depth, segmentation and camera geometry in both formats, read back as their consumers read them."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest

from simfarm.dataset.reader import Hdf5Reader, LeRobotReader
from simfarm.dataset.validate import validate
from simfarm.writers import DatasetSpec, finalize, make_shard_writer
from simfarm.writers.depth import DEPTH_QMAX, DepthCoding, dequantize, quantize
from simfarm.writers.synthetic import SEGMENTATION_TABLE, synthetic_episode, write_synthetic_dataset
from simfarm.writers.video import probe_video

CAMERAS = {"workspace": (32, 40), "wrist": (24, 24)}
SHARDS = [[5, 7], [4]]
ALL = {"depth": True, "segmentation": True, "geometry": True}


@pytest.fixture(scope="module")
def lerobot(tmp_path_factory):
    root = tmp_path_factory.mktemp("lr") / "ds"
    info, shard_dirs, episodes = write_synthetic_dataset(root, "lerobot", SHARDS, cameras=CAMERAS, episode_options=ALL)
    return root, info, shard_dirs, episodes


@pytest.fixture(scope="module")
def hdf5(tmp_path_factory):
    root = tmp_path_factory.mktemp("h5") / "ds"
    info, _, episodes = write_synthetic_dataset(root, "hdf5", SHARDS, cameras=CAMERAS, episode_options=ALL)
    return root, episodes


def test_quantizer_is_lerobots_log_mapping():
    coding = DepthCoding()  # LeRobot's defaults: 0.01..10 m, shift 3.5, log
    d = np.array([0.01, 0.5, 2.0, 10.0, 50.0, 0.001], np.float32)
    codes = quantize(d, coding)
    lo, hi = np.log(0.01 + 3.5), np.log(10.0 + 3.5)
    expect = np.clip(np.rint((np.log(d + 3.5) - lo) / (hi - lo) * DEPTH_QMAX), 0, DEPTH_QMAX)
    np.testing.assert_array_equal(codes, expect)
    assert codes[0] == 0 and codes[3] == DEPTH_QMAX and codes[4] == DEPTH_QMAX and codes[5] == 0
    np.testing.assert_allclose(dequantize(codes[:4], coding), d[:4], atol=float(coding.step_m(d[:4]).max()))


def test_depth_reads_back_within_one_quantization_step(lerobot):
    root, _, _, episodes = lerobot
    ds = LeRobotReader(root)
    coding = DepthCoding()
    for i, ep in enumerate(episodes):
        for cam in CAMERAS:
            rendered = np.clip(ep.depth[cam], coding.depth_min, coding.depth_max)
            decoded = ds.depth(i, cam)
            assert decoded.dtype == np.float32 and decoded.shape == rendered.shape
            # one 12-bit code of the log mapping at that depth: (d + shift) * (exp(step) - 1)
            step = (rendered + coding.shift) * (np.exp((np.log(10 + 3.5) - np.log(0.01 + 3.5)) / 4095) - 1)
            assert np.all(np.abs(decoded - rendered) <= step + 1e-6), f"episode {i} {cam}"
            # lossless video: the decoded codes are exactly the quantized rendered depth
            key = f"observation.images.{cam}_depth"
            np.testing.assert_array_equal(ds.frames(i, key, pixel_format="gray12le"), quantize(ep.depth[cam], coding))


def test_segmentation_ids_read_back_exactly_also_through_rgb(lerobot):
    root, _, _, episodes = lerobot
    ds = LeRobotReader(root)
    for i, ep in enumerate(episodes):
        assert ds.segmentation_table(i) == SEGMENTATION_TABLE
        for cam in CAMERAS:
            np.testing.assert_array_equal(ds.segmentation(i, cam), ep.segmentation[cam])
            # what LeRobot's reader decodes (rgb24, then / 255): the id in every channel
            rgb = ds.frames(i, f"observation.images.{cam}_segmentation")
            for c in range(3):
                np.testing.assert_array_equal(rgb[..., c], ep.segmentation[cam])


def test_camera_geometry_reads_back_exactly(lerobot):
    root, _, _, episodes = lerobot
    ds = LeRobotReader(root)
    for i, ep in enumerate(episodes):
        table = ds.camera_table(i)
        for cam in CAMERAS:
            poses = ds.camera_poses(i, cam)
            np.testing.assert_array_equal(poses["world_T_camera"], ep.cameras[cam]["world_T_camera"])
            np.testing.assert_array_equal(poses["base_T_camera"], ep.cameras[cam]["base_T_camera"])
            np.testing.assert_array_equal(table[cam]["intrinsics"], ep.cameras[cam]["intrinsics"])
            np.testing.assert_array_equal(table[cam]["world_T_camera_0"], ep.cameras[cam]["world_T_camera"][0])
            assert table[cam]["moving"] == (cam == "wrist") and table[cam]["fovy_deg"] == 45.0
        np.testing.assert_array_equal(ds.frame_table(i)["frame_index"], np.arange(ep.length))


def test_info_declares_depth_as_lerobot_does(lerobot):
    root, info, _, _ = lerobot
    ft = info["features"]["observation.images.workspace_depth"]
    assert ft["dtype"] == "video" and ft["shape"] == [32, 40, 1] and ft["names"] == ["height", "width", "channels"]
    i = ft["info"]
    assert i["is_depth_map"] is True and i["depth_unit"] == "m"
    assert (i["video.codec"], i["video.pix_fmt"], i["video.channels"]) == ("hevc", "gray12le", 1)
    assert (i["video.depth_min"], i["video.depth_max"], i["video.shift"], i["video.use_log"]) == (0.01, 10.0, 3.5, True)
    assert "lossless=1" in i["video.extra_options"]["x265-params"]
    seg = info["features"]["observation.images.workspace_segmentation"]
    assert seg["info"]["is_depth_map"] is False and seg["info"]["video.pix_fmt"] == "gray"
    rgb = info["features"]["observation.images.workspace"]
    assert rgb["info"]["video.is_depth_map"] is False  # RGB features unchanged
    probe = probe_video(str(root / "videos/observation.images.workspace_depth/chunk-000/file-000.mp4"))
    assert (probe["codec"], probe["pix_fmt"], probe["frames"]) == ("hevc", "gray12le", sum(SHARDS[0]))


def test_stats_cover_depth_and_segmentation(lerobot):
    root, _, _, _ = lerobot
    stats = json.loads((root / "meta/stats.json").read_text())
    depth = stats["observation.images.workspace_depth"]
    assert np.shape(depth["mean"]) == (1, 1, 1)
    assert 0.01 - 1e-6 <= depth["min"][0][0][0] <= depth["max"][0][0][0] <= 10.0 + 1e-5  # metres, clamped as decoded
    assert depth["max"][0][0][0] == pytest.approx(10.0)  # the far plane, past depth_max
    seg = stats["observation.images.wrist_segmentation"]
    assert seg["max"][0][0][0] == pytest.approx(3 / 255) and seg["min"][0][0][0] == 0.0


def test_two_shards_keep_everything_in_order_and_validate(lerobot):
    root, _, shard_dirs, episodes = lerobot
    assert validate(root) == []
    frames = sorted((root / "meta/simfarm/frames").glob("*/*.parquet"))
    data = sorted((root / "data").glob("*/*.parquet"))
    assert len(frames) == len(data) == 2
    for f, d in zip(frames, data, strict=True):
        assert pq.read_metadata(f).num_rows == pq.read_metadata(d).num_rows
    # finalize again after the first run moved the shards' videos away: the frames come from meta/
    finalize("lerobot", root, shard_dirs)
    assert validate(root) == []
    ds = LeRobotReader(root)
    np.testing.assert_array_equal(ds.camera_poses(2, "wrist")["world_T_camera"], episodes[2].cameras["wrist"]["world_T_camera"])


def test_validate_names_a_depth_video_without_is_depth_map(lerobot, tmp_path):
    import shutil

    root = tmp_path / "ds"
    shutil.copytree(lerobot[0], root)
    info_path = root / "meta/info.json"
    info = json.loads(info_path.read_text())
    del info["features"]["observation.images.wrist_depth"]["info"]["is_depth_map"]
    info_path.write_text(json.dumps(info))
    problems = validate(root)
    assert any("observation.images.wrist_depth" in p and "is_depth_map" in p for p in problems), problems


def test_validate_names_segmentation_ids_missing_from_the_table(lerobot, tmp_path):
    import shutil

    import pyarrow as pa

    root = tmp_path / "ds"
    shutil.copytree(lerobot[0], root)
    path = root / "meta/simfarm/episodes.parquet"
    table = pq.read_table(path)
    short = dict(SEGMENTATION_TABLE, instances=SEGMENTATION_TABLE["instances"][:2])  # drops id 3
    col = [json.dumps(short)] * table.num_rows
    pq.write_table(table.set_column(table.schema.get_field_index("segmentation"), "segmentation", pa.array(col)), path)
    problems = validate(root)
    assert any("ids [3]" in p for p in problems), problems


def test_validate_names_a_frames_table_that_lost_rows(lerobot, tmp_path):
    import shutil

    root = tmp_path / "ds"
    shutil.copytree(lerobot[0], root)
    path = root / "meta/simfarm/frames/chunk-000/file-001.parquet"
    pq.write_table(pq.read_table(path).slice(0, 2), path)
    problems = validate(root)
    assert any("file-001.parquet has 2 rows" in p for p in problems), problems


def test_hdf5_holds_depth_segmentation_and_geometry(hdf5):
    root, episodes = hdf5
    assert validate(root) == []
    with h5py.File(root / "data.hdf5", "r") as f:
        for i, ep in enumerate(episodes):
            g = f[f"data/demo_{i}"]
            T = ep.length
            for cam, (h, w) in CAMERAS.items():
                obs, nxt = g["obs"], g["next_obs"]
                assert obs[f"{cam}_depth"].dtype == np.float32 and obs[f"{cam}_depth"].shape == (T, h, w)
                assert obs[f"{cam}_depth"].compression == "gzip" and obs[f"{cam}_depth"].chunks == (1, h, w)
                np.testing.assert_array_equal(obs[f"{cam}_depth"][()], ep.depth[cam])  # metres, unquantized
                assert obs[f"{cam}_seg"].dtype == np.uint8
                np.testing.assert_array_equal(obs[f"{cam}_seg"][()], ep.segmentation[cam])
                assert obs[f"{cam}_intrinsics"].shape == (T, 3, 3)
                np.testing.assert_array_equal(obs[f"{cam}_intrinsics"][0], ep.cameras[cam]["intrinsics"])
                np.testing.assert_array_equal(obs[f"{cam}_extrinsics"][()], ep.cameras[cam]["world_T_camera"])
                np.testing.assert_array_equal(obs[f"{cam}_base_T_camera"][()], ep.cameras[cam]["base_T_camera"])
                np.testing.assert_array_equal(nxt[f"{cam}_depth"][:-1], ep.depth[cam][1:])
                np.testing.assert_array_equal(nxt[f"{cam}_extrinsics"][-1], ep.cameras[cam]["world_T_camera"][-1])
            assert json.loads(g.attrs["segmentation"]) == SEGMENTATION_TABLE
            assert json.loads(g.attrs["cameras"])["wrist"]["moving"] is True
    ds = Hdf5Reader(root)
    np.testing.assert_array_equal(ds.segmentation(1, "wrist"), episodes[1].segmentation["wrist"])
    np.testing.assert_array_equal(ds.camera_poses(1, "wrist")["base_T_camera"], episodes[1].cameras["wrist"]["base_T_camera"])


def test_hdf5_validate_names_a_wrong_depth_dtype(hdf5, tmp_path):
    import shutil

    path = tmp_path / "data.hdf5"
    shutil.copy(hdf5[0] / "data.hdf5", path)
    with h5py.File(path, "a") as f:
        obs = f["data/demo_0/obs"]
        depth = obs["wrist_depth"][()]
        del obs["wrist_depth"]
        obs.create_dataset("wrist_depth", data=depth.astype(np.float64))
    problems = validate(path)
    assert any("wrist_depth must be float32" in p for p in problems), problems


def test_rgb_only_spec_and_shard_are_as_before(tmp_path):
    ep = synthetic_episode(0, 4, cameras={"workspace": (16, 16)})
    spec = DatasetSpec.from_episode(ep)
    assert not {"depth_cameras", "segmentation_cameras", "geometry_cameras", "frame_columns", "depth_min"} & set(spec.to_dict())
    with make_shard_writer("lerobot", tmp_path / "shard", spec, 0) as w:
        w.add_episode(ep)
    assert not (tmp_path / "shard" / "frames.parquet").exists()
    assert sorted(p.name for p in (tmp_path / "shard" / "videos").iterdir()) == ["observation.images.workspace.mp4"]


def test_frame_columns_go_to_the_side_table_in_both_formats(tmp_path):
    episodes = []
    for i in range(2):
        ep = synthetic_episode(i, 3 + i, cameras={"workspace": (16, 16)}, geometry=True)
        ep.steps["frames.gripper_px"] = np.arange(2 * ep.length, dtype=np.float32).reshape(ep.length, 2) + i
        ep.steps["frames.boxes"] = [[[0, 0, t, t]] * (t % 2) for t in range(ep.length)]  # ragged per frame
        episodes.append(ep)
    spec = DatasetSpec.from_episode(episodes[0])
    assert spec.frame_columns == ["gripper_px", "boxes"] and "frames.boxes" not in spec.features
    for kind in ("lerobot", "hdf5"):
        shards = []
        for k, ep in enumerate(episodes):
            shards.append(tmp_path / kind / "shards" / f"shard-{k:05d}")
            with make_shard_writer(kind, shards[-1], spec, k) as w:
                w.add_episode(ep)
        finalize(kind, tmp_path / kind / "ds", shards)
        assert validate(tmp_path / kind / "ds") == []
    ds = LeRobotReader(tmp_path / "lerobot" / "ds")
    cols = ds.frame_table(1)
    np.testing.assert_array_equal(cols["gripper_px"], episodes[1].steps["frames.gripper_px"])
    assert [len(b) for b in cols["boxes"]] == [0, 1, 0, 1]
    with h5py.File(tmp_path / "hdf5" / "ds" / "data.hdf5", "r") as f:
        np.testing.assert_array_equal(f["data/demo_1/frames/gripper_px"][()], episodes[1].steps["frames.gripper_px"])
        assert json.loads(f["data/demo_1/frames/boxes"][1]) == [[0, 0, 1, 1]]


def test_lossy_depth_is_an_option(tmp_path):
    info, _, episodes = write_synthetic_dataset(tmp_path / "ds", "lerobot", [[4]], cameras={"workspace": (32, 32)},
                                                episode_options={"depth": True}, depth_lossless=False, depth_crf=20)
    extra = info["features"]["observation.images.workspace_depth"]["info"]["video.extra_options"]["x265-params"]
    assert "lossless" not in extra
    decoded = LeRobotReader(tmp_path / "ds").depth(0, "workspace")
    rendered = np.clip(episodes[0].depth["workspace"], 0.01, 10.0)
    assert np.median(np.abs(decoded - rendered)) < 0.05
