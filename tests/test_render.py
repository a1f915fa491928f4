"""The throughput renderer: reused, no shadows/reflections/MSAA by default, pretty on request."""

import mujoco
import numpy as np

from simfarm.render import CameraRenderer

XML = """<mujoco><worldbody><light pos="0 0 3" castshadow="true"/>
<geom type="plane" size="2 2 .1" rgba=".8 .8 .8 1"/>
<body pos="0 0 .2"><freejoint/><geom type="box" size=".1 .1 .1" rgba="1 0 0 1"/></body>
<camera name="cam" pos="0 -1 1" xyaxes="1 0 0 0 .7 .7"/></worldbody></mujoco>"""


def test_fast_renderer_draws_the_scene_and_reuses_its_output_buffer():
    model = mujoco.MjModel.from_xml_string(XML)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with CameraRenderer(model, 64, 80) as r:
        out = np.empty((64, 80, 3), np.uint8)
        img = r.render(data, "cam", out=out)
        assert img is out and img.shape == (64, 80, 3)
        assert img[..., 0].max() > 150 and img.std() > 5  # the red box is visible, not a blank frame
    assert model.vis.quality.offsamples == 0


def test_pretty_renderer_restores_multisampling_after_a_fast_one():
    model = mujoco.MjModel.from_xml_string(XML)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    CameraRenderer(model, 32, 32).close()
    assert model.vis.quality.offsamples == 0
    with CameraRenderer(model, 32, 32, pretty=True) as r:
        assert model.vis.quality.offsamples >= 4
        assert r.render(data, "cam").std() > 5
