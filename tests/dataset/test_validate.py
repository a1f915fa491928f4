"""`simfarm dataset validate` finds datasets corrupted on purpose and names the problem precisely."""

from __future__ import annotations

import json
import shutil

import h5py
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simfarm.dataset.cli import main as dataset_main
from simfarm.dataset.validate import validate
from simfarm.writers.synthetic import write_synthetic_dataset


@pytest.fixture(scope="module")
def clean_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean") / "ds"
    write_synthetic_dataset(root, "lerobot", [[5, 7], [6], [4, 3]])
    return root


@pytest.fixture
def dataset(clean_dataset, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(clean_dataset, root)
    return root


def test_clean_dataset_is_valid_and_cli_exits_zero(dataset, capsys):
    assert validate(dataset) == []
    assert dataset_main(["validate", str(dataset)]) == 0
    assert "valid" in capsys.readouterr().out


def test_truncated_parquet_is_reported_with_its_file(dataset, capsys):
    path = dataset / "data/chunk-000/file-001.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    problems = validate(dataset)
    assert any("data/chunk-000/file-001.parquet" in p and "cannot be read" in p for p in problems), problems
    assert dataset_main(["validate", str(dataset)]) == 1
    assert "file-001.parquet" in capsys.readouterr().out


def test_missing_video_is_reported(dataset):
    (dataset / "videos/observation.images.wrist/chunk-000/file-002.mp4").unlink()
    problems = validate(dataset)
    assert any("videos/observation.images.wrist/chunk-000/file-002.mp4 is missing" in p for p in problems), problems


def test_video_shorter_than_its_episodes_is_reported(dataset, tmp_path):
    from simfarm.writers.synthetic import write_synthetic_dataset as write

    write(tmp_path / "short", "lerobot", [[2]])
    shutil.copy(tmp_path / "short/videos/observation.images.workspace/chunk-000/file-000.mp4",
                dataset / "videos/observation.images.workspace/chunk-000/file-000.mp4")
    problems = validate(dataset)
    assert any("observation.images.workspace ends at frame" in p and "has 2 frames" in p for p in problems), problems


def _rewrite(path, column, fn):
    table = pq.read_table(path)
    i = table.schema.get_field_index(column)
    values = fn(table.column(column).to_numpy().copy())
    pq.write_table(table.set_column(i, column, pa.array(values)), path)


def test_stray_data_file_is_reported(dataset):
    shutil.copy(dataset / "data/chunk-000/file-000.parquet", dataset / "data/chunk-000/file-007.parquet")
    problems = validate(dataset)
    assert any("data/chunk-000/file-007.parquet" in p and "no episode references" in p for p in problems), problems


def test_wrong_index_is_reported(dataset):
    def shift(index):
        index[3] += 100
        return index

    _rewrite(dataset / "data/chunk-000/file-000.parquet", "index", shift)
    problems = validate(dataset)
    assert any("file-000.parquet" in p and "episode 0" in p for p in problems), problems


def test_wrong_episode_index_is_reported(dataset):
    def swap(ep):
        ep[:] = 1
        return ep

    _rewrite(dataset / "data/chunk-000/file-000.parquet", "episode_index", swap)
    problems = validate(dataset)
    assert any("rows of episode 0 carry episode_index [1]" in p for p in problems), problems


def test_missing_simfarm_metadata_row_is_reported(dataset):
    path = dataset / "meta/simfarm/episodes.parquet"
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 1), path)
    problems = validate(dataset)
    assert problems == ["meta/simfarm/episodes.parquet has no row for episode 4"]


def test_stats_that_disagree_with_the_data_are_reported(dataset):
    path = dataset / "meta/stats.json"
    stats = json.loads(path.read_text())
    stats["action"]["mean"][0] += 0.5
    path.write_text(json.dumps(stats))
    problems = validate(dataset)
    assert any("meta/stats.json action/mean does not match" in p for p in problems), problems


def test_total_frames_mismatch_is_reported(dataset):
    path = dataset / "meta/info.json"
    info = json.loads(path.read_text())
    info["total_frames"] += 1
    path.write_text(json.dumps(info))
    problems = validate(dataset)
    assert any("total_frames" in p for p in problems), problems


def test_hdf5_with_wrong_total_is_reported(tmp_path):
    write_synthetic_dataset(tmp_path / "h5", "hdf5", [[4, 5]])
    assert validate(tmp_path / "h5") == []
    with h5py.File(tmp_path / "h5/data.hdf5", "r+") as f:
        f["data"].attrs["total"] = 3
        del f["data/demo_1/rewards"]
    problems = validate(tmp_path / "h5")
    assert any("data.attrs['total'] is 3; demos hold 9 samples" in p for p in problems), problems
    assert any("data/demo_1 lacks rewards" in p for p in problems), problems


def test_not_a_dataset_is_reported(tmp_path):
    assert "not a simfarm dataset" in validate(tmp_path)[0]


def test_validate_json_lists_every_problem(dataset, capsys):
    (dataset / "videos/observation.images.wrist/chunk-000/file-000.mp4").unlink()
    (dataset / "meta/simfarm/scenes").rename(dataset / "meta/simfarm/scenes_gone")
    assert dataset_main(["validate", str(dataset), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] is False
    assert any("file-000.mp4 is missing" in p for p in out["problems"])
    assert any("meta/simfarm/scenes/" in p and "is missing" in p for p in out["problems"])
