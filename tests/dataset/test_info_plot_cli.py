"""`simfarm dataset info` and `plot` on real (synthetic) datasets, through the CLI."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from simfarm.cli import main as simfarm_main
from simfarm.dataset.info import dataset_info
from simfarm.dataset.plot import plot_dataset
from simfarm.writers.synthetic import write_synthetic_dataset


@pytest.fixture(scope="module", params=["lerobot", "hdf5"])
def dataset(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param) / "ds"
    _, _, episodes = write_synthetic_dataset(root, request.param, [[5, 7], [6]])
    return root, episodes


def test_info_counts_episodes_frames_tasks_and_success(dataset):
    root, episodes = dataset
    info = dataset_info(root)
    assert info["episodes"] == 3 and info["frames"] == 18
    assert info["duration_s"] == pytest.approx(1.8)
    assert info["success_rate"] == pytest.approx(2 / 3)
    assert info["robots"] == {"arm": 3} and info["programs"] == {"kitchen": 3}
    assert sorted(info["tasks"]) == sorted({e.instruction for e in episodes})
    assert info["size_bytes"] > 0


def test_info_cli_prints_json(dataset, capsys):
    root, _ = dataset
    assert simfarm_main(["dataset", "info", str(root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["episodes"] == 3


def test_plot_writes_the_pngs_a_user_looks_at_first(dataset, tmp_path):
    root, _ = dataset
    paths = plot_dataset(root, tmp_path / "plots")
    names = {p.name for p in paths}
    assert names == {"episode_lengths.png", "success_by_task.png", "actions.png", "states.png", "frames.png"}
    for p in paths:
        with Image.open(p) as img:
            assert img.size[0] > 100 and img.size[1] > 100


def test_plot_cli_requires_out(dataset, capsys):
    root, _ = dataset
    assert simfarm_main(["dataset", "plot", str(root)]) == 2
    assert "out=DIR" in capsys.readouterr().err


def test_unknown_subcommand_lists_the_accepted_ones(capsys):
    assert simfarm_main(["dataset", "frobnicate", "x"]) == 2
    assert "info, validate, plot, replay" in capsys.readouterr().err
