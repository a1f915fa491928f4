import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from simfarm.errors import SceneError
from simfarm.paths import procgen_dir
from simfarm.scene import SceneRequest, build_scene, model_digest, sample_scene
from simfarm.scene.decor import VISUAL_ONLY_DECOR
from simfarm.scene.furniture import handle_local_positions
from simfarm.scene.robot_info import robot_info

PROGRAMS = ("kitchen", "living_room", "workshop")


@pytest.mark.parametrize("program", PROGRAMS)
def test_same_seed_gives_identical_scene(program):
    a = sample_scene(program, np.random.default_rng(42))
    b = sample_scene(program, np.random.default_rng(42))
    assert a.to_json() == b.to_json()
    assert model_digest(build_scene(a).model) == model_digest(build_scene(b).model)


@pytest.mark.parametrize("program", PROGRAMS)
def test_different_seeds_give_different_scenes(program):
    hashes = {sample_scene(program, np.random.default_rng(s)).content_hash() for s in range(8)}
    assert len(hashes) == 8


_CHILD = """
import sys, numpy as np
from simfarm.scene import sample_scene, build_scene, model_digest, export_mjcf
spec = sample_scene(sys.argv[1], np.random.default_rng(int(sys.argv[2])))
built = build_scene(spec)
export_mjcf(built, sys.argv[3])
print(spec.content_hash(), model_digest(built.model))
"""


def test_same_seed_gives_identical_model_in_a_fresh_process(tmp_path):
    from simfarm.scene import export_mjcf

    out = subprocess.run([sys.executable, "-c", _CHILD, "workshop", "9", str(tmp_path / "child.xml")],
                         capture_output=True, text=True, check=True)
    child_hash, child_digest = out.stdout.split()
    spec = sample_scene("workshop", np.random.default_rng(9))
    built = build_scene(spec)
    export_mjcf(built, tmp_path / "parent.xml")
    assert child_hash == spec.content_hash()
    assert child_digest == model_digest(built.model)
    assert (tmp_path / "child.xml").read_bytes() == (tmp_path / "parent.xml").read_bytes()


def test_floorplans_have_one_to_four_rooms_connected_by_doorways():
    counts = set()
    for seed in range(30):
        spec = sample_scene("living_room", np.random.default_rng(seed))
        n = len(spec.rooms)
        counts.add(n)
        doorways = sum(len(w.openings) for w in spec.walls)
        assert doorways == n - 1  # a spanning tree: every room reachable
        assert {c.name for c in spec.cameras} >= {f"overview_{k}" for k in range(n)} | {"workspace"}
    assert min(counts) == 1 and max(counts) >= 3


def _world_xy(piece, local):
    c, s = math.cos(piece.yaw_rad), math.sin(piece.yaw_rad)
    return (piece.pos[0] + c * local[0] - s * local[1], piece.pos[1] + s * local[0] + c * local[1], local[2])


def test_furniture_footprints_do_not_overlap_and_stay_inside_rooms():
    for program in PROGRAMS:
        for seed in range(15):
            spec = sample_scene(program, np.random.default_rng(seed))
            rects = []
            for f in spec.furniture:
                if f.kind in VISUAL_ONLY_DECOR:
                    continue  # hangs above furniture or lies under it (test_rooms_new checks it)
                quarter = int(round(f.yaw_rad / (math.pi / 2))) % 2
                hx, hy = (f.size[0] / 2, f.size[1] / 2) if quarter == 0 else (f.size[1] / 2, f.size[0] / 2)
                r = (f.pos[0] - hx, f.pos[1] - hy, f.pos[0] + hx, f.pos[1] + hy)
                (x0, y0), _, (x1, y1), _ = spec.rooms[f.room].polygon
                assert r[0] >= x0 - 1e-9 and r[1] >= y0 - 1e-9 and r[2] <= x1 + 1e-9 and r[3] <= y1 + 1e-9, f.name
                for name, o in rects:
                    assert not (r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3]), (f.name, name)
                rects.append((f.name, r))


@pytest.mark.parametrize("robot", ["arm", "mobile_arm"])
def test_workspace_objects_are_within_reach_and_robot_faces_workspace(robot):
    info = robot_info(robot)
    for seed in range(10):
        spec = sample_scene("kitchen", np.random.default_rng(seed), robot=robot,
                            request=SceneRequest(workspace="surface", min_workspace_objects=3, need_receptacle=True))
        objs = spec.workspace_objects()
        assert len(objs) >= 3
        assert any(o.receptacle for o in objs)
        mount = spec.robot.params["mount_height_m"]
        ws = spec.furniture_named(spec.workspace)
        top = ws.surfaces[0].center[2]
        if robot == "arm":
            assert top - 0.1 - 1e-9 <= mount <= top + 1e-9  # base 0-10 cm below the surface top
        shoulder = np.array([spec.robot.pos[0], spec.robot.pos[1], mount])
        for o in objs:
            assert np.linalg.norm(np.array(o.pos) - shoulder) <= info.reach_m
        heading = np.array([math.cos(spec.robot.yaw_rad), math.sin(spec.robot.yaw_rad)])
        to_ws = np.array(ws.pos[:2]) - np.array(spec.robot.pos[:2])
        assert heading @ to_ws / np.linalg.norm(to_ws) > 0.99


def test_drawer_workspace_puts_handles_in_reach_facing_the_robot():
    info = robot_info("arm")
    for seed in range(8):
        spec = sample_scene("kitchen", np.random.default_rng(seed), request=SceneRequest(workspace="drawer"))
        cab = spec.furniture_named(spec.workspace)
        assert cab.kind == "cabinet" and spec.workspace_kind == "drawer"
        assert cab.params["drawers"] >= 1
        front = np.array([math.cos(cab.yaw_rad), math.sin(cab.yaw_rad)])
        to_robot = np.array(spec.robot.pos[:2]) - np.array(cab.pos[:2])
        assert front @ to_robot / np.linalg.norm(to_robot) > 0.99
        shoulder = np.array([spec.robot.pos[0], spec.robot.pos[1], spec.robot.params["mount_height_m"]])
        for key, local in handle_local_positions(cab).items():
            if key.startswith("drawer_"):
                assert np.linalg.norm(np.array(_world_xy(cab, local)) - shoulder) <= info.reach_m


def test_trolley_workspace_has_free_floor_around_it_and_the_base_nearby():
    for seed in range(8):
        spec = sample_scene("workshop", np.random.default_rng(seed), robot="mobile_base",
                            request=SceneRequest(workspace="trolley"))
        trolley = spec.furniture_named(spec.workspace)
        assert trolley.kind == "trolley"
        half = max(trolley.size[:2]) / 2
        for f in spec.furniture:
            if f is trolley or f.kind in VISUAL_ONLY_DECOR:  # nothing collides with those
                continue
            gap = max(abs(f.pos[0] - trolley.pos[0]) - max(f.size[:2]) / 2, abs(f.pos[1] - trolley.pos[1]) - max(f.size[:2]) / 2)
            assert gap - half >= 1.5 - 0.2, f.name  # bounding squares: conservative check
        (x0, y0), _, (x1, y1), _ = spec.rooms[trolley.room].polygon
        assert min(trolley.pos[0] - x0, x1 - trolley.pos[0], trolley.pos[1] - y0, y1 - trolley.pos[1]) >= 1.5 + min(trolley.size[:2]) / 2
        assert math.dist(spec.robot.pos[:2], trolley.pos[:2]) < 1.2


def test_impossible_object_count_raises_scene_error_naming_the_constraint():
    with pytest.raises(SceneError, match="min_workspace_objects: 200 objects on workspace"):
        sample_scene("kitchen", np.random.default_rng(0), request=SceneRequest(min_workspace_objects=200))


def test_room_smaller_than_its_furniture_raises_scene_error(tmp_path):
    data = yaml.safe_load((procgen_dir() / "rooms" / "workshop.yaml").read_text())
    data["rooms"] = {"count": [1, 1], "width_m": [1.2, 1.3], "depth_m": [1.2, 1.3], "wall_height_m": [2.8, 2.9]}
    path = Path(tmp_path) / "closet.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SceneError, match="unmet constraint: workspace 'workbench'.*fits in the main room"):
        sample_scene(path, np.random.default_rng(0))


def test_request_no_program_offers_raises_scene_error(tmp_path):
    data = yaml.safe_load((procgen_dir() / "rooms" / "kitchen.yaml").read_text())
    del data["workspace"]["trolley"]
    path = Path(tmp_path) / "no_trolley.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SceneError, match=r"offers no furniture for workspace='trolley'"):
        sample_scene(path, np.random.default_rng(0), request=SceneRequest(workspace="trolley"))


def test_bad_request_values_are_rejected():
    with pytest.raises(SceneError, match="SceneRequest.workspace: got 'sink'"):
        SceneRequest(workspace="sink")


def test_sampler_uses_only_the_given_generator():
    state = np.random.get_state()
    np.random.seed(123)
    a = sample_scene("kitchen", np.random.default_rng(1)).to_json()
    np.random.seed(456)
    b = sample_scene("kitchen", np.random.default_rng(1)).to_json()
    np.random.set_state(state)
    assert a == b


def _menagerie_like_root(tmp_path, monkeypatch):
    """A local Menagerie root with a Panda-like MJCF (borrowed from the robots tests)."""
    import importlib.util

    robots_tests = Path(__file__).resolve().parent.parent / "robots"
    monkeypatch.syspath_prepend(str(robots_tests))  # its module imports robot_helpers
    path = robots_tests / "test_registry_and_menagerie.py"
    module_spec = importlib.util.spec_from_file_location("_robots_menagerie_tests", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    (tmp_path / "franka_emika_panda").mkdir()
    (tmp_path / "franka_emika_panda" / "panda.xml").write_text(module._panda_like_mjcf())
    monkeypatch.setenv("MENAGERIE_ROOT", str(tmp_path))


def test_arm_without_adjustable_mount_stands_on_a_scene_pedestal(tmp_path, monkeypatch):
    import mujoco

    _menagerie_like_root(tmp_path, monkeypatch)
    spec = sample_scene("kitchen", np.random.default_rng(2), robot="menagerie:franka_emika_panda")
    top = spec.furniture_named(spec.workspace).surfaces[0].center[2]
    assert top - 0.1 - 1e-9 <= spec.robot.pos[2] <= top + 1e-9
    built = build_scene(spec)
    pedestal = mujoco.mj_name2id(built.model, mujoco.mjtObj.mjOBJ_GEOM, "robot/pedestal")
    assert pedestal >= 0
    assert built.model.geom_size[pedestal][1] * 2 == pytest.approx(spec.robot.pos[2])
    data = built.initial_state()
    base = built.model.body("robot/base").id
    assert data.xpos[base][2] == pytest.approx(spec.robot.pos[2])
