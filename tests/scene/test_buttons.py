"""Push buttons: a fixture room programs put on tops, without changing any other draw of a scene."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import yaml

from simfarm.errors import ConfigError
from simfarm.paths import procgen_dir
from simfarm.scene import SceneSpec, build_scene, load_program, sample_scene
from simfarm.scene.furniture import (
    BUTTON_EDGE_M,
    BUTTON_RIM_M,
    BUTTON_SPACING_M,
    PRESS_FRACTION,
    button_footprint_radius,
)


def _program_without_fixtures(tmp_path, name="kitchen"):
    data = yaml.safe_load((procgen_dir() / "rooms" / f"{name}.yaml").read_text())
    data.pop("fixtures")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _buttons(spec):
    return [(f, b) for f in spec.furniture for b in f.params.get("buttons") or ()]


def _strip(spec_json: str) -> dict:
    import json

    data = json.loads(spec_json)
    for f in data["furniture"]:
        f["params"].pop("buttons", None)
    return data


@pytest.mark.parametrize("program", ["kitchen", "workshop"])
def test_buttons_leave_every_other_draw_of_the_scene_unchanged(tmp_path, program):
    plain = _program_without_fixtures(tmp_path, program)
    with_buttons = same_layout = 0
    for seed in range(12):
        spec = sample_scene(program, np.random.default_rng(seed))
        before = sample_scene(plain, np.random.default_rng(seed))
        if not _buttons(spec):
            assert spec.to_json() == before.to_json(), seed  # byte-identical
            continue
        with_buttons += 1
        a, b = _strip(spec.to_json()), _strip(before.to_json())
        # The buttons come from a forked stream: the same rooms and furniture; only objects (and the
        # draws after them) move where a button took an object's spot, or the whole scene when an
        # attempt could not place its workspace objects and the sampler drew again.
        changed = {k for k in a if a[k] != b[k]}
        assert changed <= {"objects", "lights"} or "rooms" in changed or "furniture" in changed, (seed, changed)
        same_layout += "furniture" not in changed
    assert with_buttons >= 4 and same_layout >= with_buttons - 1


def test_a_program_without_the_fixtures_key_has_no_buttons():
    for seed in range(6):
        spec = sample_scene("living_room", np.random.default_rng(seed))
        assert not _buttons(spec)
    assert load_program("living_room").fixtures == {}
    assert load_program("kitchen").fixtures == {"buttons": (0, 2)}


def test_buttons_sit_on_the_top_apart_from_each_other_and_from_the_objects():
    seen = set()
    for seed in range(15):
        spec = sample_scene("kitchen", np.random.default_rng(seed))
        for f in spec.furniture:
            buttons = f.params.get("buttons") or []
            assert f.kind in ("counter", "table", "workbench") or not buttons
            assert len(buttons) <= 2
            d, w, _ = f.size
            for b in buttons:
                seen.add((b["color"], b["shape"]))
                assert 0.03 <= b["diameter_m"] <= 0.04 and 0.004 <= b["travel_m"] <= 0.006
                half = b["diameter_m"] / 2 + BUTTON_RIM_M
                assert abs(b["pos"][0]) <= d / 2 - BUTTON_EDGE_M - half + 1e-9
                assert abs(b["pos"][1]) <= w / 2 - BUTTON_EDGE_M - half + 1e-9
            for i in range(len(buttons)):
                for j in range(i):
                    assert math.dist(buttons[i]["pos"], buttons[j]["pos"]) >= BUTTON_SPACING_M
            c, s = math.cos(f.yaw_rad), math.sin(f.yaw_rad)
            for b in buttons:
                bx = f.pos[0] + c * b["pos"][0] - s * b["pos"][1]
                by = f.pos[1] + s * b["pos"][0] + c * b["pos"][1]
                for o in spec.objects:
                    if o.support.startswith(f"furn/{f.name}/"):
                        gap = math.hypot(o.pos[0] - bx, o.pos[1] - by) - math.hypot(o.size[0], o.size[1]) / 2
                        assert gap >= button_footprint_radius(b), (seed, o.name)
    assert {c for c, _ in seen} <= {"red", "green", "blue", "yellow"} and len(seen) >= 4


def _scene_with_buttons(seed0=0):
    for seed in range(seed0, seed0 + 20):
        spec = sample_scene("kitchen", np.random.default_rng(seed))
        if _buttons(spec):
            return spec
    raise AssertionError("no kitchen scene with buttons in 20 seeds")


def test_scene_index_exposes_each_button_and_the_spec_round_trips():
    spec = _scene_with_buttons()
    assert SceneSpec.from_json(spec.to_json()) == spec
    built = build_scene(spec)
    model, index = built.model, built.index
    assert len(index.buttons) == len(_buttons(spec))
    data = built.initial_state()
    for name, ids in index.buttons.items():
        assert name.startswith("fixture/") and ids.furniture in name
        assert mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, ids.joint_id) == f"{name}/press"
        assert mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_SITE, ids.top_site_id) == f"{name}/top"
        assert model.jnt_qposadr[ids.joint_id] == ids.qpos_adr
        assert ids.range == (0.0, pytest.approx(ids.spec["travel_m"]))
        assert ids.press_depth_m == pytest.approx(PRESS_FRACTION * ids.spec["travel_m"])
        # The cap's top stands above the furniture's top by the housing, the travel and the cap.
        top = next(f for f in spec.furniture if f.name == ids.furniture).size[2]
        assert top + 0.02 < data.site_xpos[ids.top_site_id][2] < top + 0.04
        # Not furniture (keeps its colour under furniture randomization, touching it is no collision).
        assert not set(np.flatnonzero(model.geom_bodyid == ids.body_id)) & set(index.furniture_geom_ids.tolist())


def test_a_button_registers_a_firm_push_and_pops_back():
    built = build_scene(_scene_with_buttons())
    model = built.model
    data = built.initial_state()
    ids = next(iter(built.index.buttons.values()))
    for _ in range(200):
        mujoco.mj_step(model, data)
    assert abs(data.qpos[ids.qpos_adr]) < 1e-4  # at rest at the top of its travel, no sag

    def push(force_n: float) -> float:
        mujoco.mj_resetData(model, data)
        deepest = 0.0
        for _ in range(300):
            data.xfrc_applied[ids.body_id] = [0, 0, -force_n, 0, 0, 0]
            mujoco.mj_step(model, data)
            deepest = max(deepest, float(data.qpos[ids.qpos_adr]))
        data.xfrc_applied[ids.body_id] = 0
        for _ in range(100):  # 0.2 s
            mujoco.mj_step(model, data)
        assert abs(data.qpos[ids.qpos_adr]) < 2e-4  # popped back
        return deepest

    # A cap held still under a finger must not fall asleep (it would stay pressed in when let go).
    assert model.tree_sleep_policy[model.body_treeid[ids.body_id]] == mujoco.mjtSleepPolicy.mjSLEEP_NEVER
    assert push(0.5) < ids.press_depth_m  # a light touch does not register
    assert push(4.0) >= ids.press_depth_m
    assert push(30.0) < ids.range[1] + 0.002  # the stop and the housing hold a hard push


def test_button_colours_are_not_furniture_for_randomization():
    from simfarm.randomization.base import ModelGroups

    built = build_scene(_scene_with_buttons())
    groups = ModelGroups.resolve(built.model)
    button_geoms = {g for ids in built.index.buttons.values() for g in np.flatnonzero(built.model.geom_bodyid == ids.body_id)}
    assert not button_geoms & set(groups.furniture_geoms.ids.tolist())
    button_dofs = {ids.dof_adr for ids in built.index.buttons.values()}
    assert not button_dofs & set(groups.furniture_dofs.ids.tolist())


def test_malformed_fixtures_are_refused_with_the_file_and_key(tmp_path):
    data = yaml.safe_load((procgen_dir() / "rooms" / "kitchen.yaml").read_text())
    for bad, pattern in (({"buttons": [2, 1]}, r"fixtures\.buttons: expected \[min, max\] integers"),
                         ({"levers": [0, 1]}, r"fixtures\.levers: unknown key; accepted: buttons")):
        data["fixtures"] = bad
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(ConfigError, match=pattern):
            load_program(path)
