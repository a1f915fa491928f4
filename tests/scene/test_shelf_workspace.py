"""The `shelf` workspace kind: the robot stands in front of a bookshelf, its arm mounted for the boards."""

import math

import mujoco
import numpy as np
import pytest

from simfarm.errors import SceneError
from simfarm.scene import SceneRequest, build_scene, sample_scene
from simfarm.scene.decor import VISUAL_ONLY_DECOR
from simfarm.scene.sampler import (
    SHELF_ARM_SWEEP_M,
    SHELF_MAX_DEPTH_M,
    SHELF_REACH_BANDS_M,
    SHELF_STANCE_M,
    shelf_boards,
    shelf_reach_boards,
)

PROGRAMS = ("kitchen", "living_room")
FAMILIES = ("ball", "block", "bottle", "can", "fruit", "mug")
REQUEST = SceneRequest(workspace="shelf", min_workspace_objects=2, workspace_families=FAMILIES)


def _local(piece, xy):
    c, s = math.cos(piece.yaw_rad), math.sin(piece.yaw_rad)
    dx, dy = xy[0] - piece.pos[0], xy[1] - piece.pos[1]
    return c * dx + s * dy, -s * dx + c * dy


def _mount(spec) -> float:
    return spec.robot.pos[2] + spec.robot.params["mount_height_m"]


@pytest.mark.parametrize("program", PROGRAMS)
def test_robot_faces_a_shelf_with_its_arm_mounted_for_the_boards(program):
    for seed in range(10):
        spec = sample_scene(program, np.random.default_rng(seed), robot="panda", request=REQUEST)
        shelf = spec.furniture_named(spec.workspace)
        assert shelf.kind == "shelf" and spec.workspace_kind == "shelf"
        # In front of the shelf's face, looking at it.
        x, y = _local(shelf, spec.robot.pos)
        assert x == pytest.approx(shelf.size[0] / 2 + SHELF_STANCE_M, abs=1e-3) and abs(y) < 1e-3
        facing = (math.cos(spec.robot.yaw_rad), math.sin(spec.robot.yaw_rad))
        to_shelf = np.subtract(shelf.pos[:2], spec.robot.pos[:2])
        assert np.dot(facing, to_shelf / np.linalg.norm(to_shelf)) > 0.999
        # At least one board in the arm's reach bands, and every reachable board inside one.
        reach = shelf_reach_boards(shelf, _mount(spec))
        assert reach and set(reach) <= set(shelf_boards(shelf))
        for k in reach:
            dz = shelf.surfaces[k].center[2] + 0.05 - _mount(spec)
            assert any(lo - 1e-6 <= dz <= hi + 1e-6 for lo, hi in SHELF_REACH_BANDS_M)


@pytest.mark.parametrize("program", PROGRAMS)
def test_workspace_objects_rest_on_reachable_boards_near_the_front(program):
    for seed in range(10):
        spec = sample_scene(program, np.random.default_rng(seed), robot="panda", request=REQUEST)
        shelf = spec.furniture_named(spec.workspace)
        reach = shelf_reach_boards(shelf, _mount(spec))
        on_reach = [o for o in spec.workspace_objects() if int(o.support.rsplit("_", 1)[1]) in reach
                    and o.family in FAMILIES and shelf.size[0] / 2 - _local(shelf, o.pos)[0] <= SHELF_MAX_DEPTH_M + 1e-6]
        # The first min_workspace_objects are the requested ones; the program's rules may add more anywhere.
        assert len(on_reach) >= 2
        for o in spec.workspace_objects():
            k = int(o.support.rsplit("_", 1)[1])
            assert o.pos[2] == pytest.approx(shelf.surfaces[k].center[2] + o.size[2] / 2, abs=1e-5)


def test_shelf_scenes_are_deterministic_and_vary_with_the_seed():
    a = sample_scene("living_room", np.random.default_rng(3), robot="panda", request=REQUEST)
    b = sample_scene("living_room", np.random.default_rng(3), robot="panda", request=REQUEST)
    assert a.to_json() == b.to_json()
    hashes = {sample_scene("living_room", np.random.default_rng(s), robot="panda", request=REQUEST).content_hash()
              for s in range(6)}
    assert len(hashes) == 6


@pytest.mark.parametrize("program", PROGRAMS)
def test_the_arm_at_home_touches_no_furniture_and_other_pieces_keep_off_its_sweep(program):
    for seed in range(4):
        spec = sample_scene(program, np.random.default_rng(seed), robot="panda", request=REQUEST)
        built = build_scene(spec)
        data = built.initial_state()
        mujoco.mj_collision(built.model, data)
        furniture = set(np.asarray(built.index.furniture_geom_ids, dtype=int).tolist())
        furniture |= set(np.asarray(built.index.wall_geom_ids, dtype=int).tolist())
        robot = {g for g in range(built.model.ngeom)
                 if (mujoco.mj_id2name(built.model, mujoco.mjtObj.mjOBJ_GEOM, g) or "").startswith("robot/")}
        for c in data.contact[:data.ncon]:
            pair = {int(c.geom1), int(c.geom2)}
            assert not (pair & robot and pair & furniture and c.dist < -1e-3), (seed, c.geom1, c.geom2)
        r = 0.15 + 0.03 + SHELF_ARM_SWEEP_M
        for piece in spec.furniture:
            if piece.name == spec.workspace or piece.kind in VISUAL_ONLY_DECOR:  # nothing collides with those
                continue
            quarter = int(round(piece.yaw_rad / (math.pi / 2))) % 2
            hx, hy = (piece.size[0] / 2, piece.size[1] / 2) if quarter == 0 else (piece.size[1] / 2, piece.size[0] / 2)
            dx = max(abs(spec.robot.pos[0] - piece.pos[0]) - hx, 0.0)
            dy = max(abs(spec.robot.pos[1] - piece.pos[1]) - hy, 0.0)
            assert max(dx, dy) >= r - 1e-6, (seed, piece.name)


def test_workspace_families_must_meet_the_programs_rules():
    with pytest.raises(SceneError, match="workspace_families"):
        sample_scene("kitchen", np.random.default_rng(0), robot="panda",
                     request=SceneRequest(workspace="shelf", min_workspace_objects=1, workspace_families=("hammer",)))


def test_a_program_without_a_shelf_workspace_says_so():
    with pytest.raises(SceneError, match="workspace.shelf"):
        sample_scene("workshop", np.random.default_rng(0), robot="panda", request=SceneRequest(workspace="shelf"))
