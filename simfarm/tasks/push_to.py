"""push_to: push an object along the surface until it is next to another one ("push the red can
next to the white bowl").

Also the pushing pieces the slide task shares: `pushable`, `extent_along`, `pushing_pose` and
`LinePushExpert` (come over clear of the things on the way, lower the closed fingers behind the
object, push it along the object→target line while re-aiming, and go round again when it slips
off the fingers).
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    Waypoint,
    WaypointExpert,
    gripper_yaw,
    top_down_rotation,
    wrap_yaw_for_gripper,
)
from simfarm.tasks.lift import (
    fingertip_depth,
    held,
    in_reach,
    obstacle_top,
    robot_geom_mask,
)
from simfarm.tasks.pick_place import object_body, workspace_objects
from simfarm.tasks.push import (
    MAX_PUSH_HEIGHT_M,
    MAX_PUSH_STEP_M,
    PUSHABLE_FAMILIES_EXCLUDED,
    _blocked,
    _inside,
    _is_sphere,
    surface_of,
)
from simfarm.tasks.refer import footprint_radius, refer_to, unambiguous

# Next to: edges at most this far apart (a hand's width), the object beside the anchor, not on it.
NEXT_TO_MAX_GAP_M = 0.06
TOUCH_TOLERANCE_M = 0.005  # resting contact interpenetrates a little
# The expert aims the object's edge this far from the anchor's.
AIM_GAP_M = 0.03
# A push is at least this long (shorter, and the object is next to its anchor already).
MIN_PUSH_M = 0.08
# Still on its surface: its centre within this of the height it rested at.
ON_SURFACE_TOLERANCE_M = 0.01
UPRIGHT_COS = 0.9  # and standing as it stood (within ~25 degrees)


def pushable(scene: TaskScene, obj) -> bool:
    """Slides when pushed low (no balls, fruit or bottles), not too tall, within reach."""
    return bool(obj.family not in PUSHABLE_FAMILIES_EXCLUDED and not obj.receptacle and not _is_sphere(obj)
                and obj.size[2] <= MAX_PUSH_HEIGHT_M and in_reach(scene, obj.pos))


def extent_along(model: mujoco.MjModel, data: mujoco.MjData, body: int, d) -> float:
    """How far the object's geoms (as they lie now) reach from its centre along the horizontal
    direction `d`: its edge facing that way (a round can's radius, not its bounding box corner)."""
    d3 = np.array([d[0], d[1], 0.0], dtype=float)
    centre = data.xpos[body]
    reach = 0.0
    for g in np.flatnonzero(model.geom_bodyid == body):
        R = data.geom_xmat[g].reshape(3, 3)
        size = model.geom_size[g]
        kind = model.geom_type[g]
        if kind == mujoco.mjtGeom.mjGEOM_BOX:
            support = float(np.abs(R.T @ d3) @ size)
        elif kind in (mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_CAPSULE):
            along = abs(float(R[:, 2] @ d3))
            support = size[0] * np.sqrt(max(0.0, 1 - along**2)) + size[1] * along
            support += size[0] * along if kind == mujoco.mjtGeom.mjGEOM_CAPSULE else 0.0
        else:
            support = float(size[0])
        reach = max(reach, float((data.geom_xpos[g] - centre) @ d3) + support)
    return reach


def spec_extent(obj, d) -> float:
    """`extent_along` from the SceneSpec alone (its primitive parts at its spec pose)."""
    from simfarm.scene.objects import object_parts
    from simfarm.tasks.expert import quat_to_mat

    R = quat_to_mat(np.asarray(obj.quat, dtype=float))
    local = R.T @ np.array([d[0], d[1], 0.0], dtype=float)
    reach = 0.0
    for part in object_parts(obj):
        Rp = quat_to_mat(np.asarray(part.quat, dtype=float))
        size = np.asarray(part.size, dtype=float)
        if part.type == int(mujoco.mjtGeom.mjGEOM_BOX):
            support = float(np.abs(Rp.T @ local) @ size)
        elif part.type in (int(mujoco.mjtGeom.mjGEOM_CYLINDER), int(mujoco.mjtGeom.mjGEOM_CAPSULE)):
            along = abs(float(Rp[:, 2] @ local))
            support = size[0] * np.sqrt(max(0.0, 1 - along**2)) + size[1] * along
        else:
            support = float(size[0])
        reach = max(reach, float(np.asarray(part.pos) @ local) + support)
    return reach


def spec_gap(a, b) -> float:
    """A lower bound on the distance between two objects' footprints from the SceneSpec: the
    largest gap of their projections on the line of centres and on their own axes."""
    from simfarm.tasks.expert import quat_to_mat

    offset = np.asarray(a.pos[:2], dtype=float) - np.asarray(b.pos[:2], dtype=float)
    axes = [offset / max(float(np.linalg.norm(offset)), 1e-9)]
    for o in (a, b):
        R = quat_to_mat(np.asarray(o.quat, dtype=float))
        axes += [R[:2, 0], R[:2, 1]]
    best = -np.inf
    for axis in axes:
        side = 1.0 if float(offset @ axis) >= 0 else -1.0
        d = side * axis
        best = max(best, float(offset @ d) - spec_extent(a, -d) - spec_extent(b, d))
    return best


def closest_points(model: mujoco.MjModel, data: mujoco.MjData, body_a: int, body_b: int,
                   distmax: float = 0.3) -> tuple[float, np.ndarray]:
    """(the smallest distance between the geoms of two bodies now, negative when they
    interpenetrate; the segment from a's closest point to b's, as 6 numbers)."""
    best, segment = distmax, np.zeros(6)
    fromto = np.zeros(6)
    for a in np.flatnonzero(model.geom_bodyid == body_a):
        for b in np.flatnonzero(model.geom_bodyid == body_b):
            dist = mujoco.mj_geomDistance(model, data, int(a), int(b), distmax, fromto)
            if dist < best:
                best, segment = dist, fromto.copy()
    return float(best), segment


def edge_gap(model: mujoco.MjModel, data: mujoco.MjData, body_a: int, body_b: int, distmax: float = 0.3) -> float:
    """The smallest distance between the geoms of two bodies now (negative: they interpenetrate)."""
    return closest_points(model, data, body_a, body_b, distmax)[0]


# Tilts tried (smallest first) for leaning the hand back about the finger axis while pushing.
# Held straight down, the palm (4.7 cm above the Panda's TCP, 2.5 cm ahead of it) and the wrist
# (6.8 cm above, 6.4 cm ahead) reach a tall can before the finger tips, high up, and topple it
# (with friction 1 a push tips a can once it lands higher than its radius above the surface).
PUSH_TILTS_RAD = tuple(np.deg2rad(a) for a in (0.0, 15.0, 25.0, 35.0, 45.0))
_CORNERS = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], dtype=float)


def pushing_rotation(u: np.ndarray, current_R: np.ndarray, tilt_rad: float = 0.0) -> np.ndarray:
    """world_R_tcp for pushing along horizontal `u`: fingers across the line (both push), the
    approach axis leaning `tilt_rad` forward from straight down (the hand trails its tips)."""
    yaw = wrap_yaw_for_gripper(float(np.arctan2(u[1], u[0])) + np.pi / 2, gripper_yaw(current_R))
    y = top_down_rotation(yaw)[:, 1]
    z = np.array([np.sin(tilt_rad) * u[0], np.sin(tilt_rad) * u[1], -np.cos(tilt_rad)])
    return np.column_stack([np.cross(y, z), y, z])


def _hand_corners(env) -> list[tuple[bool, np.ndarray]]:
    """(is a finger, corners in the TCP frame) of the robot's geoms near the hand, each as its box."""
    model, data, handle = env.model, env.data, env.handle
    tcp = data.site_xpos[handle.tcp_site_id]
    R_now = data.site_xmat[handle.tcp_site_id].reshape(3, 3)
    out = []
    for g in np.asarray(handle.geom_ids, dtype=int):
        kind = model.geom_type[g]
        size = model.geom_size[g]
        if kind == mujoco.mjtGeom.mjGEOM_BOX:
            half = size
        elif kind in (mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_CAPSULE):
            half = np.array([size[0], size[0], size[1] + (size[0] if kind == mujoco.mjtGeom.mjGEOM_CAPSULE else 0.0)])
        elif kind == mujoco.mjtGeom.mjGEOM_SPHERE:
            half = np.full(3, size[0])
        else:
            continue
        gR = data.geom_xmat[g].reshape(3, 3)
        local = (R_now.T @ ((data.geom_xpos[g] + (_CORNERS * half) @ gR.T) - tcp).T).T
        if np.min(np.linalg.norm(local, axis=1)) > 0.35:
            continue
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, int(g)) or ""
        out.append(("finger" in name, local))
    return out


def pushing_pose(env, u: np.ndarray, obj, surface_z: float, top_z: float) -> tuple[np.ndarray, float, float]:
    """(world_R_tcp, how far the fingers' face is ahead of the TCP along `u`, the TCP height):
    the least tilt at which, below the object's top, the finger tips lead every other part of
    the arm; at that tilt the lowest finger corner a little above the surface (friction would
    pin it) and low on the object (a push high on a tall thing topples it; a book is 2 cm)."""
    _, current_R = env.handle.ee_pose(env.data)
    parts = _hand_corners(env)
    u3 = np.array([u[0], u[1], 0.0])
    # A thin book: tips 6 mm up; a 3 cm one: 9 mm (the finger link's lower end stays clear of
    # its top edge, which it would ride up onto).
    above = float(np.clip(0.3 * obj.size[2], 0.006, 0.02))
    best = None
    for tilt in PUSH_TILTS_RAD:
        R = pushing_rotation(u, current_R, tilt)
        worlds = [(is_finger, local @ R.T) for is_finger, local in parts]
        depth = max((-float(np.min(w[:, 2])) for f, w in worlds if f), default=0.016)
        push_z = surface_z + depth + above
        finger, other = 0.0, -np.inf
        for is_finger, world in worlds:
            low = world[push_z + world[:, 2] < top_z + 0.005]
            if not len(low):
                continue
            lead = float(np.max(low @ u3))
            if is_finger:
                finger = max(finger, lead)
            else:
                other = max(other, lead)
        best = (R, finger if finger > 0 else 0.012, push_z)
        if finger >= other + 0.005:
            break
    return best


# The hand spans 10 cm each side of the TCP along the finger axis, and leans back ~10 cm.
HAND_HALF_SPAN_M = 0.10
# Things taller than this above the surface reach the palm of a hand pushing low.
PALM_HEIGHT_M = 0.065


def hand_fits(scene: TaskScene, surface, xy, u) -> bool:
    """Whether the pushing hand at `xy` (pushing along `u`) stays short of the surface's far edge
    as the robot sees it: wall-backed counters and workbenches have a wall there."""
    from simfarm.tasks.refer import Frame

    frame = Frame(scene.spec.robot)
    c, s = np.cos(surface.yaw_rad), np.sin(surface.yaw_rad)
    hx, hy = surface.half_extents[:2]
    center = np.asarray(surface.center_world[:2], dtype=float)
    corners = [center + np.array([c * a * hx - s * b * hy, s * a * hx + c * b * hy]) for a in (-1, 1) for b in (-1, 1)]
    far = max(float(frame.local(p)[0]) for p in corners)
    u = np.asarray(u, dtype=float)
    n = np.array([-u[1], u[0]])
    xy = np.asarray(xy, dtype=float)
    points = (xy + n * HAND_HALF_SPAN_M, xy - n * HAND_HALF_SPAN_M, xy - u * HAND_HALF_SPAN_M)
    return all(float(frame.local(p)[0]) <= far - 0.01 for p in points)


def palm_clear(objects, start, end, surface_z: float) -> bool:
    """Whether the palm, spanning HAND_HALF_SPAN_M each side of the push line from the pusher's
    `start` to its `end`, passes clear of every object tall enough to reach it."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    seg = end - start
    length = float(np.linalg.norm(seg))
    u = seg / max(length, 1e-9)
    n = np.array([-u[1], u[0]])
    for o in objects:
        if o.pos[2] + o.size[2] / 2 < surface_z + PALM_HEIGHT_M:
            continue
        rel = np.asarray(o.pos[:2]) - start
        r = footprint_radius(o) + 0.02
        if -r < float(rel @ u) < length + r and abs(float(rel @ n)) < HAND_HALF_SPAN_M + r:
            return False
    return True


def path_in_reach(scene: TaskScene, start, end, near_margin_m: float = 0.1) -> bool:
    """Whether the whole push line keeps `near_margin_m` beyond the arm's minimum reach (a slide
    across in front of the robot passes close to its base, where it cannot reach down)."""
    base = np.asarray(scene.spec.robot.pos[:2], dtype=float)
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    seg = end - start
    t = np.clip(float((base - start) @ seg) / max(float(seg @ seg), 1e-9), 0.0, 1.0)
    near = getattr(scene.robot_model, "min_reach_m", 0.25) + near_margin_m
    return bool(np.linalg.norm(start + t * seg - base) > near)


def free_spot(objects, xy, radius_m: float, skip=()) -> bool:
    """Whether a disc of `radius_m` at `xy` keeps 2 cm from every object's footprint."""
    return all(np.hypot(*(np.asarray(xy) - np.asarray(o.pos[:2]))) > radius_m + footprint_radius(o) + 0.02
               for o in objects if o.name not in skip)


class LinePushExpert(WaypointExpert):
    """Push `task.obj` (body `task.obj_body`) to `task.target` (world xyz, z the surface top).

    Over the object's far side from the target at a clear height, down to push height, then
    along the object→target line, aiming the fingers just past the object's near edge, at most
    1.5 cm a step. When the object has slipped off the line (the fingers beside it, not behind),
    up, round and down behind it again (at most `max_replans` times)."""

    max_replans = 3

    def reset(self, instruction: str, seed: int) -> None:
        self.replans = 0
        super().reset(instruction, seed)

    def plan(self, env) -> list[Waypoint]:
        self.last_u = None
        self.last_obj_xy = None
        self.push_bias = 0.0
        task = env.task
        data = env.data
        obj_xy = data.xpos[task.obj_body][:2].copy()
        u = self.target_xy(env) - obj_xy
        u /= max(np.linalg.norm(u), 1e-9)
        top = float(data.xpos[task.obj_body][2] + task.obj.size[2] / 2)
        self.R, self.lead, self.push_z = pushing_pose(env, u, task.obj, float(task.target[2]), top)
        behind = obj_xy - u * (extent_along(env.model, data, task.obj_body, -u) + self.lead + 0.04)
        tcp, _ = env.handle.ee_pose(data)
        clear = max(top + 0.08, obstacle_top(env, tcp[:2], behind) + fingertip_depth(env) + 0.04)
        self.push_stage = 3
        return [
            Waypoint(np.array([*behind, clear]), self.R, GRIPPER_CLOSED, tol_m=0.015),
            Waypoint(np.array([*behind, self.push_z + 0.03]), self.R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.03),
            # The last 3 cm slowly: an overshoot drags the finger tips on the surface.
            Waypoint(np.array([*behind, self.push_z]), self.R, GRIPPER_CLOSED, tol_m=0.005, max_step_m=0.01, max_steps=12),
            Waypoint(np.array([*task.target[:2], self.push_z]), self.R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10_000),
        ]

    def target_xy(self, env) -> np.ndarray:
        """Where the object's centre must go: the task's `push_target(data)` when it has one
        (a goal that moves with the things it is named by), else its fixed `target`."""
        task = env.task
        live = getattr(task, "push_target", None)
        return np.asarray(live(env.data) if live is not None else task.target[:2], dtype=float)[:2]

    def update_waypoint(self, env, index, waypoint):
        if index != self.push_stage:
            return waypoint
        task = env.task
        data = env.data
        obj_xy = data.xpos[task.obj_body][:2]
        to_target = self.target_xy(env) - obj_xy
        dist = float(np.linalg.norm(to_target))
        tcp3 = data.site_xpos[env.handle.tcp_site_id]
        # In the goal region already, or pushed past the target (going round to push it back
        # would drive the hand over a table's edge): back off a centimetre and let it settle.
        reached = getattr(task, "goal_reached", None)
        overshot = self.last_u is not None and float(to_target @ self.last_u) < -0.005
        if self.last_u is not None and ((reached is not None and reached(data)) or overshot):
            back = tcp3[:2] - self.last_u * 0.01
            return Waypoint(np.array([*back, self.push_z]), self.R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10_000,
                            max_step_m=MAX_PUSH_STEP_M)
        # Near the target the direction is noise: keep the last one, and how far is left along it.
        if dist > 0.02 or self.last_u is None:
            u = to_target / max(dist, 1e-6)
            self.last_u = u
        else:
            u = self.last_u
            dist = float(to_target @ u)
        ext = extent_along(env.model, data, task.obj_body, -u)
        tcp = data.site_xpos[env.handle.tcp_site_id][:2]
        rel = tcp - obj_xy
        n = np.array([-u[1], u[0]])
        lateral = float(rel @ n)
        across = extent_along(env.model, data, task.obj_body, n if lateral > 0 else -n)
        lateral = abs(lateral)
        behind = float(rel @ u) < -ext * 0.5
        riding = float(data.site_xpos[env.handle.tcp_site_id][2]) > self.push_z + 0.012
        # The fingers are beside the object, on top of it, or the line turned under them: go
        # round again; when that has been tried enough, stop (pushing on would drive it off course).
        if dist > 0.03 and self.steps_in_stage > 3 and (lateral > across + 0.005 or not behind or riding):
            if self.replans >= self.max_replans:
                pos, _ = env.handle.ee_pose(data)
                return Waypoint(pos, self.R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10_000)
            self.replans += 1
            pos, _ = env.handle.ee_pose(data)
            up = Waypoint(np.array([pos[0], pos[1], self.push_z + task.obj.size[2] + 0.04]), self.R, GRIPPER_CLOSED,
                          tol_m=0.02, max_steps=15)
            self.waypoints = [up, *self.plan(env)]
            self.push_stage += 1
            self.stage, self.steps_in_stage, self.hold = 0, 0, 0
            return self.waypoints[0]
        # Aim past the object's near edge (the fingers' face is `lead` ahead of the TCP) by what
        # is left plus 1 cm (the arm's servo needs the offset to beat the friction), 3 cm at
        # most, and stop at the target; slowly: a fast push slides it past or topples it. Off
        # the line, advance less (back off past 2 cm): moving sideways while pushing drags the
        # object further sideways with the fingers' friction.
        # A heavy or grippy object that does not move under the push gets a growing extra
        # offset (up to 3 cm; it shrinks again once the object moves).
        moved = float((obj_xy - self.last_obj_xy) @ u) if self.last_obj_xy is not None else 0.0
        self.last_obj_xy = obj_xy.copy()
        stalled = dist > 0.004 and moved < 0.001 and self.steps_in_stage > 3
        self.push_bias = min(self.push_bias + 0.003, 0.03) if stalled else max(self.push_bias - 0.003, 0.0)
        advance = min(0.03, dist + 0.01) + self.push_bias if dist > 0.004 else -0.005
        advance = float(np.clip(advance - 1.5 * lateral, -0.02, 0.06))
        aim = obj_xy - u * (ext + self.lead) + u * advance
        # Never "reached" (tolerance 0): the push goes on re-aiming until the episode ends.
        return Waypoint(np.array([*aim, self.push_z]), self.R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10_000,
                        max_step_m=MAX_PUSH_STEP_M)


class PushTo(Task):
    name: ClassVar[str] = "push_to"
    default_scene: ClassVar[str] = "kitchen"
    # push_distance_m: how far the object may start from where it must end (the push's length).
    defaults: ClassVar[dict] = {"push_distance_m": [MIN_PUSH_M, 0.30]}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        *(f"anchor_pos_{a}" for a in "xyz"),
        *(f"target_pos_{a}" for a in "xyz"),
        *(f"tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="surface", min_workspace_objects=2)

    def _options(self, scene: TaskScene) -> list[tuple]:
        """(object, anchor, target xy, push direction) for every clear, reachable push that ends
        with the object next to another, both nameable."""
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        lo, hi = (float(v) for v in self.options["push_distance_m"])
        nameable = [o for o in objects if unambiguous(o, objects, robot)]
        found = []
        for obj in nameable:
            if not pushable(scene, obj):
                continue
            surface = _surface_of_spec(scene, obj.support)
            for anchor in nameable:
                if anchor is obj or spec_gap(obj, anchor) <= NEXT_TO_MAX_GAP_M + 0.03:  # next to it already
                    continue
                offset = np.asarray(obj.pos[:2]) - np.asarray(anchor.pos[:2])
                v = offset / max(float(np.linalg.norm(offset)), 1e-9)
                reach_a, reach_o = spec_extent(anchor, v), spec_extent(obj, -v)
                # Along the line of centres, to AIM_GAP_M from the anchor's edge.
                target = np.asarray(anchor.pos[:2]) + v * (reach_a + reach_o + AIM_GAP_M)
                length = float(np.linalg.norm(offset)) - reach_a - reach_o - AIM_GAP_M
                ro = footprint_radius(obj)
                behind = np.asarray(obj.pos[:2]) + v * (ro + 0.05)
                others = [o for o in objects if o is not obj and o is not anchor]
                if (
                    lo <= length <= hi
                    and _inside(surface, target, margin=0.03)
                    and _inside(surface, behind, margin=0.0)
                    and in_reach(scene, (*target, 0), margin_m=0.1)
                    and in_reach(scene, (*behind, 0), margin_m=0.1)
                    and not _blocked(others, obj, np.asarray(obj.pos[:2]), target)
                    and free_spot(others, behind, 0.03)
                    and palm_clear(others, behind, target + v * (ro + 0.02), surface.top_z)
                    and path_in_reach(scene, behind, target)
                    and hand_fits(scene, surface, behind, -v)
                    and hand_fits(scene, surface, target + v * (ro + 0.02), -v)
                ):
                    found.append((obj, anchor, target, -v))
        if not found:
            raise TaskError(f"push_to needs a low, non-rolling object with a clear, reachable push of {lo}-{hi} m that "
                            f"ends next to another object on {scene.spec.workspace!r}; found none (scene {scene.spec.program!r})")
        return found

    def check_scene(self, scene: TaskScene) -> None:
        self._options(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        options = self._options(scene)
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        obj, anchor, target_xy, direction = options[int(rng.integers(len(options)))]
        surface = surface_of(scene, obj.support)
        self.obj, self.anchor = obj, anchor
        self.obj_body = object_body(scene.model, obj)
        self.anchor_body = object_body(scene.model, anchor)
        self.target = np.array([target_xy[0], target_xy[1], surface.top_z])
        self.direction = np.asarray(direction, dtype=float)
        self.start_xy = np.asarray(obj.pos[:2], dtype=float)
        self.rest_z = float(obj.pos[2])
        self.tcp_site = scene.robot.tcp_site_id
        self._mask = robot_geom_mask(scene.model, scene.robot)
        # The phrases the instruction names things by (simfarm.tasks.refer.Ref), kept for checks;
        # the anchor by an attribute phrase where one exists.
        self.refs = {"anchor": refer_to(anchor, objects, rng, robot, relational=False), "obj": refer_to(obj, objects, rng, robot)}
        self.show_goal(data, self.target + [0, 0, 0.001])
        values = {"object": obj.name, "anchor": anchor.name, "max_gap_m": NEXT_TO_MAX_GAP_M, "aim": self.target.tolist()}
        self.goal = self.make_goal(rng, values, obj=self.refs["obj"].text, anchor=self.refs["anchor"].text)
        return self.goal

    def grasping(self, data) -> bool:
        return held(self.scene.model, data, self.obj_body, self._mask, self.scene.robot.gripper_opening(data))

    def push_target(self, data) -> np.ndarray:
        """Where the object's centre goes: moved toward the anchor's nearest point until its
        edge is AIM_GAP_M from the anchor's (their geoms as they lie now; the object turns as it
        is pushed)."""
        model = self.scene.model
        obj = data.xpos[self.obj_body][:2]
        gap, segment = closest_points(model, data, self.obj_body, self.anchor_body)
        w = segment[3:5] - segment[0:2]
        if gap >= 0.3 or np.linalg.norm(w) < 1e-6:  # far (or touching): head for the anchor's centre
            w = data.xpos[self.anchor_body][:2] - obj
        w = w / max(float(np.linalg.norm(w)), 1e-9)
        return obj + w * (gap - AIM_GAP_M)

    def gap(self, data) -> float:
        """The distance between the object and the anchor now (their geoms)."""
        return edge_gap(self.scene.model, data, self.obj_body, self.anchor_body)

    def next_to(self, data) -> bool:
        """Beside the anchor: edges within NEXT_TO_MAX_GAP_M (touching counts), its centre outside
        the anchor's footprint (not on it or in it)."""
        R = data.xmat[self.anchor_body].reshape(3, 3)
        local = R.T @ (data.xpos[self.obj_body] - data.xpos[self.anchor_body])
        outside = abs(local[0]) > self.anchor.size[0] / 2 or abs(local[1]) > self.anchor.size[1] / 2
        return bool(outside and -TOUCH_TOLERANCE_M <= self.gap(data) <= NEXT_TO_MAX_GAP_M)

    def goal_reached(self, data) -> bool:
        """Next to the anchor, standing on the surface (still moving, maybe)."""
        pos = data.xpos[self.obj_body]
        return bool(self.next_to(data) and abs(pos[2] - self.rest_z) < ON_SURFACE_TOLERANCE_M)

    def success(self, data: mujoco.MjData) -> bool:
        pos = data.xpos[self.obj_body]
        there = self.next_to(data)
        on_surface = abs(pos[2] - self.rest_z) < ON_SURFACE_TOLERANCE_M and data.xmat[self.obj_body][8] > UPRIGHT_COS
        still = np.linalg.norm(data.cvel[self.obj_body, 3:6]) < 0.05
        return bool(there and on_surface and still and not self.grasping(data))

    def subtasks(self) -> list[Subtask]:
        # Behind the object once the push has moved it 1.5 cm toward the target.
        def started(data) -> bool:
            return bool((data.xpos[self.obj_body][:2] - self.start_xy) @ self.direction > 0.015)

        return [self.subtask("reach", started), self.subtask("push", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        obj_pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([obj_pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6], data.xpos[self.anchor_body],
                               self.target, obj_pos - tcp]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        obj = data.xpos[self.obj_body]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - obj))
        return float(0.3 * reach + 0.6 * (1 - np.tanh(5 * np.hypot(*(obj[:2] - self.target[:2])))))

    def make_expert(self, env):
        return LinePushExpert(env)


class _SpecSurface:
    """A support surface computed from the SceneSpec alone (check_scene has no model): the same
    fields `_inside` reads from the scene index."""

    def __init__(self, piece, k: int):
        surf = piece.surfaces[k]
        c, s = np.cos(piece.yaw_rad), np.sin(piece.yaw_rad)
        lx, ly, lz = surf.center
        self.center_world = (piece.pos[0] + c * lx - s * ly, piece.pos[1] + s * lx + c * ly, piece.pos[2] + lz)
        self.half_extents = tuple(surf.half_extents)
        self.top_z = float(self.center_world[2])
        self.yaw_rad = float(piece.yaw_rad)


def _surface_of_spec(scene: TaskScene, site_name: str) -> _SpecSurface:
    """The surface `furn/<piece>/surface_<k>` from the spec (as `push.surface_of` from the index)."""
    try:
        _, piece_name, surface = site_name.split("/")
        k = int(surface.removeprefix("surface_"))
        piece = next(f for f in scene.spec.furniture if f.name == piece_name)
        return _SpecSurface(piece, k)
    except (ValueError, StopIteration, IndexError) as exc:
        raise TaskError(f"support surface {site_name!r} is not a surface of the scene's furniture") from exc
