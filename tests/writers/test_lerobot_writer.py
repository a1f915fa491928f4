"""LeRobot v3.0 output, read back the way LeRobotDataset reads it."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from simfarm.dataset import load_episode_record
from simfarm.dataset.reader import LeRobotReader
from simfarm.dataset.validate import validate
from simfarm.errors import DatasetError
from simfarm.writers import DatasetSpec, finalize, make_shard_writer
from simfarm.writers.synthetic import clock_level, synthetic_episode, write_synthetic_dataset
from simfarm.writers.video import decode_frames_at

CAMERAS = {"workspace": (64, 80), "wrist": (48, 48)}
SHARDS = [[6, 11, 4], [9], [5, 8]]  # several shards, several episodes, different lengths


@pytest.fixture(scope="module", params=["av1", "h264"])
def dataset(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param) / "ds"
    info, shard_dirs, episodes = write_synthetic_dataset(root, "lerobot", SHARDS, cameras=CAMERAS,
                                                         video_codec=request.param)
    return root, info, episodes, request.param


def test_every_frame_reads_back_through_meta_episodes(dataset):
    root, info, episodes, _ = dataset
    ds = LeRobotReader(root)
    fps = info["fps"]
    assert len(ds.episodes) == len(episodes)
    for ep_row, original in zip(ds.episodes, episodes, strict=True):
        rows = ds.episode_rows(ep_row["episode_index"])
        T = original.length
        assert ep_row["length"] == T
        np.testing.assert_array_equal(rows["frame_index"], np.arange(T))
        np.testing.assert_array_equal(rows["action"], original.steps["action"])
        np.testing.assert_array_equal(rows["observation.state"], original.steps["observation.state"])
        np.testing.assert_array_equal(rows["next.done"], original.steps["next.done"])
        np.testing.assert_allclose(rows["timestamp"], np.arange(T) / fps, atol=1e-6)
        assert ds.tasks[int(rows["task_index"][0])] == original.instruction
        for cam in CAMERAS:
            key = f"observation.images.{cam}"
            path = ds.video_path(key, ep_row[f"videos/{key}/chunk_index"], ep_row[f"videos/{key}/file_index"])
            want = ep_row[f"videos/{key}/from_timestamp"] + rows["timestamp"].astype(np.float64)
            # LeRobot's own tolerance (1e-4 s) holds because pts are exact multiples of 1/fps
            frames, times = decode_frames_at(path, want.tolist(), tolerance_s=1e-4)
            assert np.all(np.abs(times - want) < 1 / (2 * fps))
            assert frames.shape == (T, *info["features"][key]["shape"])
            err = np.abs(frames.astype(np.int16) - original.images[cam].astype(np.int16)).mean()
            assert err < 8.0, f"episode {ep_row['episode_index']} {key}: mean abs error {err:.2f}"
            # the clock block proves each decoded frame is frame t, not a neighbour
            h, w = frames.shape[1:3]
            clock = frames[:, 2 : h // 6 - 2, 2 : w // 6 - 2].reshape(T, -1).mean(axis=1)
            np.testing.assert_allclose(clock, [clock_level(t) for t in range(T)], atol=15)


def test_episode_timestamps_land_on_frames_of_the_shard_video(dataset):
    root, info, _, _ = dataset
    ds = LeRobotReader(root)
    fps = info["fps"]
    for ep in ds.episodes:
        for key in ds.video_keys:
            t0, t1 = ep[f"videos/{key}/from_timestamp"], ep[f"videos/{key}/to_timestamp"]
            assert t0 * fps == pytest.approx(round(t0 * fps), abs=1e-9)
            assert (t1 - t0) * fps == pytest.approx(ep["length"])


def test_data_columns_match_info_json(dataset):
    root, info, _, _ = dataset
    table = pq.read_table(root / "data/chunk-000/file-000.parquet")
    assert table.column_names[:5] == ["timestamp", "frame_index", "episode_index", "index", "task_index"]
    schema = table.schema
    assert str(schema.field("timestamp").type) == "float"
    for name in ("frame_index", "episode_index", "index", "task_index"):
        assert str(schema.field(name).type) == "int64"
    for name, ft in info["features"].items():
        if ft["dtype"] == "video":
            assert name not in table.column_names
            continue
        field = schema.field(name)
        if ft["dtype"] == "language":  # lists of LeRobot's row structs (simfarm/writers/language.py)
            assert field.type.value_type.names[:3] == ["role", "content", "style"]
        elif ft["shape"] == [1]:
            assert str(field.type) == {"float32": "float", "bool": "bool", "int64": "int64"}[ft["dtype"]]
        else:
            assert field.type.list_size == ft["shape"][0]


def test_index_is_global_and_contiguous(dataset):
    root, info, episodes, _ = dataset
    ds = LeRobotReader(root)
    tables = [ds.data_table(0, k) for k in range(len(SHARDS))]
    index = np.concatenate([t.column("index").to_numpy() for t in tables])
    ep_index = np.concatenate([t.column("episode_index").to_numpy() for t in tables])
    np.testing.assert_array_equal(index, np.arange(info["total_frames"]))
    assert info["total_frames"] == sum(sum(s) for s in SHARDS)
    np.testing.assert_array_equal(np.unique(ep_index), np.arange(len(episodes)))


def test_info_json_is_lerobot_v3(dataset):
    root, info, _, codec = dataset
    on_disk = json.loads((root / "meta/info.json").read_text())
    assert on_disk == info
    assert list(on_disk)[:10] == ["codebase_version", "robot_type", "total_episodes", "total_frames", "total_tasks",
                                  "chunks_size", "data_files_size_in_mb", "video_files_size_in_mb", "fps", "splits"]
    assert on_disk["codebase_version"] == "v3.0"
    assert on_disk["splits"] == {"train": f"0:{on_disk['total_episodes']}"}
    assert on_disk["total_tasks"] == 2
    for name in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert on_disk["features"][name] == {"dtype": "int64" if name != "timestamp" else "float32", "shape": [1], "names": None}
    vinfo = on_disk["features"]["observation.images.wrist"]["info"]
    assert vinfo == {"video.height": 48, "video.width": 48, "video.codec": codec, "video.pix_fmt": "yuv420p",
                     "video.is_depth_map": False, "video.fps": 10, "video.channels": 3, "has_audio": False}
    assert on_disk["features"]["action"]["names"] == [f"a{i}" for i in range(7)]


def test_episodes_table_has_lerobot_columns_and_stats(dataset):
    root, _, episodes, _ = dataset
    table = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet")
    cols = set(table.column_names)
    for c in ("episode_index", "tasks", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
              "dataset_to_index", "meta/episodes/chunk_index", "meta/episodes/file_index",
              "videos/observation.images.workspace/from_timestamp", "videos/observation.images.wrist/to_timestamp"):
        assert c in cols, c
    for feat in ("action", "observation.state", "timestamp", "index", "observation.images.wrist"):
        for s in ("min", "max", "mean", "std", "count", "q01", "q50", "q99"):
            assert f"stats/{feat}/{s}" in cols, f"stats/{feat}/{s}"
    row = table.slice(1, 1).to_pylist()[0]
    original = episodes[1]
    np.testing.assert_allclose(row["stats/action/mean"], original.steps["action"].mean(0), rtol=1e-5)
    assert row["stats/action/count"] == [original.length]
    assert np.asarray(row["stats/observation.images.wrist/mean"]).shape == (3, 1, 1)
    assert row["tasks"] == [original.instruction]


def test_stats_json_matches_the_data(dataset):
    root, info, episodes, _ = dataset
    stats = json.loads((root / "meta/stats.json").read_text())
    actions = np.concatenate([e.steps["action"] for e in episodes]).astype(np.float64)
    np.testing.assert_allclose(stats["action"]["mean"], actions.mean(0), rtol=1e-6)
    np.testing.assert_allclose(stats["action"]["std"], actions.std(0), rtol=1e-6)
    np.testing.assert_allclose(stats["action"]["min"], actions.min(0))
    assert stats["index"]["max"] == [info["total_frames"] - 1]
    assert stats["action"]["count"] == [info["total_frames"]]
    assert validate(root) == []


def test_tasks_parquet_indexes_task_strings_like_pandas(dataset):
    root, _, episodes, _ = dataset
    table = pq.read_table(root / "meta/tasks.parquet")
    pandas_meta = json.loads(table.schema.metadata[b"pandas"])
    assert pandas_meta["index_columns"] == ["__index_level_0__"]
    tasks = dict(zip(table.column("__index_level_0__").to_pylist(), table.column("task_index").to_pylist(), strict=True))
    assert tasks == {episodes[0].instruction: 0, episodes[1].instruction: 1}


def test_simfarm_metadata_scenes_and_states_are_stored(dataset):
    root, _, episodes, _ = dataset
    rows = pq.read_table(root / "meta/simfarm/episodes.parquet").to_pylist()
    assert [r["episode_index"] for r in rows] == list(range(len(episodes)))
    for r, ep in zip(rows, episodes, strict=True):
        assert r["seed"] == 7 and r["config_hash"] == "cafe0123" and r["task"] == ep.task
        assert r["success"] == ep.success
        assert json.loads(r["randomization"]) == ep.metadata["randomization"]
        assert (root / "meta/simfarm/scenes" / f"{r['scene_hash']}.json").read_text() == ep.metadata["scene_spec"]
    actions, states, metadata = load_episode_record(root, 4)
    np.testing.assert_array_equal(actions, episodes[4].steps["action"])
    np.testing.assert_array_equal(states, episodes[4].steps["physics_state"])
    assert metadata["seed"] == 7 and metadata["scene_spec"] == episodes[4].metadata["scene_spec"]


def _write_shards(tmp_path, groups, **options):
    spec = None
    dirs = []
    for k, group in enumerate(groups):
        spec = spec or DatasetSpec.from_episode(group[0], **options)
        with make_shard_writer("lerobot", tmp_path / f"shards/s{k}", spec, k) as w:
            for ep in group:
                w.add_episode(ep)
        dirs.append(tmp_path / f"shards/s{k}")
    return dirs


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_finalize_moves_video_bytes_without_reencoding(tmp_path):
    eps = [synthetic_episode(i, 5) for i in range(3)]
    dirs = _write_shards(tmp_path, [eps[:2], eps[2:]])
    before = [_digest(d / "videos/observation.images.workspace.mp4") for d in dirs]
    finalize("lerobot", tmp_path / "ds", dirs)
    after = [_digest(tmp_path / f"ds/videos/observation.images.workspace/chunk-000/file-{k:03d}.mp4") for k in range(2)]
    assert before == after


def test_finalize_is_idempotent(tmp_path):
    eps = [synthetic_episode(i, 4 + i) for i in range(3)]
    dirs = _write_shards(tmp_path, [eps[:1], eps[1:]])
    first = finalize("lerobot", tmp_path / "ds", dirs)
    meta_bytes = (tmp_path / "ds/meta/episodes/chunk-000/file-000.parquet").read_bytes()
    second = finalize("lerobot", tmp_path / "ds", dirs)  # videos already moved: must still succeed
    assert first == second
    assert (tmp_path / "ds/meta/episodes/chunk-000/file-000.parquet").read_bytes() == meta_bytes
    assert validate(tmp_path / "ds") == []


def test_chunk_folders_roll_over_at_chunks_size(tmp_path):
    info, _, _ = write_synthetic_dataset(tmp_path / "ds", "lerobot", [[3], [3], [3]], chunks_size=2)
    assert (tmp_path / "ds/data/chunk-001/file-000.parquet").exists()
    assert (tmp_path / "ds/videos/observation.images.wrist/chunk-001/file-000.mp4").exists()
    assert info["total_episodes"] == 3
    assert validate(tmp_path / "ds") == []


def test_same_episodes_give_identical_tables(tmp_path):
    for name in ("a", "b"):
        write_synthetic_dataset(tmp_path / name, "lerobot", [[4, 5], [3]])
    for rel in ("data/chunk-000/file-000.parquet", "data/chunk-000/file-001.parquet", "meta/tasks.parquet",
                "meta/stats.json", "meta/info.json", "states/chunk-000/file-000.parquet"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_mismatched_episode_is_refused_with_the_feature_named(tmp_path):
    spec = DatasetSpec.from_episode(synthetic_episode(0, 4))
    bad = synthetic_episode(1, 4)
    bad.steps["action"] = bad.steps["action"][:, :3]
    with make_shard_writer("lerobot", tmp_path / "s0", spec, 0) as w:
        with pytest.raises(DatasetError, match="action"):
            w.add_episode(bad)
        w.add_episode(synthetic_episode(2, 4))
    assert (tmp_path / "s0/manifest.json").exists()


def test_state_only_episodes_write_a_dataset_without_videos(tmp_path):
    eps = [synthetic_episode(i, 5, cameras={}) for i in range(2)]
    dirs = _write_shards(tmp_path, [eps])
    info = finalize("lerobot", tmp_path / "ds", dirs)
    assert info["video_path"] is None
    assert not any(ft["dtype"] == "video" for ft in info["features"].values())
    assert validate(tmp_path / "ds") == []


def test_image_only_episodes_need_no_state_features(tmp_path):
    eps = [synthetic_episode(i, 5) for i in range(2)]
    for ep in eps:
        del ep.steps["observation.state"], ep.steps["observation.environment_state"]
    dirs = _write_shards(tmp_path, [eps], video_codec="h264")
    info = finalize("lerobot", tmp_path / "ds", dirs)
    assert "observation.state" not in info["features"]
    assert validate(tmp_path / "ds") == []


def test_shards_with_different_features_are_refused_naming_the_difference(tmp_path):
    a = synthetic_episode(0, 4)
    b = synthetic_episode(1, 4)
    b.steps["action"] = b.steps["action"][:, :5]
    dirs = _write_shards(tmp_path, [[a]]) + [
        _write_shards(tmp_path / "other", [[b]])[0]
    ]
    with pytest.raises(DatasetError, match="features"):
        finalize("lerobot", tmp_path / "ds", dirs)


def test_episode_table_rolls_over_to_new_files(tmp_path, monkeypatch):
    from simfarm.writers import lerobot as lerobot_mod

    monkeypatch.setattr(lerobot_mod, "EPISODES_PER_META_FILE", 2)
    write_synthetic_dataset(tmp_path / "ds", "lerobot", [[3, 3], [3, 3, 3]])
    files = sorted(p.name for p in (tmp_path / "ds/meta/episodes/chunk-000").iterdir())
    assert files == ["file-000.parquet", "file-001.parquet", "file-002.parquet"]
    reader = LeRobotReader(tmp_path / "ds")
    assert [e["meta/episodes/file_index"] for e in reader.episodes] == [0, 0, 1, 1, 2]
    assert validate(tmp_path / "ds") == []
