"""The parallel gripper closes on, holds and lifts objects."""

from __future__ import annotations

import numpy as np
import pytest
from robot_helpers import build_scene, drive_tcp_to, hold

from simfarm.robots import make_robot


@pytest.fixture(scope="module")
def robot():
    # Floor-mounted so a box on the floor is within reach.
    return make_robot("arm", mount_height_m=0.0)


def test_gripper_command_maps_minus_one_open_plus_one_closed(robot):
    model, data, handle = build_scene(robot)
    hold(model, data, handle, 1.0, 5)
    assert handle.gripper_opening(data) < 0.002
    hold(model, data, handle, -1.0, 5)
    assert handle.gripper_opening(data) == pytest.approx(0.08, abs=0.002)
    hold(model, data, handle, 0.0, 5)
    assert handle.gripper_opening(data) == pytest.approx(0.04, abs=0.003)


def test_fingers_move_symmetrically(robot):
    model, data, handle = build_scene(robot)
    hold(model, data, handle, 0.3, 3)
    left, right = data.qpos[handle.gripper_qpos_adr]
    assert left == pytest.approx(right, abs=1e-4)


@pytest.mark.parametrize("mass_kg", [0.3, 0.5])
def test_gripper_closes_on_a_5cm_box_and_lifts_it_without_slipping(robot, mass_kg):
    box = {"pos": [0.5, 0.0, 0.025], "half_m": 0.025, "mass_kg": mass_kg}
    model, data, handle = build_scene(robot, boxes=(box,))
    box_id = model.body("box0").id
    drive_tcp_to(model, data, handle, [0.5, 0, 0.15], gripper=-1.0)
    drive_tcp_to(model, data, handle, [0.5, 0, 0.03], gripper=-1.0)
    hold(model, data, handle, 1.0, 6)
    # closed on the box: stopped at its width, not at zero
    assert handle.gripper_opening(data) == pytest.approx(0.05, abs=0.003)
    drive_tcp_to(model, data, handle, [0.5, 0, 0.25], gripper=1.0)
    hold(model, data, handle, 1.0, 3)
    offset_lifted = data.xpos[box_id] - handle.ee_pose(data)[0]
    assert data.xpos[box_id][2] > 0.2  # lifted 18+ cm off the floor
    hold(model, data, handle, 1.0, 20)  # 2 s in the air
    offset_held = data.xpos[box_id] - handle.ee_pose(data)[0]
    assert np.linalg.norm(offset_held - offset_lifted) < 0.002
    assert data.xpos[box_id][2] > 0.2
