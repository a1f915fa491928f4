"""Ground-truth annotations (vqa, trace, motion) checked against the renders and the trajectory."""

from __future__ import annotations

import json
import re

import mujoco
import numpy as np
import pytest

from simfarm.annotations import (
    ANNOTATION_KINDS,
    Annotator,
    check_annotations,
    formats,
    motion,
    views,
)
from simfarm.envs import SimfarmEnv, geometry
from simfarm.errors import ConfigError

SIZE = (64, 80)
EVERY, HORIZON = 5, 6


def _episode(scene: str, obs_mode: str = "rgb+depth+segmentation+state", seed: int = 0):
    """A scripted pick_place episode with the annotator attached as the rollout attaches it; keeps
    each frame's observation and camera geometry."""
    env = SimfarmEnv(task="pick_place", scene=scene, obs_mode=obs_mode, camera_size=SIZE)
    obs, info = env.reset(seed=seed)
    rec = Annotator(kinds=ANNOTATION_KINDS, every=EVERY, horizon=HORIZON)
    rec.start(env)
    expert = env.make_expert()
    expert.reset(info["instruction"], seed)
    frames, geoms, tcp = [], [], []
    done, t = False, 0
    while not done:
        rec.observe(env, t)
        frames.append(obs)
        geoms.append({cam: env.camera_geometry(cam) for cam in env._camera_ids})
        tcp.append(env.data.site_xpos[env.handle.tcp_site_id].copy())
        obs, _, term, trunc, info = env.step(expert.act(obs))
        done, t = term or trunc, t + 1
    return env, rec.finish(t), frames, geoms, np.array(tcp), info


@pytest.fixture(scope="module")
def kitchen():
    env, ann, frames, geoms, tcp, info = _episode("kitchen")
    yield env, ann, frames, geoms, tcp, info
    env.close()


def test_check_annotations_names_the_unknown_kind_and_the_accepted_ones():
    with pytest.raises(ConfigError, match=re.escape("annotations: unknown kind 'vq' (did you mean 'vqa'?); accepted: vqa, trace, motion")):
        check_annotations(["vq"])
    with pytest.raises(ConfigError, match="annotations: expected kind names"):
        check_annotations([3])
    with pytest.raises(ConfigError, match="annotations: expected a list of kinds"):
        check_annotations(5)
    assert check_annotations("[motion, vqa]") == ("vqa", "motion")
    assert check_annotations("trace,vqa") == ("vqa", "trace")
    assert check_annotations(["motion", "motion"]) == ("motion",)
    assert check_annotations(None) == check_annotations("none") == check_annotations([]) == ()
    with pytest.raises(ConfigError, match="annotations.every: must be an integer >= 1"):
        Annotator(every=0)
    with pytest.raises(ConfigError, match="annotations.horizon"):
        Annotator(horizon=-2)


def test_rows_obey_lerobots_rules_and_parse_as_documented(kitchen):
    env, ann, frames, *_ = kitchen
    keys = {formats.camera_key(cam) for cam in env._camera_ids}
    assert ann["events"] and ann["persistent"]
    for row in ann["events"]:
        formats.check_row(row, "events")
        assert row["style"] in ("vqa", "trace") and row["camera"] in keys and row["tool_calls"] is None
        assert row["frame"] % EVERY == 0 and 0 <= row["frame"] < len(frames)
        if row["role"] == "assistant":
            formats.parse_answer(row)
        else:
            assert row["role"] == "user" and row["content"].strip()
    for row in ann["persistent"]:
        formats.check_row(row, "persistent")
        assert row["style"] == "motion" and row["role"] == "assistant" and row["camera"] is None
    # LeRobot's validator: at most one (vqa, user) and one (vqa, assistant) per (frame, camera); each
    # question comes with its answer.
    for style in ("vqa", "trace"):
        seen: dict[tuple, int] = {}
        for row in ann["events"]:
            if row["style"] == style:
                key = (row["frame"], row["camera"], row["role"])
                seen[key] = seen.get(key, 0) + 1
        assert set(seen.values()) == {1}
        assert {(f, c) for f, c, r in seen if r == "user"} == {(f, c) for f, c, r in seen if r == "assistant"}
    # Every annotated frame asks every camera one question.
    vqa_frames = {r["frame"] for r in ann["events"] if r["style"] == "vqa"}
    assert vqa_frames == set(range(0, len(frames), EVERY))
    # Names are phrases a camera can ground, never internal names.
    internal = [*ann["meta"]["objects"], *(d["body"] for d in ann["meta"]["drawers"])]
    assert not any(name in r["content"] for name in internal for r in ann["events"] + ann["persistent"])
    assert set(ann["meta"]["phrases"]) == set(ann["meta"]["objects"])


def test_boxes_are_the_tight_boxes_of_each_visible_objects_segmentation(kitchen):
    env, ann, frames, *_ = kitchen
    arrays, names = ann["arrays"], ann["meta"]["objects"]
    ids = [env.instances.by_name[n] for n in names]
    checked = 0
    for t in range(len(frames)):
        for cam in env._camera_ids:
            codes = arrays[f"visible.{cam}"][t]
            if t % EVERY:
                assert (codes == views.NOT_ANNOTATED).all() and np.isnan(arrays[f"boxes.{cam}"][t]).all()
                continue
            seg = frames[t]["segmentation"][cam]
            for k, inst in enumerate(ids):
                ys, xs = np.nonzero(seg == inst)
                box, point = arrays[f"boxes.{cam}"][t, k], arrays[f"points.{cam}"][t, k]
                if codes[k] == views.VISIBLE:
                    assert ys.size > 0
                    np.testing.assert_array_equal(box, [ys.min(), xs.min(), ys.max() + 1, xs.max() + 1])
                    assert seg[int(point[0]), int(point[1])] == inst  # the centre point is on the object
                    checked += 1
                else:
                    assert np.isnan(box).all() and np.isnan(point).all()
                    if codes[k] == views.OUT_OF_VIEW:
                        assert ys.size == 0
    assert checked >= 10
    # The answers say the same as the arrays, in 0..1000 coordinates.
    h, w = SIZE
    for q, a in zip(ann["events"][::2], ann["events"][1::2], strict=True):
        assert (q["role"], a["role"], q["frame"], q["camera"]) == ("user", "assistant", a["frame"], a["camera"])
        if a["style"] != "vqa" or "box_2d" not in a["content"]:
            continue
        answer = json.loads(a["content"])
        cam = a["camera"].removeprefix(formats.CAMERA_KEY_PREFIX)
        k = [ann["meta"]["phrases"][n] for n in names].index(answer["label"])
        assert answer["box_2d"] == formats.norm_box(arrays[f"boxes.{cam}"][a["frame"], k], h, w)
        y0, x0, y1, x1 = formats.box_to_pixels(answer["box_2d"], h, w)
        np.testing.assert_allclose([y0, x0, y1, x1], arrays[f"boxes.{cam}"][a["frame"], k], atol=0.05)


def test_hidden_and_distant_objects_are_marked_never_given_a_box():
    env = SimfarmEnv(task="pick_place", scene="tabletop", obs_mode="rgb+depth+segmentation+state", camera_size=SIZE)
    env.reset(seed=0)
    block = env.built_scene.index.objects["block_0"]
    table = env.built_scene.spec.furniture[0]
    rec = Annotator(kinds=("vqa",), every=1)
    rec.start(env)
    rec.observe(env, 0)  # on the table: in view of the workspace camera
    env.data.qpos[block.qpos_adr + 2] = table.pos[2] + table.size[2] - 0.2  # inside the table, under its top
    mujoco.mj_forward(env.model, env.data)
    rec.observe(env, 1)
    env.data.qpos[block.qpos_adr:block.qpos_adr + 3] = (-30.0, 0.0, 1.0)  # far behind every camera
    mujoco.mj_forward(env.model, env.data)
    rec.observe(env, 2)
    ann = rec.finish(3)
    codes = ann["arrays"]["visible.workspace"][:, 0]
    assert codes.tolist() == [views.VISIBLE, views.OCCLUDED, views.OUT_OF_VIEW]
    rows = [r for r in ann["events"] if r["camera"] == "observation.images.workspace" and r["role"] == "assistant"]
    answers = [json.loads(r["content"]) for r in rows]
    assert "box_2d" in answers[0] and answers[0]["label"] == "the red block"
    assert answers[1]["visible"] is False and answers[1]["reason"] == "occluded" and "point" not in answers[1]
    assert answers[2] == {"label": "objects on the table", "count": 0, "objects": []}  # lists what is seen: nothing
    assert np.isnan(ann["arrays"]["boxes.workspace"][1:]).all()
    env.close()


def test_trace_points_are_the_future_tcp_seen_by_the_camera_of_the_rows_frame(kitchen):
    env, ann, frames, geoms, tcp, _ = kitchen
    h, w = SIZE
    robot = env.instances.by_name["robot"]
    T = len(frames)
    on_robot = 0
    for cam in env._camera_ids:
        trace = ann["arrays"][f"trace.{cam}"]
        assert trace.shape == (T, HORIZON, 2)
        for t in range(T):
            for k in range(1, HORIZON + 1):
                got = trace[t, k - 1]
                if t + k >= T:
                    assert np.isnan(got).all()
                    continue
                g = geoms[t][cam]
                uv, z = geometry.project(tcp[t + k][None], g["intrinsics"], g["world_T_camera"])
                inside = z[0] > 0 and -0.5 <= uv[0, 0] < w - 0.5 and -0.5 <= uv[0, 1] < h - 0.5
                if not inside:
                    assert np.isnan(got).all()
                    continue
                np.testing.assert_allclose(got, [uv[0, 1], uv[0, 0]], atol=1e-3)
                if env.camera_info()[cam]["moving"]:
                    continue
                # A fixed camera sees the gripper there k steps later, unless something nearer hides it.
                y, x = int(round(got[0])), int(round(got[1]))
                win = (slice(max(y - 3, 0), y + 4), slice(max(x - 3, 0), x + 4))
                seg, depth = frames[t + k]["segmentation"][cam][win], frames[t + k]["depth"][cam][win]
                assert (seg == robot).any() or (depth < z[0] - 0.01).any()
                on_robot += int((seg == robot).any())
        # The rows carry the same points, normalized, those out of the image dropped.
        for row in ann["events"]:
            if row["style"] == "trace" and row["role"] == "assistant" and row["camera"] == formats.camera_key(cam):
                pts = trace[row["frame"]][~np.isnan(trace[row["frame"], :, 0])]
                assert json.loads(row["content"]) == [formats.norm_point(y, x, h, w) for y, x in pts]
    assert on_robot >= 20


def test_a_pick_place_episode_closes_the_gripper_then_lifts_it(kitchen):
    _, ann, frames, _, _, info = kitchen
    assert info["success"]
    rows = ann["persistent"]
    texts = [r["content"] for r in rows]
    pattern = re.compile(r"^(close|open) the gripper$|^lift the gripper \d+ cm$|^move the gripper .+$")
    assert all(pattern.match(t) for t in texts), texts
    assert [r["frame"] for r in rows] == sorted({r["frame"] for r in rows})
    close = texts.index("close the gripper")
    assert any(t.startswith("lift the gripper") for t in texts[close + 1:close + 3])
    assert texts[0].startswith("move the gripper") and "down" in " ".join(texts[:close])
    active = ann["arrays"]["motion_row"]
    assert active.shape == (len(frames),) and active[rows[close]["frame"]] == close


def test_motion_words_round_to_centimetres_and_ignore_jitter():
    assert motion.describe_move((0.0, 0.1, 0.0)) == "move the gripper 10 cm left"
    assert motion.describe_move((0.0, 0.0, -0.05)) == "move the gripper down 5 cm"
    assert motion.describe_move((0.003, 0.0, 0.121)) == "lift the gripper 12 cm"
    assert motion.describe_move((0.2, -0.06, 0.01)) == "move the gripper 20 cm forward and 6 cm right"
    assert motion.describe_move((0.004, 0.006, -0.003)) is None
    rng = np.random.default_rng(0)
    # 10 cm left in 10 frames, a pause, close in 2 frames, lift 12 cm; with 1 mm jitter throughout.
    path = [(0.4, 0.01 * k, 0.3) for k in range(11)] + [(0.4, 0.1, 0.3)] * 5 + [(0.4, 0.1, 0.3 + 0.02 * k) for k in range(1, 7)]
    path = np.array(path) + rng.normal(0, 0.001, (len(path), 3))
    opening = np.r_[np.full(12, 0.08), 0.06, np.full(len(path) - 13, 0.045)]
    segs = motion.segment(path, opening)
    assert [(s.start, s.text) for s in segs] == [(0, "move the gripper 10 cm left"), (11, "close the gripper"),
                                                 (15, "lift the gripper 12 cm")]


def test_camera_free_episodes_get_motion_only():
    env, ann, frames, _, _, _ = _episode("tabletop", obs_mode="state")
    assert ann["events"] == [] and not any(k.startswith(("trace.", "boxes.", "visible.")) for k in ann["arrays"])
    assert "close the gripper" in [r["content"] for r in ann["persistent"]]
    env.close()


def test_drawer_answers_follow_the_drawer_joint():
    env = SimfarmEnv(task="open_drawer", scene="kitchen", obs_mode="rgb+state", camera_size=SIZE)
    env.reset(seed=0)
    drawers = env.built_scene.index.drawers
    first, ids = next(iter(drawers.items()))
    env.data.qpos[ids.qpos_adr] = ids.range[0] + 0.8 * (ids.range[1] - ids.range[0])
    mujoco.mj_forward(env.model, env.data)
    rec = Annotator(kinds=("vqa",), every=1)
    rec.start(env)
    for t in range(8):
        rec.observe(env, t)
    ann = rec.finish(8)
    phrases = {d["body"]: d["phrase"] for d in ann["meta"]["drawers"]}
    answers = [json.loads(r["content"]) for r in ann["events"] if r["role"] == "assistant" and '"state"' in r["content"]]
    assert answers, "no camera was asked about a drawer"
    # cabinet_1 (two drawers) stands to the robot's left, cabinet_0 (one) in front of it.
    assert phrases == {"furn/cabinet_1/drawer_0": "the top drawer of the left cabinet",
                       "furn/cabinet_1/drawer_1": "the bottom drawer of the left cabinet",
                       "furn/cabinet_0/drawer_0": "the drawer of the right cabinet"}
    for a in answers:
        body = next(b for b, p in phrases.items() if p == a["label"])
        assert a["value"] == ("open" if body == first else "closed")
    np.testing.assert_allclose(ann["arrays"]["drawer_open"][:, list(phrases).index(first)], 0.8, atol=1e-5)
    env.close()
