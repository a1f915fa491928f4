"""place_in_drawer: pick an object off the top of the workspace cabinet and put it in its open drawer.

The episode starts with one drawer of the cabinet the robot faces pulled out (the task's reset sets
its slide, as close_drawer does, far enough for an object to go in). The object is one the
room program put on the cabinet's top (kitchen: can, bottle, fruit; living room and workshop:
blocks, and bars and hammers grasped across their length) that the arm can grasp there.

Where the sampler puts the robot for drawer work (close enough to pull a drawer out), most of a
cabinet's top lies beyond the arm's reach: only its front strip is in reach, and only with the
fingertips tilted away from the robot. Scenes without a graspable object there are redrawn
(`check_scene`); the scene request asks for four objects on the cabinet, so that about one scene
in four has one (kitchen: 79 of 300 sampled scenes; 20 redraws all fail for about 1 episode in 400).
"""

from __future__ import annotations

import math
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Task, TaskScene
from simfarm.tasks.close_drawer import (
    DrawerState,
    cabinet_drawers,
    furniture_phrase,
    to_world,
    workspace_cabinet,
)
from simfarm.tasks.expert import GRIPPER_CLOSED, GRIPPER_OPEN, Waypoint, WaypointExpert
from simfarm.tasks.pick_place import (
    MAX_GRASP_MASS_KG,
    MAX_GRASP_WIDTH_M,
    _main_part_xy,
    grasp_width,
    object_body,
)

# Drawer boxes (simfarm.scene.furniture._add_cabinet): panel, gap, wall, and the box's height below
# its opening's height.
PANEL_M = 0.02
GAP_M = 0.004
WALL_M = 0.01
BOX_HEADROOM_M = 0.03
# The hand keeps this far in front of the cabinet's front plane over an open drawer: clear of the
# handle of a closed drawer above (5.8 cm proud) with the hand's half width.
HAND_FRONT_CLEARANCE_M = 0.11
# How far (floor plan) from the robot's base an object may stand, short of the arm's reach: for
# a grasp from straight above, and for one with the fingertips tilted away from the robot.
TOP_DOWN_REACH_MARGIN_M = 0.155
GRASP_REACH_MARGIN_M = 0.065
# The drop point's offset from the drawer's centre line (a closed drawer's handle above is on it).
DROP_OFFSET_M = 0.15
# The tilt grows with the object's distance from the base (top-down reaches ~0.7 m for a Panda).
GRASP_TILT_BY_DISTANCE = ((0.62, 0.2), (0.80, 0.75))


class DrawerBox:
    """The inside of a drawer in its own body frame (the cabinet's frame when shut)."""

    def __init__(self, cab, key: str):
        from simfarm.scene.furniture import drawer_slots

        d, w, _ = cab.size
        k = int(key.split("_")[1])
        z0, z1 = drawer_slots(cab)[k]
        inner_w = w / 2 - PANEL_M - GAP_M
        inner_d = d - PANEL_M - GAP_M
        zb = z0 + GAP_M
        self.x_back = d / 2 - inner_d + GAP_M + WALL_M
        self.x_front = d / 2  # the front panel's inner face
        self.half_width = inner_w - WALL_M
        self.floor_z = zb + WALL_M
        self.rim_z = zb + (z1 - z0) - 2 * GAP_M - BOX_HEADROOM_M
        self.front_plane_x = d / 2  # the cabinet's front (the carcass), in the cabinet's frame

    @property
    def depth_m(self) -> float:
        return self.rim_z - self.floor_z


class PlaceInDrawer(Task):
    name: ClassVar[str] = "place_in_drawer"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"start_open_fraction": [0.7, 0.9], "lift_height_m": 0.03}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        *(f"drawer_target_{a}" for a in "xyz"),
        "drawer_opening_m",
        *(f"tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="drawer", min_workspace_objects=4)

    # -- what the scene offers ---------------------------------------------------------------

    def _candidates(self, scene: TaskScene):
        """(graspable objects on the cabinet top within reach, drawers in reach, all workspace objects)."""
        from simfarm.tasks.refer import unambiguous

        spec = scene.spec
        cab = workspace_cabinet(spec)
        drawers = cabinet_drawers(spec, scene.robot_model)
        if not drawers:
            raise TaskError(f"place_in_drawer: no drawer of {cab.name!r} is within the robot's reach")
        boxes = [DrawerBox(cab, slot.key) for slot in drawers]
        # The object must go in below the rim (its centre inside the box).
        max_height = 2 * min(box.depth_m for box in boxes) - 0.015
        objects = list(spec.workspace_objects())
        robot = spec.robot
        reach_m = scene.robot_model.reach_m
        top_down, tilted = reach_m - TOP_DOWN_REACH_MARGIN_M, reach_m - GRASP_REACH_MARGIN_M
        reach = tilted
        near = getattr(scene.robot_model, "min_reach_m", 0.25)
        pickable = []
        for o in objects:
            rel = np.array([o.pos[0] - robot.pos[0], o.pos[1] - robot.pos[1]])
            dist = float(np.linalg.norm(rel))
            if o.receptacle or o.mass_kg > MAX_GRASP_MASS_KG or o.size[2] > max_height or not near < dist <= reach:
                continue
            axis = finger_axis(o, yaw_of(o.quat), rel / max(dist, 1e-9))
            if axis is None:
                continue
            # A tilt toward the robot's far side lengthens the reach by its share along that line.
            u = rel / max(dist, 1e-9)
            lean = float(abs(axis[0] * u[1] - axis[1] * u[0]))
            if dist <= top_down + (tilted - top_down) * lean and unambiguous(o, objects, robot):
                pickable.append(o)
        if not pickable:
            raise TaskError(
                f"place_in_drawer: no graspable object on {cab.name!r} within {reach:.2f} m of the robot's base "
                f"(its {len(objects)} objects stand beyond it, are too big, or too tall for the drawer)"
            )
        return pickable, drawers, objects

    def check_scene(self, scene: TaskScene) -> None:
        self._candidates(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        from simfarm.tasks.refer import refer_to

        self.scene = scene
        pickable, drawers, objects = self._candidates(scene)
        obj = self.choose(rng, pickable, "object")
        slot = self.choose(rng, drawers, "drawer", lambda d: d.body)
        cab = workspace_cabinet(scene.spec)
        self.cabinet = cab
        self.obj = obj
        self.obj_body = object_body(scene.model, obj)
        self.start_z = float(obj.pos[2])
        c, sn = math.cos(cab.yaw_rad), math.sin(cab.yaw_rad)
        rel = (obj.pos[0] - cab.pos[0], obj.pos[1] - cab.pos[1])
        self.start_lateral = float(-sn * rel[0] + c * rel[1])  # the object's side of the cabinet (its local y)
        self.drawer = DrawerState(scene, data, slot)
        self.box = DrawerBox(cab, slot.key)
        lo, hi = self.options["start_open_fraction"]
        self.start_opening_m = float(rng.uniform(lo, hi)) * self.drawer.travel_m
        if not self.composed:  # a composite's earlier steps open the drawer
            self.drawer.set_opening(scene.model, data, self.start_opening_m)
        self.tcp_site = scene.robot.tcp_site_id
        self._robot_geom_mask = np.zeros(scene.model.ngeom, dtype=bool)
        self._robot_geom_mask[np.asarray(scene.robot.geom_ids, dtype=int)] = True
        self.show_goal(data, (0.0, 0.0, -10.0))
        ref = refer_to(obj, objects, rng, robot=scene.spec.robot)
        self.ref = ref
        self.goal = self.make_goal(
            rng,
            {"object": obj.name, "drawer": slot.body, "start_opening_m": self.start_opening_m},
            obj=ref.text, drawer=slot.phrase, furniture=furniture_phrase(cab),
        )
        return self.goal

    # -- judging -------------------------------------------------------------------------------

    def object_pos(self, data) -> np.ndarray:
        return data.xpos[self.obj_body]

    def in_drawer_local(self, data) -> np.ndarray:
        """The object's centre in the drawer's body frame."""
        body = self.drawer.body_id
        R = data.xmat[body].reshape(3, 3)
        return R.T @ (self.object_pos(data) - data.xpos[body])

    def inside(self, data) -> bool:
        """The object's centre inside the drawer box, below its rim."""
        x, y, z = self.in_drawer_local(data)
        box = self.box
        return bool(box.x_back < x < box.x_front and abs(y) < box.half_width and box.floor_z < z < box.rim_z)

    def released(self, data) -> bool:
        """No part of the robot touches the object."""
        n = data.ncon
        if not n:
            return True
        bodies = self.scene.model.geom_bodyid
        g1, g2 = data.contact.geom1[:n], data.contact.geom2[:n]
        on_obj1, on_obj2 = bodies[g1] == self.obj_body, bodies[g2] == self.obj_body
        robot = self._robot_geom_mask
        return not bool(np.any((on_obj1 & robot[g2]) | (on_obj2 & robot[g1])))

    def still(self, data) -> bool:
        return bool(np.linalg.norm(data.cvel[self.obj_body, 3:6]) < 0.05)

    def grasped(self, data) -> bool:
        """Lifted off the cabinet top in the hand."""
        lifted = self.object_pos(data)[2] > self.start_z + self.options["lift_height_m"]
        held = np.linalg.norm(data.site_xpos[self.tcp_site] - self.object_pos(data)) < 0.1
        return bool(lifted and held)

    def success(self, data: mujoco.MjData) -> bool:
        return self.inside(data) and self.released(data) and self.still(data)

    def subtasks(self):
        return [self.subtask("grasp", self.grasped), self.subtask("place", self.success)]

    def drop_point(self, data) -> np.ndarray:
        """World point on the drawer's floor, in its part outside the cabinet, beside its centre line.

        Beside it, on the object's side: a closed drawer above has its handle on the centre line,
        and an object lowered past it there could catch on it.
        """
        opening = self.drawer.opening(data)
        r = 0.5 * max(self.obj.size[0], self.obj.size[1])
        out = float(np.clip(opening / 2, HAND_FRONT_CLEARANCE_M, max(HAND_FRONT_CLEARANCE_M, opening - r - 0.02)))
        side = float(np.clip(DROP_OFFSET_M, 0.0, self.box.half_width - r - 0.02))
        lateral = side if self.start_lateral >= 0 else -side
        return to_world(self.cabinet, (self.box.front_plane_x + out, lateral, self.box.floor_z))

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        obj = self.object_pos(data)
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([
            obj, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6], self.drop_point(data),
            [self.drawer.opening(data)], obj - tcp,
        ]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        obj = self.object_pos(data)
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - obj))
        lifted = float(self.grasped(data))
        place = 1 - np.tanh(5 * np.linalg.norm(obj[:2] - self.drop_point(data)[:2]))
        return float(0.25 * reach + 0.25 * lifted + 0.3 * place + 0.1 * float(self.inside(data)))

    def make_expert(self, env):
        return PlaceInDrawerExpert(env)


def yaw_of(quat) -> float:
    w, x, y, z = quat
    return float(math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def finger_axis(obj, yaw: float, radial) -> np.ndarray | None:
    """The horizontal direction the fingers close along (floor plan, unit), None when the object
    is too wide every way: across a bar's or hammer's length, across a box's faces (the pair of
    faces nearest to facing sideways from the robot), any way round a can, bottle or ball.
    """
    lateral = np.array([-radial[1], radial[0]])
    ax = np.array([math.cos(yaw), math.sin(yaw)])
    ay = np.array([-ax[1], ax[0]])
    dims = (obj.params or {}).get("dims", {}) if isinstance(obj.params, dict) else {}
    if "length" in dims:  # bar, hammer: long along the object's x
        return ay if grasp_width(obj) <= MAX_GRASP_WIDTH_M else None
    if "radius" in dims:  # round in plan
        return lateral if grasp_width(obj) <= MAX_GRASP_WIDTH_M else None
    options = [a for a, width in ((ax, obj.size[0]), (ay, obj.size[1])) if width <= MAX_GRASP_WIDTH_M]
    return max(options, key=lambda a: abs(float(a @ lateral))) if options else None


def grasp_rotation(axis_xy, radial_xy, tilt_rad: float) -> np.ndarray:
    """world_R_tcp pointing down, fingers closing along `axis_xy`, the fingertips tilted by
    `tilt_rad` about that axis toward the robot's far side (`radial_xy`: base to object)."""
    y = np.array([axis_xy[0], axis_xy[1], 0.0])
    y /= max(np.linalg.norm(y), 1e-9)
    t = np.cross(y, [0.0, 0.0, 1.0])
    if t[:2] @ np.asarray(radial_xy) < 0:
        t = -t
    z = np.array([0.0, 0.0, -1.0]) * math.cos(tilt_rad) + t * math.sin(tilt_rad)
    return np.column_stack([np.cross(y, z), y, z])


class PlaceInDrawerExpert(WaypointExpert):
    """Grasp the object from above with the fingertips tilted away from the robot (the cabinet top
    is at the edge of the arm's reach), lift it, carry it over the drawer's open part, lower it to
    just above the floor, let go and back out upward.

    The drop point follows the drawer (re-planned each step) should the arm nudge it.
    """

    CARRY, LOWER, RELEASE, RETREAT = range(4, 8)

    def plan(self, env):
        task: PlaceInDrawer = env.task
        data = env.data
        obj_pos = task.object_pos(data).copy()
        robot_xy = np.asarray(task.scene.spec.robot.pos[:2], dtype=float)
        grasp_xy = _main_part_xy(env.model, data, task.obj)
        grasp_xy = obj_pos[:2] if grasp_xy is None else grasp_xy
        (d0, t0), (d1, t1) = GRASP_TILT_BY_DISTANCE
        radial = grasp_xy - robot_xy
        dist = float(np.linalg.norm(radial))
        radial = radial / max(dist, 1e-9)
        yaw = yaw_of(data.xquat[task.obj_body])
        axis = finger_axis(task.obj, yaw, radial)
        axis = np.array([-radial[1], radial[0]]) if axis is None else axis
        R = grasp_rotation(axis, radial, float(np.interp(dist, (d0, d1), (t0, t1))))
        half_h = float(task.obj.size[2]) / 2
        bottom = obj_pos[2] - half_h
        # The fingers down the top of the object's main part (a bottle's body, not its neck),
        # their tips (which lead, tilted) clear of the cabinet top.
        finger_depth = getattr(env.handle, "finger_length_m", 0.04)
        body_geom = mujoco.mj_name2id(env.model, mujoco.mjtObj.mjOBJ_GEOM, f"obj/{task.obj.name}/body")
        body_top = bottom + 2 * half_h
        if body_geom >= 0 and env.model.geom_type[body_geom] == mujoco.mjtGeom.mjGEOM_CYLINDER:
            body_top = min(body_top, float(data.geom_xpos[body_geom][2] + env.model.geom_size[body_geom][1]))
        grasp_z = max(float(obj_pos[2]), bottom + 0.02, body_top - 0.8 * finger_depth)
        self.grasp_offset_z = grasp_z - bottom  # TCP above the object's bottom
        self.clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        at_obj = np.array([grasp_xy[0], grasp_xy[1], grasp_z])
        approach = R[:, 2]
        self.R_place = None  # the hand's orientation when it has the object (update_waypoint)
        self.lift_m = 0.06
        self.carry_z = grasp_z + self.lift_m
        placeholder = Waypoint(at_obj, R, GRIPPER_CLOSED)
        return [
            Waypoint(at_obj - approach * self.clearance, R, GRIPPER_OPEN, tol_m=0.015),
            Waypoint(at_obj, R, GRIPPER_OPEN, tol_m=0.01, hold_steps=1, max_step_m=0.02, max_steps=25),
            Waypoint(at_obj, R, GRIPPER_CLOSED, tol_m=0.02, hold_steps=5, max_steps=10),
            Waypoint(at_obj + [0, 0, self.lift_m], R, GRIPPER_CLOSED, tol_m=0.02),
            *[placeholder] * 4,  # CARRY .. RETREAT: from the drawer's state when they start
        ]

    def update_waypoint(self, env, index, waypoint):
        if index < self.CARRY:
            return waypoint
        task: PlaceInDrawer = env.task
        data = env.data
        if self.R_place is None:
            # The hand keeps the orientation it holds the object with: turned upright, it would
            # tilt the object in its fingers by the grasp's tilt, and a tilted can topples when let
            # go. The drawer lies in about the same direction from the base as the object did, so
            # the fingers stay across it (the hand's thin side toward a closed drawer's handle above).
            self.R_place = env.handle.ee_pose(data)[1].copy()
        drop = task.drop_point(data)
        release_z = drop[2] + self.grasp_offset_z + 0.015
        above = task.box.rim_z - task.box.floor_z + float(task.obj.size[2]) + 0.04
        if index == self.CARRY:
            # Level over the cabinet top (never lower than the lift), then straight down in front of it.
            z = max(drop[2] + above + self.grasp_offset_z, self.carry_z)
            return Waypoint(np.array([drop[0], drop[1], z]), self.R_place, GRIPPER_CLOSED, tol_m=0.02)
        if index == self.LOWER:
            return Waypoint(np.array([drop[0], drop[1], release_z]), self.R_place, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.025)
        if index == self.RELEASE:
            return Waypoint(np.array([drop[0], drop[1], release_z]), self.R_place, GRIPPER_OPEN, tol_m=0.02, hold_steps=4, max_steps=8)
        # The last waypoint never completes (tol 0): past it the expert would hold a placeholder.
        return Waypoint(np.array([drop[0], drop[1], release_z + 1.2 * self.clearance]), self.R_place, GRIPPER_OPEN, tol_m=0.0,
                        max_steps=10**9)
