"""place_on_shelf: move an object from one board of the bookshelf to another named one ("put the
red can on the top shelf").

Where the object comes from: another board of the same shelf. A fixed arm standing at a shelf has
no table within reach (the sampler keeps the floor in front of every piece free), and the arm's
mount is set for the boards (simfarm.scene.sampler.shelf_mount_height: two neighbouring boards in
reach when the shelf's spacing allows). The expert takes the object off its board from the front
(simfarm.tasks.pick_from_shelf), carries it in front of the shelf to the other board, sets it down
there on a free spot it previews reachable, lets go and draws the hand out. The hand keeps its
tilt all the way, so the object stays upright. Success: the object rests upright on the named
board, out of the hand.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene, hide_goal_marker
from simfarm.tasks.expert import GRIPPER_CLOSED, GRIPPER_OPEN, Waypoint, WaypointExpert
from simfarm.tasks.pick_from_shelf import (
    CLEAR_OF_SHELF_M,
    HOLD_RISE_M,
    MIN_JOINT_MARGIN_RAD,
    PALM_HALF_WIDTH_M,
    PRE_GRASP_OUT_M,
    SHELF_FAMILIES,
    SLOW_STEP_M,
    ReachPlanner,
    ShelfCandidates,
    board_index,
    finger_body_ids,
    grasp_height,
    hand_fits,
    hand_rotation,
    held_by_fingers,
    is_sphere,
    local_xy,
    palm_clears,
    reach_candidates,
    shelf_depth,
    shelf_frame,
    shelf_grasp_waypoints,
    shelf_lift,
)
from simfarm.tasks.refer import footprint_radius, refer_to, unambiguous

SET_DOWN_GAP_M = 0.008  # the object's bottom this far above the board when the fingers open
ENTRY_GAP_M = 0.035  # ... and this far up while it goes in over the board's front edge
MAX_SLIP_M = 0.05  # the most the carried waypoints follow an object sunk in the fingers
CARRY_STEP_M = 0.03  # per control step while carrying in front of the shelf (faster shakes a tilted grasp loose)
SPOT_DEPTH_M = 0.10  # where on the target board the expert sets the object: its centre this far in
SPOT_STEP_M = 0.02
MAX_TILT_RAD = 0.26  # upright: the object's axis within 15 degrees of vertical
PLACE_YAWS = (0.0, 0.2, -0.2)
SPOT_OFF_AXIS_M = 0.15


def free_spots(piece, board: int, obj, objects, robot, reach_m: float) -> list[np.ndarray]:
    """World xy points on `board` where `obj` (footprint radius r) can be set down from the front:
    SPOT_DEPTH_M in, clear of the other objects there by the width of the hand, off the side panels,
    within reach; nearest the arm's axis first."""
    from simfarm.scene.sampler import SHELF_MAX_REACH

    surf = piece.surfaces[board]
    r = footprint_radius(obj)
    out, lateral = shelf_frame(piece)
    half = surf.half_extents[1] - max(PALM_HALF_WIDTH_M, r) - 0.01
    depth = max(SPOT_DEPTH_M, r + 0.03)
    x_local = piece.size[0] / 2 - depth
    others = [o for o in objects if o.support == f"furn/{piece.name}/surface_{board}" and o is not obj]
    spots = []
    for y in np.arange(-half, half + 1e-9, SPOT_STEP_M):
        y_local = surf.center[1] + float(y)
        xy = np.asarray(piece.pos[:2]) + out[:2] * x_local + lateral[:2] * y_local
        clear = True
        for o in others:
            q = local_xy(piece, o.pos)
            ro = footprint_radius(o)
            gap = np.hypot(q[0] - x_local, q[1] - y_local) - r - ro
            beside = abs(q[1] - y_local) < PALM_HALF_WIDTH_M + ro + 0.03
            in_front = q[0] > x_local - r - ro
            if gap < 0.03 or (beside and in_front):
                clear = False
                break
        if clear and np.hypot(xy[0] - robot.pos[0], xy[1] - robot.pos[1]) <= SHELF_MAX_REACH * reach_m:
            spots.append(xy)
    # Those SPOT_OFF_AXIS_M to the side of the arm first (a short reach, off the wrist's limits
    # straight ahead); the expert previews each.
    left = np.array([-np.sin(robot.yaw_rad), np.cos(robot.yaw_rad)])

    def off_axis(xy) -> float:
        return abs(abs(float((np.asarray(xy) - np.asarray(robot.pos[:2])) @ left)) - SPOT_OFF_AXIS_M)

    return sorted(spots, key=off_axis)


class PlaceOnShelf(Task):
    name: ClassVar[str] = "place_on_shelf"
    default_scene: ClassVar[str] = "living_room"
    defaults: ClassVar[dict] = {"height_tolerance_m": 0.015}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        "target_board_top_z",
        "object_above_target_board_m",
        *(f"tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="shelf", min_workspace_objects=2, workspace_families=SHELF_FAMILIES)

    def _pairs(self, scene: TaskScene, found: ShelfCandidates) -> list[tuple]:
        """(object, target board) pairs: the object pickable, the board another reachable one with
        room above for it and the hand, and a free spot on it."""
        pairs = []
        for o in found.pickable:
            for k in found.reach:
                if k == board_index(o):
                    continue
                clearance = found.piece.surfaces[k].clearance_m
                if clearance < o.size[2] + SET_DOWN_GAP_M + 0.03:
                    continue
                depth = max(SPOT_DEPTH_M, footprint_radius(o) + 0.03)
                if not any(hand_fits(grasp_height(o, p) + SET_DOWN_GAP_M, 0.0, depth, clearance, p) and palm_clears(o, p)
                           for p in (0.0, 0.2, 0.35, 0.5, 0.7)):
                    continue
                if not free_spots(found.piece, k, o, found.objects, scene.spec.robot, found.reach_m):
                    continue
                pairs.append((o, k))
        return pairs

    def check_scene(self, scene: TaskScene) -> None:
        found = ShelfCandidates(scene)
        if not self._pairs(scene, found):
            raise TaskError(
                f"place_on_shelf: no object on a reachable board of {found.piece.name!r} with another reachable board "
                f"to put it on (boards in reach: {list(found.reach)}, objects a hand can take: {len(found.pickable)})"
            )

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        model = scene.model
        found = ShelfCandidates(scene)
        pairs = self._pairs(scene, found)
        if not pairs:
            self.check_scene(scene)
        robot = scene.spec.robot
        objects = sorted({o.name: o for o, _ in pairs}.values(), key=lambda o: o.name)
        obj = self.choose(rng, objects, "object")
        boards = [k for o, k in pairs if o is obj]
        def site(k: int) -> str:
            return f"furn/{found.piece.name}/surface_{k}"

        target = self.choose(rng, boards, "target", name_of=site)
        self.found, self.piece, self.obj, self.target = found, found.piece, obj, target
        self.source = board_index(obj)
        # Named among every object on the shelf by what it looks like; else among its board's.
        everywhere = [r for r in unambiguous(obj, found.objects, robot) if r.relation is None]
        if everywhere:
            self.obj_ref, self.obj_scope = everywhere[int(rng.integers(len(everywhere)))], list(found.objects)
            obj_text = self.obj_ref.text
        else:
            self.obj_scope = found.on_board(self.source)
            self.obj_ref = refer_to(obj, self.obj_scope, rng, robot)
            obj_text = f"{self.obj_ref.text} from {found.phrase(self.source)}"
        self.target_text = found.phrase(target)
        self.obj_body = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"obj/{obj.name}")
        self.tcp_site = scene.robot.tcp_site_id
        self.fingers = finger_body_ids(model, scene.robot)
        self.out, self.lateral = shelf_frame(self.piece)
        self.target_top = float(self.piece.pos[2] + self.piece.surfaces[target].center[2])
        self.start_z = float(obj.pos[2])
        hide_goal_marker(model, data)
        values = {"object": obj.name, "shelf": self.piece.name, "source_board": self.source, "target_board": target,
                  "height_tolerance_m": float(self.options["height_tolerance_m"])}
        self.goal = self.make_goal(rng, values, obj=obj_text, shelf=self.target_text)
        return self.goal

    # -- state predicates -------------------------------------------------------------------------

    def on_target_board(self, data) -> bool:
        """The object's centre over the target board, its bottom on it (within the tolerance)."""
        surf = self.piece.surfaces[self.target]
        p = local_xy(self.piece, data.xpos[self.obj_body])
        inside = abs(p[0] - surf.center[0]) <= surf.half_extents[0] and abs(p[1] - surf.center[1]) <= surf.half_extents[1]
        bottom = data.xpos[self.obj_body][2] - self.obj.size[2] / 2
        return bool(inside and abs(bottom - self.target_top) <= self.options["height_tolerance_m"])

    def upright(self, data) -> bool:
        """Standing: its axis within MAX_TILT_RAD of vertical (any way up for a ball)."""
        if is_sphere(self.obj):
            return True
        return bool(data.xmat[self.obj_body].reshape(3, 3)[2, 2] >= np.cos(MAX_TILT_RAD))

    def holding(self, data) -> bool:
        return held_by_fingers(self.scene.model, data, self.obj_body, self.fingers)

    def subtasks(self) -> list[Subtask]:
        return [
            self.subtask("grasp", lambda data: data.xpos[self.obj_body][2] > self.start_z + 0.01 and self.holding(data)),
            self.subtask("place", self.success),
        ]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        pos = data.xpos[self.obj_body]
        above = pos[2] - self.obj.size[2] / 2 - self.target_top
        return np.concatenate([pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6], [self.target_top, above],
                               pos - data.site_xpos[self.tcp_site]]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        still = np.linalg.norm(data.cvel[self.obj_body, 3:6]) < 0.05
        return bool(self.on_target_board(data) and self.upright(data) and still and not self.holding(data))

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        pos = data.xpos[self.obj_body]
        reach = 1 - np.tanh(10 * np.linalg.norm(data.site_xpos[self.tcp_site] - pos))
        grasped = float(self.holding(data))
        height = 1 - np.tanh(5 * abs(pos[2] - self.obj.size[2] / 2 - self.target_top))
        return float(0.25 * reach + 0.25 * grasped + 0.4 * height * (grasped or self.on_target_board(data)))

    def make_expert(self, env):
        return ShelfPlaceExpert(env)


def entry_gap(task, board: int) -> float:
    """How high above the board the object's bottom goes in: ENTRY_GAP_M where the compartment
    leaves room above the object and the hand, else as much as it leaves."""
    clearance = task.piece.surfaces[board].clearance_m
    room = clearance - float(task.obj.size[2]) - 0.03
    return float(min(ENTRY_GAP_M, max(SET_DOWN_GAP_M, room)))


def place_waypoints(env, task: PlaceOnShelf, spot_xy, R, carried_from, grasp_h: float | None = None) -> list[Waypoint]:
    """From the point out in front of the source board (TCP at `carried_from`, holding the object
    `grasp_h` above its bottom), up or down in front of the shelf, in over the spot with the
    object's bottom `entry_gap` above the board, down to SET_DOWN_GAP_M, open, and out."""
    out = task.out
    up = np.array([0.0, 0.0, 1.0])
    if grasp_h is None:
        grasp_h = grasp_height(task.obj, float(np.arcsin(np.clip(-R[2, 2], -1.0, 1.0))))
    release = np.array([spot_xy[0], spot_xy[1], task.target_top + grasp_h + SET_DOWN_GAP_M])
    over = release + up * (entry_gap(task, task.target) - SET_DOWN_GAP_M)
    depth = shelf_depth(task.piece, release)
    pitch = float(np.arcsin(np.clip(-R[2, 2], -1.0, 1.0)))
    pre = over - R[:, 2] * ((depth + PRE_GRASP_OUT_M + footprint_radius(task.obj)) / max(np.cos(pitch), 0.5))
    level = np.array([carried_from[0], carried_from[1], pre[2]])
    withdraw = release + out * (depth + CLEAR_OF_SHELF_M + 0.08)
    return [
        Waypoint(level, R, GRIPPER_CLOSED, tol_m=0.02, max_step_m=CARRY_STEP_M, max_steps=60),
        Waypoint(pre, R, GRIPPER_CLOSED, tol_m=0.015, max_step_m=0.03, max_steps=40),
        Waypoint(over, R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.025, max_steps=40),
        Waypoint(release, R, GRIPPER_CLOSED, tol_m=0.006, max_step_m=0.015, max_steps=30),
        Waypoint(release, R, GRIPPER_OPEN, tol_m=0.02, hold_steps=4, max_steps=8),
        Waypoint(withdraw, R, GRIPPER_OPEN, tol_m=0.02, max_step_m=SLOW_STEP_M, max_steps=60),
        Waypoint(withdraw + up * HOLD_RISE_M, R, GRIPPER_OPEN, tol_m=0.02, max_steps=1000),
    ]


def _direct(q_start, pos, R, grip):
    return []


class ShelfPlaceExpert(WaypointExpert):
    """Take the object off its board (as ShelfPickExpert), carry it in front of the shelf to the
    named board, set it down on a free spot, let go, draw the hand out.

    The pick and the place share the hand's tilt and finger turn (a change would tip the object
    over in the hand); each candidate pick is previewed (ReachPlanner), then the place from where
    it ends, over the free spots nearest the arm's side and three turns of the hand about the
    vertical. Once the object is in the hand the carried waypoints follow how far it has sunk
    between the pads.
    """

    max_spots = 3  # free spots tried on the target board, nearest the arm's side first
    max_picks = 3  # clean picks per group whose place is previewed (planning time stays ~1 s)

    def plan(self, env):
        task: PlaceOnShelf = env.task
        data = env.data
        depth = shelf_depth(task.piece, data.xpos[task.obj_body])
        lift = shelf_lift(task.piece, task.source, task.obj)
        target_clear = task.piece.surfaces[task.target].clearance_m
        spots = free_spots(task.piece, task.target, task.obj, task.found.objects, task.scene.spec.robot, task.found.reach_m)
        spots = spots[: self.max_spots]
        planner = ReachPlanner(env)
        groups = []
        for group in reach_candidates(task.obj, task.piece, task.source, depth, lift):
            spot_depth = max(SPOT_DEPTH_M, footprint_radius(task.obj) + 0.03)
            keep = [k for k in group if hand_fits(grasp_height(task.obj, k[0]) + SET_DOWN_GAP_M, 0.0, spot_depth, target_clear, k[0])]
            groups.append([(k, shelf_grasp_waypoints(env, task.obj_body, task.obj, task.piece, task.source, *k)) for k in keep])
        # The picks that preview clean, best first; the first with a clean place wins.
        fallback = None
        for transit in (planner.cartesian_transit, planner.joint_transit):
            for group in groups:
                results = []
                for key, (wps, R, outside) in group:
                    first = wps[0]
                    lead = transit(planner.start_joints(), first.pos, first.rot, first.grip)
                    if lead is None:
                        continue
                    full = [*lead, *wps]
                    ok, margin, q_end = planner.preview.run(full, q=planner.start_joints(), check_from=len(lead))
                    if ok and margin >= MIN_JOINT_MARGIN_RAD:
                        results.append((margin, key, full, R, outside, q_end))
                for _margin, key, full, R, outside, q_end in sorted(results, key=lambda r: -r[0])[: self.max_picks]:
                    if fallback is None:
                        fallback = (key, full, R, outside)
                    place = self._place(env, task, planner, spots, key, outside, q_end)
                    if place is not None:
                        self.choice = (key, place[0])
                        self.place_from = len(full)
                        return [*full, *place[1]]
        if fallback is None:
            key = (0.35, True, 0.0)
            wps, R, outside = shelf_grasp_waypoints(env, task.obj_body, task.obj, task.piece, task.source, *key)
            fallback = (key, [*planner.cartesian_transit(planner.start_joints(), wps[0].pos, wps[0].rot, wps[0].grip), *wps], R, outside)
        key, full, R, outside = fallback
        self.choice = (key, None)
        self.place_from = len(full)
        spot = spots[0] if spots else task.piece.pos[:2]
        return [*full, *place_waypoints(env, task, spot, R, outside)]

    def update_waypoint(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        """While carrying, follow the object's height in the hand: a can sunk a centimetre or two
        between the pads would otherwise meet the board's front edge, or be let go too high."""
        if index < getattr(self, "place_from", len(self.waypoints)) or waypoint.grip != GRIPPER_CLOSED:
            return waypoint
        task: PlaceOnShelf = env.task
        tcp = env.data.site_xpos[env.handle.tcp_site_id]
        planned = grasp_height(task.obj, self.choice[0][0]) - float(task.obj.size[2]) / 2  # TCP above the object's centre
        slip = float(np.clip(tcp[2] - env.data.xpos[task.obj_body][2] - planned, 0.0, MAX_SLIP_M))
        if slip == 0.0:
            return waypoint
        return dataclasses.replace(waypoint, pos=waypoint.pos + np.array([0.0, 0.0, slip]))

    def _place(self, env, task, planner, spots, key, outside, q_start):
        """The place part for a pick `key` (the same tilt and finger turn), over the spots and turns
        of the hand about the vertical: ((spot, yaw), waypoints) or None."""
        pitch, flip, _ = key
        candidates = []
        for spot in spots:
            for yaw in PLACE_YAWS:
                R = hand_rotation(task.out, pitch, flip, yaw)
                candidates.append(((tuple(float(v) for v in np.round(spot, 3)), yaw), place_waypoints(env, task, spot, R, outside)))
        chosen = planner.plan([candidates], q_start=q_start, transits=(_direct,))
        if chosen is None:
            return None
        waypoints, place_key, _ = chosen
        return place_key, waypoints
