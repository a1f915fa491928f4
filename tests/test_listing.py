"""`simfarm list robots|tasks|scenes`: names one per line, `--json` with what each offers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from simfarm.robots import registered_robots
from simfarm.tasks import TASKS


def _list(*args):
    proc = subprocess.run([sys.executable, "-m", "simfarm.cli", "list", *args], capture_output=True, text=True,
                          env={**os.environ, "MUJOCO_GL": "egl"}, timeout=120)
    return proc


def test_list_robots_prints_one_registered_name_per_line():
    proc = _list("robots")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == list(registered_robots()) and "panda" in proc.stdout.split()
    assert proc.stderr == ""


def test_list_robots_json_describes_each_robot():
    rows = {r["name"]: r for r in json.loads(_list("robots", "--json").stdout)}
    assert rows["panda"]["arm_dof"] == 7 and rows["panda"]["aliases"] == ["arm"]
    assert rows["panda"]["cameras"] == ["wrist"] and "ee_delta" in rows["panda"]["control_modes"]
    assert rows["mobile_base"]["cameras"] == [] and rows["mobile_base"]["control_modes"] == ["base_vel"]


def test_list_tasks_and_scenes():
    assert _list("tasks").stdout.split() == list(TASKS)
    tasks = {t["name"]: t for t in json.loads(_list("tasks", "--json").stdout)}
    assert tasks["push_trolley"]["default_robot"] == "mobile_base" and "panda" not in tasks["push_trolley"]["robots"]
    assert {"kitchen", "tabletop"} <= set(_list("scenes").stdout.split())


def test_list_mistakes_are_one_line():
    proc = _list("robot")
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "simfarm list: error: list: got 'robot' (did you mean 'robots'?); accepted: robots, tasks, scenes")
    proc = _list("robots", "--jsn")
    assert proc.returncode == 2 and proc.stderr.startswith("simfarm list: error: ") and "--json" in proc.stderr
