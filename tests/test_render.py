"""The throughput renderer: reused, no shadows/reflections/MSAA by default, pretty on request."""

import mujoco
import numpy as np

from simfarm.render import FAST_SLICES, FAST_STACKS, CameraRenderer

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
    assert (model.vis.quality.numslices, model.vis.quality.numstacks) == (FAST_SLICES, FAST_STACKS)


def test_pretty_renderer_restores_multisampling_after_a_fast_one():
    model = mujoco.MjModel.from_xml_string(XML)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    CameraRenderer(model, 32, 32).close()
    assert model.vis.quality.offsamples == 0
    with CameraRenderer(model, 32, 32, pretty=True) as r:
        assert model.vis.quality.offsamples >= 4
        assert (model.vis.quality.numslices, model.vis.quality.numstacks) == (28, 16)  # MuJoCo's defaults
        assert r.render(data, "cam").std() > 5


def test_fast_frames_match_a_bare_mujoco_renderer_with_the_same_settings():
    """CameraRenderer only reorganises MuJoCo's calls: its pixels are mujoco.Renderer's, exactly."""
    from simfarm.render import configure_model_for_rendering

    model = mujoco.MjModel.from_xml_string(XML.replace('type="box" size=".1 .1 .1"', 'type="capsule" size=".08 .1"'))
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with CameraRenderer(model, 48, 64) as r:
        ours = r.render(data, "cam").copy()
    configure_model_for_rendering(model, pretty=False)
    bare = mujoco.Renderer(model, 48, 64)
    try:
        bare.update_scene(data, camera="cam")
        bare.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
        bare.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
        theirs = bare.render()
    finally:
        bare.close()
    assert ours.std() > 5
    np.testing.assert_array_equal(ours, theirs)


def test_culling_geoms_out_of_view_keeps_every_pixel_of_a_generated_room():
    """Geoms outside a camera's frustum are left out of the scene: same frames, less to draw."""
    from simfarm.render import configure_model_for_rendering, outside_view
    from simfarm.scene import build_scene, sample_scene

    rng = np.random.default_rng(4)
    model = build_scene(sample_scene("kitchen", rng)).model
    data = mujoco.MjData(model)
    configure_model_for_rendering(model, pretty=False)
    bare = mujoco.Renderer(model, 96, 128)
    ours = CameraRenderer(model, 96, 128)
    culled = 0
    groups_before = model.geom_group.copy()
    try:
        for step in range(3):
            data.qpos[:] = model.qpos0
            data.qpos[: min(7, model.nq)] += rng.normal(0, 0.3, min(7, model.nq))  # the arm (and wrist camera) moves
            mujoco.mj_forward(model, data)
            for cam in range(model.ncam):
                hidden = outside_view(model, data, cam, 96, 128)
                culled += int(hidden.sum())
                bare.update_scene(data, camera=cam)
                bare.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
                bare.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
                np.testing.assert_array_equal(ours.render(data, cam), bare.render(), err_msg=f"camera {cam}, step {step}")
    finally:
        bare.close()
        ours.close()
    assert culled > 0  # the test exercised culling
    np.testing.assert_array_equal(model.geom_group, groups_before)  # the model is left as it was
