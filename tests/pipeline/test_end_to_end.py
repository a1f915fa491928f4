"""The thin path through every stage: tabletop scene -> scripted pick -> episodes -> dataset -> replay, eval."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from simfarm import config as C
from simfarm.rollout import EpisodeRunner

pytestmark = pytest.mark.slow


def _simfarm(*args: str, tmp_path) -> subprocess.CompletedProcess:
    # Ray's unix socket paths must stay under ~107 characters: pytest's tmp_path is too deep.
    ray_tmp = tempfile.mkdtemp(prefix="sf", dir="/tmp")
    env = {**os.environ, "MUJOCO_GL": "egl", "RAY_TMPDIR": ray_tmp}
    try:
        return subprocess.run([sys.executable, "-m", "simfarm.cli", *args], capture_output=True, text=True, env=env, timeout=600)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


def test_scripted_pick_on_tabletop_succeeds_and_random_does_not():
    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", "obs_mode=state"]))
    runner = EpisodeRunner(cfg)
    try:
        episodes = [runner.run(i) for i in range(3)]
    finally:
        runner.close()
    assert sum(ep.success for ep in episodes) >= 2
    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", "obs_mode=state", "policy=random"]))
    runner = EpisodeRunner(cfg)
    try:
        random_eps = [runner.run(i) for i in range(2)]
    finally:
        runner.close()
    assert not any(ep.success for ep in random_eps)
    assert all(ep.length == runner.env.max_steps for ep in random_eps)


def test_generated_dataset_validates_and_replays_with_zero_divergence(tmp_path):
    out = tmp_path / "ds"
    gen = _simfarm("generate", "scene=tabletop", "episodes=2", "shard_size=1", "camera_size=[64,64]", f"output={out}", tmp_path=tmp_path)
    assert gen.returncode == 0, gen.stderr[-3000:]
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["total_episodes"] == 2 and info["codebase_version"] == "v3.0"
    val = _simfarm("dataset", "validate", str(out), tmp_path=tmp_path)
    assert val.returncode == 0, val.stdout + val.stderr[-2000:]
    rep = _simfarm("dataset", "replay", str(out), tmp_path=tmp_path)
    assert rep.returncode == 0, rep.stdout + rep.stderr[-2000:]
    assert "largest state divergence 0.000e+00 (identical)" in rep.stdout


def test_eval_writes_report_with_wilson_interval_and_videos(tmp_path):
    out = tmp_path / "eval"
    res = _simfarm("eval", "scene=tabletop", "tasks=[pick_place,push]", "episodes=3", "videos=1",
                   "camera_size=[64,64]", f"output={out}", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    episodes = report["episodes"]
    assert len(episodes) == 6 and {e["task"] for e in episodes} == {"pick_place", "push"}
    assert report["config"]["split"] == "test"
    overall = report["summary"]["overall"]
    assert overall["successes"] == sum(e["success"] for e in episodes)
    assert 0.0 <= overall["ci_low"] <= overall["rate"] <= overall["ci_high"] <= 1.0
    for task in ("pick_place", "push"):
        assert report["summary"]["by_task"][task]["n"] == 3
    assert overall["successes"] >= 4  # the experts' benchmark rates are >= 90%
    assert (out / "report.md").exists() and (out / "videos" / "pick_place_tabletop_ep00000.mp4").stat().st_size > 0


def test_eval_of_a_random_policy_scores_near_zero(tmp_path):
    out = tmp_path / "eval_random"
    res = _simfarm("eval", "scene=tabletop", "policy=random", "episodes=3", "obs_mode=state", "videos=0",
                   f"output={out}", tmp_path=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["overall"]["successes"] == 0
    assert all(e["length"] == 120 for e in report["episodes"])  # ran to the time limit


def test_bad_key_fails_before_any_work(tmp_path):
    out = tmp_path / "never"
    res = _simfarm("generate", "robot=octopus", f"output={out}", tmp_path=tmp_path)
    assert res.returncode != 0
    assert "octopus" in res.stderr and "arm" in res.stderr
    assert not out.exists()


def _episode_bytes(ep) -> dict[str, bytes]:
    arrays = {**ep.steps, **{f"img/{k}": v for k, v in ep.images.items()}}
    return {k: np.ascontiguousarray(v).tobytes() for k, v in arrays.items()}


@pytest.mark.parametrize("scene", ["tabletop", "kitchen"])
def test_an_episode_does_not_depend_on_what_its_worker_ran_before(scene):
    """Same config + seed + index => byte-identical arrays and images, whatever ran earlier in the process."""
    cfg = C.to_dict(C.compose("generate", [f"scene={scene}", "camera_size=[48,48]", "randomization=light", "seed=3"]))
    a, b = EpisodeRunner(cfg), EpisodeRunner(cfg)
    try:
        first = {i: a.run(i) for i in (0, 1, 2)}
        second = {i: b.run(i) for i in (2, 1)}
    finally:
        a.close()
        b.close()
    for i in (1, 2):
        assert _episode_bytes(first[i]) == _episode_bytes(second[i])
        assert first[i].metadata["randomization"] == second[i].metadata["randomization"]
        assert first[i].metadata["scene_spec"] == second[i].metadata["scene_spec"]


def test_one_and_two_workers_write_identical_datasets(tmp_path):
    """Every data column, every video byte and every decoded frame (x264 crf 0) is identical."""
    import pyarrow.parquet as pq

    from simfarm.dataset.reader import LeRobotReader

    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        res = _simfarm("generate", "scene=tabletop", "episodes=4", "shard_size=1", f"workers={workers}",
                       "camera_size=[48,48]", "writer.video_codec=h264", "writer.crf=0", f"output={out}", tmp_path=tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        outs[workers] = out
    for sub in ("data", "states", "meta/episodes"):
        files = sorted(p.relative_to(outs[1]) for p in (outs[1] / sub).rglob("*.parquet"))
        assert files
        for rel in files:
            assert pq.read_table(outs[1] / rel).equals(pq.read_table(outs[2] / rel)), rel
    videos = sorted(p.relative_to(outs[1]) for p in (outs[1] / "videos").rglob("*.mp4"))
    assert videos
    for rel in videos:  # the encoded bytes too, not just the decoded frames
        assert (outs[1] / rel).read_bytes() == (outs[2] / rel).read_bytes(), rel
    r1, r2 = LeRobotReader(outs[1]), LeRobotReader(outs[2])
    for ep in range(4):
        for key in r1.video_keys:
            assert np.array_equal(r1.frames(ep, key), r2.frames(ep, key))


def test_hdf5_jobs_store_the_scene_mjcf_as_each_demos_model_file(tmp_path):
    import h5py
    import mujoco

    from simfarm.writers import DatasetSpec, finalize, make_shard_writer, spec_options

    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", "writer=hdf5", "camera_size=[32,32]"]))
    runner = EpisodeRunner(cfg)
    try:
        ep = runner.run(0)
    finally:
        runner.close()
    spec = DatasetSpec.from_episode(ep, **spec_options(cfg["writer"]))
    with make_shard_writer("hdf5", tmp_path / "s0", spec, 0) as w:
        w.add_episode(ep)
    finalize("hdf5", tmp_path / "ds", [tmp_path / "s0"])
    with h5py.File(tmp_path / "ds" / "data.hdf5") as f:
        xml = f["data/demo_0"].attrs["model_file"]
        assert "<mujoco" in xml and "simfarm" not in json.loads(f["data"].attrs["env_args"]).get("model_xml", "")
    model = mujoco.MjModel.from_xml_string(xml)
    assert model.nq == runner.env.model.nq


def test_a_policy_server_dying_mid_episode_fails_episodes_cleanly_and_the_job_goes_on(tmp_path):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # tests/ on the path, not the repo: an installed package named `tests` (draccus ships one) would shadow ours.
    env = {**os.environ, "PYTHONPATH": os.path.join(repo, "tests") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    server = subprocess.Popen(
        [sys.executable, "-m", "simfarm.cli", "serve-policy", "policy=python:pipeline.served_policies:DiesMidEpisode", "port=0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=repo,
    )
    try:
        line = server.stdout.readline()
        assert "serving policy" in line, server.stderr.read()[-2000:]
        url = line.strip().split(" on ")[-1]
        assert url.startswith("ws://127.0.0.1:")  # binds loopback by default
        out = tmp_path / "ds"
        res = _simfarm("generate", "scene=tabletop", "episodes=3", "shard_size=3", "obs_mode=state",
                       f"policy=remote:{url}", "max_failures=10", f"output={out}", tmp_path=tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        assert server.wait(timeout=30) == 1  # the server really died
        job = json.loads((out / "job.json").read_text())
        assert job["episodes"]["failed"] == 3 and job["episodes"]["kept"] == 0
        errors = [f["error"] for f in job["failures"]]
        assert "policy" in errors[0] and "remote:ws://" in errors[0]
    finally:
        server.kill()


def test_depth_and_segmentation_jobs_are_byte_identical_across_workers_and_replay(tmp_path):
    """Lossless HEVC depth and segmentation videos, the frames side table and the episode tables are
    the same bytes with 1 and 2 workers; replay renders the same depth and segmentation again."""
    outs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        res = _simfarm("generate", "scene=tabletop", "episodes=2", "shard_size=1", f"workers={workers}", "max_steps=12",
                       "obs_mode=rgb+depth+segmentation+state", "camera_size=[48,64]", f"output={out}", tmp_path=tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        outs[workers] = out
    files = [p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file()]
    files = sorted(f for f in files if ".simfarm" not in f.parts
                   and ("_depth" in str(f) or "_segmentation" in str(f) or "frames" in f.parts))
    assert any("_depth" in str(f) for f in files) and any("_segmentation" in str(f) for f in files)
    assert any("frames" in f.parts for f in files)
    for rel in files:
        assert (outs[1] / rel).read_bytes() == (outs[2] / rel).read_bytes(), rel
    val = _simfarm("dataset", "validate", str(outs[2]), tmp_path=tmp_path)
    assert val.returncode == 0, val.stdout + val.stderr[-2000:]
    rep = _simfarm("dataset", "replay", str(outs[2]), "observations=true", tmp_path=tmp_path)
    assert rep.returncode == 0, rep.stdout + rep.stderr[-2000:]
    assert "depth, segmentation and camera poses as stored" in rep.stdout
