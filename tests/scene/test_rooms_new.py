"""The bedroom, office, bathroom and warehouse programs: placement guarantees, rooms, furniture,
decor, workspaces and an env in each."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest

import simfarm  # noqa: F401  (registers the envs)
from simfarm.scene import SceneRequest, build_scene, load_program, sample_scene
from simfarm.scene.furniture import VISUAL

from .test_physics import _contact_report

NEW_PROGRAMS = ("bedroom", "office", "bathroom", "warehouse")
N_SEEDS = 50
REQUIRED = {"bedroom": {"bed", "nightstand"}, "office": {"desk", "cabinet", "shelf", "chair"},
            "bathroom": {"vanity", "toilet"}, "warehouse": {"shelf", "rack"}}
DECOR_KINDS = {"rug", "bath_mat", "wall_art", "mirror", "lamp", "monitor", "plant"}


@pytest.mark.parametrize("program", NEW_PROGRAMS)
def test_new_programs_keep_the_placement_guarantees(program):
    """20 seeds: rooms within range, required furniture, nothing penetrates > 1 mm, the robot touches
    nothing, and objects stay within 1 cm over 0.5 s with the robot holding home."""
    prog = load_program(program)
    decor_seen = set()
    for seed in range(N_SEEDS):
        spec = sample_scene(program, np.random.default_rng(seed))
        assert prog.room_count[0] <= len(spec.rooms) <= prog.room_count[1]
        kinds = {f.kind for f in spec.furniture}
        assert REQUIRED[program] <= kinds, f"{program} seed {seed}: {kinds}"
        assert spec.furniture_named(spec.workspace).kind in prog.workspace["surface"]
        decor_seen |= kinds & DECOR_KINDS
        built = build_scene(spec)
        model, data = built.model, built.initial_state()
        worst, robot_hits = _contact_report(built, data)
        assert worst >= -1e-3, f"{program} seed {seed}: penetration {worst:.4f} m"
        assert not robot_hits, f"{program} seed {seed}: robot at home touches {robot_hits}"
        start = {k: data.xpos[o.body_id].copy() for k, o in built.index.objects.items()}
        ctrl = data.ctrl.copy()
        for _ in range(500):
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data)
        for name, o in built.index.objects.items():
            moved = np.linalg.norm(data.xpos[o.body_id] - start[name])
            assert moved < 0.01, f"{program} seed {seed}: {name} moved {moved:.4f} m"
    assert decor_seen, f"{program}: no decor in {N_SEEDS} seeds"


def _geoms_of(model, prefix):
    return [g for g in range(model.ngeom)
            if (mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, model.geom_bodyid[g]) or "").startswith(prefix)]


def test_floor_and_wall_decor_is_visual_only_and_inside_its_room():
    found = set()
    for seed in range(10):
        spec = sample_scene("bedroom", np.random.default_rng(seed))
        built = build_scene(spec)
        for f in spec.furniture:
            if f.placement not in ("floor", "hung"):
                continue
            found.add(f.placement)
            geoms = _geoms_of(built.model, f"furn/{f.name}")
            assert geoms and all(built.model.geom_contype[g] == VISUAL["contype"] == 0 and built.model.geom_conaffinity[g] == 0
                                 for g in geoms)
            (x0, y0), _, (x1, y1), _ = spec.rooms[f.room].polygon
            assert x0 - 1e-6 <= f.pos[0] <= x1 + 1e-6 and y0 - 1e-6 <= f.pos[1] <= y1 + 1e-6
            if f.placement == "hung":
                assert 1.0 < f.pos[2] and f.pos[2] + f.size[2] < spec.rooms[f.room].wall_height_m
    assert found == {"floor", "hung"}


def test_surface_decor_rests_on_a_top_clear_of_objects_and_never_on_the_workspace():
    n = 0
    for seed in range(10):
        spec = sample_scene("office", np.random.default_rng(seed))
        tops = {f.name: f for f in spec.furniture if f.surfaces}
        for f in spec.furniture:
            if f.placement != "on":
                continue
            n += 1
            support = min(tops.values(), key=lambda t: np.hypot(t.pos[0] - f.pos[0], t.pos[1] - f.pos[1]))
            assert support.name != spec.workspace
            assert any(abs(support.pos[2] + s.center[2] - f.pos[2]) < 1e-6 for s in support.surfaces)
            for o in spec.objects:
                if o.support.startswith(f"furn/{support.name}/") and abs(o.pos[2] - o.size[2] / 2 - f.pos[2]) < 1e-6:
                    gap = np.hypot(o.pos[0] - f.pos[0], o.pos[1] - f.pos[1])
                    assert gap > np.hypot(*o.size[:2]) / 2 + max(f.size[:2]) / 2 - 1e-6
    assert n > 0


@pytest.mark.parametrize("program, workspace, robot", [
    ("office", "drawer", "arm"), ("bedroom", "shelf", "arm"), ("warehouse", "shelf", "arm"),
    ("warehouse", "trolley", "mobile_base"), ("office", "surface", "mobile_arm")])
def test_other_workspaces_start_collision_free(program, workspace, robot):
    for seed in range(4):
        spec = sample_scene(program, np.random.default_rng(seed), robot=robot, request=SceneRequest(workspace=workspace))
        assert spec.workspace_kind == workspace
        worst, robot_hits = _contact_report(build_scene(spec), build_scene(spec).initial_state())
        assert worst >= -1e-3 and not robot_hits, f"{program} seed {seed}: {worst}, {robot_hits}"


@pytest.mark.parametrize("program", NEW_PROGRAMS)
def test_pick_place_env_resets_and_steps_in_each_new_program(program):
    env = gym.make("simfarm/PickPlace-v0", scene=program, obs_mode="state")
    obs, info = env.reset(seed=0)
    assert info["instruction"]
    for _ in range(3):
        obs, reward, term, trunc, info = env.step(env.action_space.sample() * 0)
    assert np.all(np.isfinite(obs["state"] if isinstance(obs, dict) else obs))
    env.close()
