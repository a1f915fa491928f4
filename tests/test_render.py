"""The throughput renderer: reused, no shadows/reflections/MSAA by default, pretty on request."""

import mujoco
import numpy as np
import pytest

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


# A room with more lights than OpenGL's fixed-function pipeline has (GL_MAX_LIGHTS = 8 with the
# headlight): the one after the 8th casts a shadow, as a generated room's may.
MANY_LIGHTS_XML = XML.replace(
    '<light pos="0 0 3" castshadow="true"/>',
    "".join(f'<light pos="{0.3 * i - 1.5} 0 2" dir="0 0 -1" diffuse=".3 .3 .3" castshadow="{str(i in (0, 9)).lower()}"/>'
            for i in range(10)),
)


def test_a_scene_with_more_lights_than_opengl_draws_like_mujoco_and_leaves_no_gl_error():
    """mjr_render calls glLight(GL_LIGHT0 + i) for every scene light; the 9th on fail with
    GL_INVALID_ENUM and draw nothing, and the error surfaced at the next scene's mjr_makeContext
    as "OpenGL error 0x500" (`scene gallery robot=mobile_base`). Same pixels, no error."""
    from simfarm.render import configure_model_for_rendering

    for pretty in (False, True):
        model = mujoco.MjModel.from_xml_string(MANY_LIGHTS_XML)
        data = mujoco.MjData(model)
        mujoco.mj_forward(model, data)
        with CameraRenderer(model, 48, 64, pretty=pretty) as r:
            ours = r.render(data, "cam").copy()
            assert mujoco.mjr_getError() == 0, f"pretty={pretty}"  # the renderer's context is current
            r.set_model(mujoco.MjModel.from_xml_string(MANY_LIGHTS_XML))  # the next scene: no warning either
            assert mujoco.mjr_getError() == 0
        configure_model_for_rendering(model, pretty=pretty)
        bare = mujoco.Renderer(model, 48, 64)
        try:
            bare.update_scene(data, camera="cam")
            if not pretty:
                bare.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
                bare.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
            theirs = bare.render()
            mujoco.mjr_getError()  # mujoco.Renderer leaves the GL_INVALID_ENUM behind
        finally:
            bare.close()
        assert ours.std() > 5
        np.testing.assert_array_equal(ours, theirs, err_msg=f"pretty={pretty}")


def test_closing_one_renderer_leaves_the_others_frames_intact():
    """close() frees its GL objects in its own context, not in the context made current last
    (which used to delete the other renderer's framebuffer: stale frames, GL errors)."""
    model = mujoco.MjModel.from_xml_string(XML)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    first = CameraRenderer(model, 32, 40)
    second = CameraRenderer(model, 32, 40)  # current now
    try:
        first.render(data, "cam")
        second.render(data, "cam")
        first.close()
        first.close()  # idempotent
        data.qpos[0] += 0.15  # the box moves: a stale frame would show it where it was
        mujoco.mj_forward(model, data)
        moved = second.render(data, "cam").copy()
        assert mujoco.mjr_getError() == 0
    finally:
        second.close()
    with CameraRenderer(model, 32, 40) as fresh:
        np.testing.assert_array_equal(moved, fresh.render(data, "cam"))
    second.close()  # after close: nothing to do


def test_renderers_left_open_are_closed_by_the_exit_hook_and_stay_closed():
    from simfarm.render import _live, close_all_renderers

    model = mujoco.MjModel.from_xml_string(XML)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderers = [CameraRenderer(model, 16, 16), CameraRenderer(model, 24, 24)]
    assert all(r in _live for r in renderers)
    close_all_renderers()
    assert not any(r in _live for r in renderers)
    for r in renderers:
        r.close()  # a later close (env.close() after the hook) does nothing
        with pytest.raises(RuntimeError, match="after close"):
            r.render(data, "cam")
