"""`simfarm robot show NAME out=PATH.png`: the robot alone at home, rendered, with its frames."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "simfarm.cli", "robot", *args], capture_output=True, text=True,
                          env={**os.environ, "MUJOCO_GL": "egl"}, timeout=120, cwd=cwd)


@pytest.mark.parametrize("robot", ["ur5e", "kinova_gen3"])
def test_robot_show_renders_the_robot(robot, tmp_path):
    proc = _cli("show", robot, f"out={tmp_path / 'r.png'}", "size=120x160", "pretty=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and f"{robot}:" in proc.stderr
    img = np.asarray(Image.open(tmp_path / "r.png"))
    assert img.shape == (120, 320, 3)
    # The robot (and its frame axes) stand out from the floor and the background.
    assert img.std() > 20 and len(np.unique(img.reshape(-1, 3), axis=0)) > 200


@pytest.mark.parametrize("args, message", [
    (["show", "ur5", "out=x.png"], "did you mean 'ur5e'"),
    (["show", "ur5e"], "out=PATH.png is required"),
    (["show", "ur5e", "out=x.jpg"], "must end in .png"),
    (["show", "ur5e", "out=x.png", "size=big"], "size: expected HEIGHTxWIDTH"),
    (["shw", "ur5e"], "did you mean 'show'"),
])
def test_robot_show_mistakes_are_one_line(args, message, tmp_path):
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("simfarm robot: error: ") and message in lines[0], proc.stderr
