"""`simfarm eval` on a real local Ray: an earlier report is refused unless overwrite=true and is
replaced only once the new one is written; the size of an evaluation is bounded; Ctrl-C is clean."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from simfarm import config as C
from simfarm.errors import ConfigError, FarmError

REPO = Path(__file__).resolve().parents[2]
TINY = ["scene=tabletop", "obs_mode=state", "videos=0", "failure_videos=0", "workers=1"]


@pytest.fixture(scope="module")
def ray_session():
    os.environ.setdefault("RAY_TMPDIR", tempfile.mkdtemp(prefix="re", dir="/tmp"))
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


def eval_cfg(out: Path, *extra: str):
    return C.compose("eval", [*TINY, f"output={out}", *extra])


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_folder_of_other_files_is_not_an_eval_output_unless_overwrite(tmp_path):
    from simfarm.evaluation.runner import check_eval_output

    out = tmp_path / "eval"
    check_eval_output(out, overwrite=False)  # absent: fine
    out.mkdir()
    check_eval_output(out, overwrite=False)  # empty: fine
    (out / "thesis.pdf").write_text("precious")
    with pytest.raises(FarmError, match="holds files that no simfarm eval wrote"):
        check_eval_output(out, overwrite=False)
    check_eval_output(out, overwrite=True)


def test_the_size_of_an_evaluation_is_bounded_before_ray_starts(tmp_path):
    import ray

    from simfarm.evaluation.runner import MAX_EVAL_EPISODES, run_eval

    with pytest.raises(ConfigError, match=rf"^episodes: .*at most {MAX_EVAL_EPISODES} episodes in all; got {MAX_EVAL_EPISODES + 1}"):
        run_eval(eval_cfg(tmp_path / "eval", f"episodes={MAX_EVAL_EPISODES + 1}"))
    assert not ray.is_initialized() and not (tmp_path / "eval").exists()


def test_the_eval_log_line_is_readable():
    from simfarm.evaluation.report import summarize
    from simfarm.evaluation.runner import describe_success

    results = [{"episode_index": i, "success": i < 3, "error": "boom" if i == 3 else None, "length": 5} for i in range(4)]
    line = describe_success(summarize(results))
    assert line == "4 episodes, success 3/4 = 75.0% (95% interval 30.1%-95.4%), 1 error"


def test_an_earlier_report_is_refused_unless_overwrite_and_replaced_only_once_the_new_one_is_written(ray_session, tmp_path, monkeypatch):
    from simfarm.evaluation import runner
    from simfarm.evaluation.runner import run_eval

    out = tmp_path / "eval"
    first = run_eval(eval_cfg(out, "episodes=2"), show_progress=False)
    assert first["summary"]["n_episodes"] == 2
    before = files(out)
    with pytest.raises(FarmError, match=r"already holds an evaluation report \(report.json exists\); pass overwrite=true") as info:
        run_eval(eval_cfg(out, "episodes=3"), show_progress=False)
    assert "\n" not in str(info.value)
    assert files(out) == before

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:  # the new report cannot be written: the old one stays whole
        m.setattr(runner, "_keep_failure_videos", broken)
        with pytest.raises(OSError, match="No space left"):
            run_eval(eval_cfg(out, "episodes=3", "overwrite=true"), show_progress=False)
    assert files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"]  # its staged folder is gone too

    second = run_eval(eval_cfg(out, "episodes=3", "overwrite=true"), show_progress=False)
    assert second["summary"]["n_episodes"] == 3
    assert json.loads((out / "report.json").read_text())["summary"]["n_episodes"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"]


@pytest.mark.slow
def test_ctrl_c_during_eval_stops_cleanly_and_leaves_the_output_as_it_was(tmp_path):
    ray_tmp = tempfile.mkdtemp(prefix="ei", dir="/tmp")
    out = tmp_path / "eval"
    env = dict(os.environ, RAY_TMPDIR=ray_tmp, MUJOCO_GL="egl")
    env.pop("RAY_ADDRESS", None)
    # Videos of every episode: each finished episode leaves an mp4 in the staged folder.
    proc = subprocess.Popen(
        [sys.executable, "-m", "simfarm.cli", "eval", "scene=tabletop", "camera_size=[48,48]", "episodes=20",
         "videos=20", "workers=1", f"output={out}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    videos = tmp_path / ".eval.simfarm-next" / "videos"
    try:
        deadline = time.monotonic() + 180
        while not (videos.exists() and any(videos.glob("*.mp4"))) and proc.poll() is None:
            assert time.monotonic() < deadline, "no episode finished"
            time.sleep(0.1)
        # The worker writes an episode's mp4 before its result reaches the driver: give the result
        # time to arrive (on a loaded machine the gap reached the interrupt), so one episode counts.
        time.sleep(2.0)
        assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err[-3000:]
    lines = [line for line in err.splitlines() if line.startswith("simfarm eval: interrupted: ")]
    assert len(lines) == 1 and lines[0].endswith(" of 20 episodes done"), err[-3000:]
    assert int(lines[0].split(": ")[2].split(" ")[0]) >= 1
    assert "Traceback" not in err and "bug in Ray" not in err and "Token authentication" not in err, err[-3000:]
    assert not out.exists() and not videos.parent.exists()
