"""The wrist camera renders and sees the fingers."""

from __future__ import annotations

import numpy as np
from robot_helpers import build_scene, hold

from simfarm.render import CameraRenderer
from simfarm.robots import make_robot


def test_wrist_camera_renders_and_sees_the_fingers_move():
    model, data, handle = build_scene(make_robot("arm"))
    with CameraRenderer(model, 96, 96) as renderer:
        hold(model, data, handle, -1.0, 5)
        open_img = renderer.render(data, handle.wrist_camera).copy()
        hold(model, data, handle, 1.0, 5)
        closed_img = renderer.render(data, handle.wrist_camera).copy()
    assert open_img.shape == (96, 96, 3) and open_img.dtype == np.uint8
    assert open_img.std() > 5  # not a blank frame
    changed = np.abs(open_img.astype(int) - closed_img.astype(int)).sum(axis=2) > 30
    assert changed.mean() > 0.01  # the fingers are in view
