"""A crash while writing a shard or finalizing never leaves a visible half-shard or a broken dataset."""

from __future__ import annotations

import json

import pytest

from simfarm.dataset.reader import LeRobotReader
from simfarm.dataset.validate import validate
from simfarm.errors import DatasetError
from simfarm.writers import DatasetSpec, finalize, make_shard_writer, publish_shard
from simfarm.writers import lerobot as lerobot_mod
from simfarm.writers import video as video_mod
from simfarm.writers.synthetic import synthetic_episode


def _shard(tmp_path, name, episodes, kind="lerobot", index=0):
    spec = DatasetSpec.from_episode(episodes[0])
    with make_shard_writer(kind, tmp_path / name, spec, index) as w:
        for ep in episodes:
            w.add_episode(ep)
    return tmp_path / name


@pytest.mark.parametrize("kind", ["lerobot", "hdf5"])
def test_exception_inside_add_episode_leaves_no_shard(tmp_path, monkeypatch, kind):
    spec = DatasetSpec.from_episode(synthetic_episode(0, 5))
    writer = make_shard_writer(kind, tmp_path / "shards/s0", spec, 0)
    writer.add_episode(synthetic_episode(0, 5))
    calls = {"n": 0}
    original = video_mod.VideoEncoder.write

    def failing_write(self, frames):
        calls["n"] += 1
        if calls["n"] == 2:  # the second camera of the episode: the first one already got frames
            raise RuntimeError("worker killed mid-episode")
        return original(self, frames)

    monkeypatch.setattr(video_mod.VideoEncoder, "write", failing_write)
    import h5py

    original_create = h5py.Group.create_dataset

    def failing_create(self, name, *args, **kwargs):
        if name.endswith("_image"):
            raise RuntimeError("worker killed mid-episode")
        return original_create(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", failing_create)
    with pytest.raises(RuntimeError, match="killed"):
        writer.add_episode(synthetic_episode(1, 5))
    assert not (tmp_path / "shards/s0").exists()
    assert list((tmp_path / "shards").iterdir()) == []  # the staging folder is gone too
    with pytest.raises(DatasetError, match="not closed"):
        finalize(kind, tmp_path / "ds", [tmp_path / "shards/s0"])


def test_killed_before_the_marker_the_shard_is_invisible(tmp_path):
    spec = DatasetSpec.from_episode(synthetic_episode(0, 5))
    writer = make_shard_writer("lerobot", tmp_path / "shards/s0", spec, 0)
    writer.add_episode(synthetic_episode(0, 5))
    # no close(): the process died here; only a hidden .partial folder exists
    assert not (tmp_path / "shards/s0").exists()
    assert all(p.name.startswith(".s0.partial-") for p in (tmp_path / "shards").iterdir())
    with pytest.raises(DatasetError, match="s0.*not closed"):
        finalize("lerobot", tmp_path / "ds", [tmp_path / "shards/s0"])
    writer.abort()


def test_a_rerun_shard_replaces_leftovers_of_a_crashed_attempt(tmp_path):
    (tmp_path / "shards/s0").mkdir(parents=True)
    (tmp_path / "shards/s0/data.parquet").write_bytes(b"half a file")
    shard = _shard(tmp_path, "shards/s0", [synthetic_episode(0, 4)])
    assert json.loads((shard / "manifest.json").read_text())["num_episodes"] == 1
    finalize("lerobot", tmp_path / "ds", [shard])
    assert validate(tmp_path / "ds") == []


def test_crash_during_finalize_keeps_the_previous_dataset_valid(tmp_path, monkeypatch):
    a = _shard(tmp_path, "shards/a", [synthetic_episode(0, 5), synthetic_episode(1, 6)], index=0)
    b = _shard(tmp_path, "shards/b", [synthetic_episode(2, 4)], index=1)
    c = _shard(tmp_path, "shards/c", [synthetic_episode(3, 7)], index=2)
    finalize("lerobot", tmp_path / "ds", [a, b])
    assert validate(tmp_path / "ds") == []

    def crash(*args, **kwargs):
        raise OSError("node lost power")

    monkeypatch.setattr(lerobot_mod, "commit_dirs", crash)
    with pytest.raises(OSError):
        finalize("lerobot", tmp_path / "ds", [a, b, c])
    assert validate(tmp_path / "ds") == []
    # LeRobot loads every parquet under data/: the new shard's table must not be there yet
    assert sorted(p.name for p in (tmp_path / "ds/data/chunk-000").iterdir()) == ["file-000.parquet", "file-001.parquet"]
    assert not list((tmp_path / "ds").glob(".data.new-*")) and not list((tmp_path / "ds").glob(".meta.new-*"))
    assert LeRobotReader(tmp_path / "ds").info["total_episodes"] == 3  # still the episodes of a (2) and b (1)

    monkeypatch.undo()
    info = finalize("lerobot", tmp_path / "ds", [a, b, c])  # re-run after the crash
    assert info["total_episodes"] == 4
    assert validate(tmp_path / "ds") == []


def test_shards_published_to_a_url_finalize_into_a_url(tmp_path):
    import fsspec

    shard = _shard(tmp_path, "s0", [synthetic_episode(0, 4), synthetic_episode(1, 5)])
    publish_shard(shard, "memory://job/shards/s0")
    fs = fsspec.filesystem("memory")
    assert fs.exists("/job/shards/s0/manifest.json")
    info = finalize("lerobot", "memory://job/dataset", ["memory://job/shards/s0"])
    assert info["total_frames"] == 9
    assert json.loads(fs.cat_file("/job/dataset/meta/info.json"))["total_episodes"] == 2
    assert fs.exists("/job/dataset/videos/observation.images.wrist/chunk-000/file-000.mp4")
    assert fs.size("/job/dataset/videos/observation.images.wrist/chunk-000/file-000.mp4") == \
        (shard / "videos/observation.images.wrist.mp4").stat().st_size


def test_publishing_an_unclosed_shard_is_refused(tmp_path):
    (tmp_path / "s0").mkdir()
    with pytest.raises(DatasetError, match="not closed"):
        publish_shard(tmp_path / "s0", "memory://job2/s0")


def test_a_late_shard_slots_in_without_moving_finished_videos(tmp_path):
    s0 = _shard(tmp_path, "shards/s0", [synthetic_episode(0, 5)], index=0)
    s1 = _shard(tmp_path, "shards/s1", [synthetic_episode(1, 6)], index=1)
    s2 = _shard(tmp_path, "shards/s2", [synthetic_episode(2, 4)], index=2)
    finalize("lerobot", tmp_path / "ds", [s0, s2])  # shard 1 failed the first time
    video2 = (tmp_path / "ds/videos/observation.images.wrist/chunk-000/file-002.mp4").read_bytes()
    assert validate(tmp_path / "ds") == []
    info = finalize("lerobot", tmp_path / "ds", [s0, s1, s2])  # resumed: shard 1 re-ran
    assert info["total_episodes"] == 3 and info["total_frames"] == 15
    assert (tmp_path / "ds/videos/observation.images.wrist/chunk-000/file-002.mp4").read_bytes() == video2
    assert validate(tmp_path / "ds") == []
    reader = LeRobotReader(tmp_path / "ds")
    assert [e["data/file_index"] for e in reader.episodes] == [0, 1, 2]


def test_finalize_drops_files_of_shards_no_longer_listed(tmp_path):
    s0 = _shard(tmp_path, "shards/s0", [synthetic_episode(0, 5)], index=0)
    s1 = _shard(tmp_path, "shards/s1", [synthetic_episode(1, 6)], index=1)
    finalize("lerobot", tmp_path / "ds", [s0, s1], )
    finalize("lerobot", tmp_path / "ds", [s0])
    assert [p.name for p in (tmp_path / "ds/data/chunk-000").iterdir()] == ["file-000.parquet"]
    assert not (tmp_path / "ds/videos/observation.images.wrist/chunk-000/file-001.mp4").exists()
    assert validate(tmp_path / "ds") == []


def test_shards_out_of_order_are_refused(tmp_path):
    s0 = _shard(tmp_path, "shards/s0", [synthetic_episode(0, 5)], index=0)
    s1 = _shard(tmp_path, "shards/s1", [synthetic_episode(1, 6)], index=1)
    with pytest.raises(DatasetError, match="increasing shard_index"):
        finalize("lerobot", tmp_path / "ds", [s1, s0])


def test_a_codec_the_build_lacks_fails_cleanly(tmp_path, monkeypatch):
    from simfarm.writers import spec as spec_mod

    monkeypatch.setitem(spec_mod.VIDEO_CODECS, "av1", "libnonexistent")
    spec = DatasetSpec.from_episode(synthetic_episode(0, 4))
    with pytest.raises(DatasetError, match="libnonexistent"):
        make_shard_writer("lerobot", tmp_path / "shards/s0", spec, 0)
    assert list((tmp_path / "shards").iterdir()) == []
