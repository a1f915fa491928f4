"""pick_from_shelf: take a named object off a shelf board and hold it clear of the shelf.

The robot faces a bookshelf (SceneRequest workspace="shelf"): the sampler mounts the arm at the
height of the boards its hand reaches into (simfarm.scene.sampler.shelf_reach_boards). A top-down
grasp does not fit under the board above (hand and wrist stand ~0.25 m above the grasp point), so
the expert reaches in from the front, the hand pointing into the shelf (tilted down a little for
low objects), the fingers closing sideways across the object. It lifts the object off the board,
draws it out and holds it in front of the shelf. Putting it down on a table is not part of the
goal: a fixed arm standing at a shelf has no table within reach (the sampler keeps the floor in
front of every piece free), so success is the object held, lifted, clear of the shelf.
"""

from __future__ import annotations

import re
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.robots import ik
from simfarm.robots.handle import MAX_EE_DELTA_POS_M, MAX_EE_DELTA_ROT_RAD
from simfarm.scene.sampler import (
    SHELF_MAX_DEPTH_M,
    SHELF_MAX_REACH,
    shelf_boards,
    shelf_reach_boards,
)
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene, hide_goal_marker
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    GRIPPER_OPEN,
    Waypoint,
    WaypointExpert,
    rotation_error,
    rotvec_to_mat,
)
from simfarm.tasks.pick_place import MAX_GRASP_MASS_KG, MAX_GRASP_WIDTH_M, grasp_width, object_body
from simfarm.tasks.refer import footprint_radius, refer_to, unambiguous

# Families a sideways grasp from the front can take off a board (narrow, round or small blocks).
SHELF_FAMILIES = ("ball", "block", "bottle", "can", "fruit", "mug")
# The hand reaching in: the palm is ~20 cm wide along the finger axis, wrist parts ~10 cm round.
PALM_HALF_WIDTH_M = 0.10
HAND_HALF_THICKNESS_M = 0.05  # hand, flange and wrist housings around the approach axis
LIFT_M = 0.03  # off the board before drawing the object out
CLEAR_OF_SHELF_M = 0.04  # held: the object's footprint this far in front of the shelf's face
HOLD_RISE_M = 0.05


def shelf_of(scene: TaskScene):
    """The shelf the robot faces (its workspace furniture)."""
    piece = next((f for f in scene.spec.furniture if f.name == scene.spec.workspace), None)
    if piece is None or piece.kind != "shelf":
        raise TaskError(f"task needs a shelf as the robot's workspace (workspace=shelf); got {scene.spec.workspace!r}")
    return piece


def board_index(obj) -> int:
    """The surface index of the shelf board an object rests on (support "furn/<shelf>/surface_<k>")."""
    match = re.search(r"/surface_(\d+)$", obj.support)
    return int(match.group(1)) if match else -1


_ORDINAL = {2: "second", 3: "third", 4: "fourth"}


def board_phrase(position: int, count: int) -> str:
    """'the bottom shelf', 'the middle shelf', 'the top shelf', 'the second shelf from the bottom'
    for board `position` (0 = the lowest) of `count` boards."""
    if position == 0:
        return "the bottom shelf"
    if position == count - 1:
        return "the top shelf"
    if count % 2 == 1 and position == count // 2:
        return "the middle shelf"
    if position < count / 2:
        return f"the {_ORDINAL[position + 1]} shelf from the bottom"
    return f"the {_ORDINAL[count - position]} shelf from the top"


def mount_height(scene: TaskScene) -> float:
    robot = scene.spec.robot
    return float(robot.pos[2]) + float(robot.params.get("mount_height_m", scene.robot_model.mount_height_m))


def shelf_frame(piece):
    """(out, lateral): the shelf's front direction and its left, horizontal unit vectors (world)."""
    out = np.array([np.cos(piece.yaw_rad), np.sin(piece.yaw_rad), 0.0])
    return out, np.array([-out[1], out[0], 0.0])


def local_xy(piece, xy) -> np.ndarray:
    """World xy in the shelf's frame: x toward its front, y to its left (as the shelf sees it)."""
    out, lat = shelf_frame(piece)
    d = np.asarray(xy[:2], dtype=float) - np.asarray(piece.pos[:2], dtype=float)
    return np.array([d @ out[:2], d @ lat[:2]])


def reach_boards(scene: TaskScene, piece) -> tuple[int, ...]:
    """The boards the sampler mounted the arm for (simfarm.scene.sampler.shelf_reach_boards)."""
    if not scene.robot_model.has_arm:
        return ()
    return shelf_reach_boards(piece, mount_height(scene))


def hand_path_clear(piece, obj, others) -> bool:
    """Whether a hand reaching straight in at `obj` meets neither a side panel nor another object
    standing in front of or beside it on its board (the palm is ~20 cm wide)."""
    surf = piece.surfaces[board_index(obj)]
    p = local_xy(piece, obj.pos)
    lateral_room = surf.half_extents[1] - abs(p[1] - surf.center[1])
    if lateral_room < PALM_HALF_WIDTH_M - footprint_radius(obj):
        return False
    for o in others:
        if o is obj or o.support != obj.support:
            continue
        q = local_xy(piece, o.pos)
        beside = abs(q[1] - p[1]) < PALM_HALF_WIDTH_M + footprint_radius(o) + 0.03
        in_front = q[0] > p[0] - footprint_radius(obj) - footprint_radius(o)
        if beside and in_front:
            return False
    return True


def is_sphere(obj) -> bool:
    dims = (obj.params or {}).get("dims", {}) if isinstance(obj.params, dict) else {}
    return "radius" in dims and len(dims) == 1


def hand_floor(pitch: float) -> float:
    """The lowest a TCP can be above a board with the hand tilted down by `pitch` clear of it."""
    return max(t / np.cos(pitch) - s * np.sin(pitch) for s, t in HAND_PROFILE) + HAND_MARGIN_M


def grasp_height(obj, pitch: float = 0.0) -> float:
    """Height of the grasp point above the board: a ball at its equator (pads above it would
    squeeze it down); an upright side (box, can) at its middle when the hand, tilted by `pitch`,
    clears the board there, else as low as it clears it, but at least 12 mm under the top (the
    pads are 20 mm tall) and at most 6 cm up (tall things are held low)."""
    h = float(obj.size[2])
    if is_sphere(obj):
        return 0.5 * h
    return float(min(max(0.5 * h, hand_floor(pitch)), h - 0.012, 0.06))


def approach_pitch(obj) -> float:
    """Downward tilt of the approach: level when the hand fits above the board, tilted for small objects."""
    return 0.0 if grasp_height(obj) >= HAND_HALF_THICKNESS_M else 0.35


def shelf_rotation(out: np.ndarray, pitch: float) -> np.ndarray:
    """world_R_tcp pointing into the shelf (along -out, tilted down by `pitch`), fingers sideways."""
    up = np.array([0.0, 0.0, 1.0])
    z = -np.asarray(out, dtype=float) * np.cos(pitch) - up * np.sin(pitch)
    y = np.cross(up, out)
    y /= np.linalg.norm(y)
    return np.column_stack([np.cross(y, z), y, z])


def held_by_fingers(model, data, body: int, finger_bodies: set[int]) -> bool:
    """Both fingers touch `body` now."""
    n = data.ncon
    if not n:
        return False
    g1, g2 = data.contact.geom1[:n], data.contact.geom2[:n]
    b1, b2 = model.geom_bodyid[g1], model.geom_bodyid[g2]
    touching = set(b2[b1 == body].tolist()) | set(b1[b2 == body].tolist())
    return len(touching & finger_bodies) >= 2


def finger_body_ids(model, handle) -> set[int]:
    out = set()
    for b in np.asarray(handle.body_ids, dtype=int):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, int(b)) or ""
        if "finger" in name:
            out.add(int(b))
    return out


class ShelfCandidates:
    """What a shelf task can use: the shelf, its reachable boards, and the objects a hand from the
    front can take (graspable, clear path, nameable among their board's objects)."""

    def __init__(self, scene: TaskScene):
        self.piece = shelf_of(scene)
        self.boards = shelf_boards(self.piece)
        self.reach = reach_boards(scene, self.piece)
        self.objects = [o for o in scene.spec.workspace_objects() if board_index(o) in self.boards]
        robot = self.robot = scene.spec.robot
        self.reach_m = float(scene.robot_model.reach_m)
        self.pickable = []
        for o in self.objects:
            k = board_index(o)
            if k not in self.reach or o.receptacle or grasp_width(o) > MAX_GRASP_WIDTH_M or o.mass_kg > MAX_GRASP_MASS_KG:
                continue
            if self.piece.surfaces[k].clearance_m < o.size[2] + LIFT_M + 0.02:
                continue
            if shelf_depth(self.piece, o.pos) > SHELF_MAX_DEPTH_M or not self.in_reach(o.pos):
                continue
            if not hand_path_clear(self.piece, o, self.objects):
                continue
            if not unambiguous(o, self.on_board(k), robot):
                continue
            self.pickable.append(o)

    def in_reach(self, pos) -> bool:
        """Within the arm's horizontal reach (SHELF_MAX_REACH of it, the sampler's bound)."""
        base = self.robot.pos
        return bool(np.hypot(pos[0] - base[0], pos[1] - base[1]) <= SHELF_MAX_REACH * self.reach_m)

    def on_board(self, k: int) -> list:
        return [o for o in self.objects if board_index(o) == k]

    def phrase(self, k: int) -> str:
        return board_phrase(self.boards.index(k), len(self.boards))


class PickFromShelf(Task):
    name: ClassVar[str] = "pick_from_shelf"
    default_scene: ClassVar[str] = "living_room"
    defaults: ClassVar[dict] = {"clear_m": CLEAR_OF_SHELF_M, "lift_m": 0.02}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        *(f"object_linvel_{a}" for a in "xyz"),
        "object_out_of_shelf_m",
        "object_lift_m",
        *(f"tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="shelf", min_workspace_objects=2, workspace_families=SHELF_FAMILIES)

    def check_scene(self, scene: TaskScene) -> None:
        found = ShelfCandidates(scene)
        if not found.pickable:
            raise TaskError(
                f"pick_from_shelf: no object on a reachable board of {found.piece.name!r} can be taken from the front "
                f"(boards in reach: {list(found.reach)}, objects on them: {sum(board_index(o) in found.reach for o in found.objects)})"
            )

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        model = scene.model
        found = ShelfCandidates(scene)
        if not found.pickable:
            self.check_scene(scene)
        self.found = found
        self.piece = found.piece
        obj = self.choose(rng, found.pickable, "object")
        self.obj = obj
        self.board = board_index(obj)
        self.obj_ref = refer_to(obj, found.on_board(self.board), rng, scene.spec.robot)
        self.board_text = found.phrase(self.board)
        self.obj_body = object_body(model, obj)
        self.start_z = float(obj.pos[2])
        self.tcp_site = scene.robot.tcp_site_id
        self.fingers = finger_body_ids(model, scene.robot)
        self.out, self.lateral = shelf_frame(self.piece)
        hide_goal_marker(model, data)
        values = {"object": obj.name, "shelf": self.piece.name, "board": self.board,
                  "clear_m": float(self.options["clear_m"]), "lift_m": float(self.options["lift_m"])}
        self.goal = self.make_goal(rng, values, obj=self.obj_ref.text, shelf=self.board_text)
        return self.goal

    def out_of_shelf(self, data) -> float:
        """How far the object's footprint is in front of the shelf's face (negative: still inside)."""
        x = local_xy(self.piece, data.xpos[self.obj_body])[0]
        return float(x - self.piece.size[0] / 2 - footprint_radius(self.obj))

    def lifted(self, data) -> float:
        return float(data.xpos[self.obj_body][2] - self.start_z)

    def holding(self, data) -> bool:
        return held_by_fingers(self.scene.model, data, self.obj_body, self.fingers)

    def subtasks(self) -> list[Subtask]:
        return [
            self.subtask("grasp", lambda data: self.lifted(data) > 0.01 and self.holding(data)),
            self.subtask("take", self.success),
        ]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        pos = data.xpos[self.obj_body]
        return np.concatenate([pos, data.xquat[self.obj_body], data.cvel[self.obj_body, 3:6],
                               [self.out_of_shelf(data), self.lifted(data)],
                               pos - data.site_xpos[self.tcp_site]]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        return bool(self.out_of_shelf(data) > self.options["clear_m"] and self.lifted(data) > self.options["lift_m"]
                    and self.holding(data))

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(tcp - data.xpos[self.obj_body]))
        grasped = float(self.holding(data))
        out = float(np.clip((self.out_of_shelf(data) + self.piece.size[0] / 2) / (self.piece.size[0] / 2 + self.options["clear_m"]), 0, 1))
        return float(0.3 * reach + 0.3 * grasped + 0.3 * grasped * out)

    def make_expert(self, env):
        return ShelfPickExpert(env)


# Hand and wrist around the approach axis, from the TCP back: (distance behind the TCP, half
# thickness across the axis). Franka Hand sizes (simfarm.robots.panda); other hands are similar.
HAND_PROFILE = ((0.0, 0.012), (0.05, 0.012), (0.05, 0.026), (0.09, 0.026), (0.09, 0.042), (0.26, 0.052))
PITCHES = (0.0, 0.2, 0.35, 0.5, 0.7)
PALM_FROM_TCP_M = 0.047  # the palm starts this far behind the TCP (the fingers before it straddle the object)
TRANSIT_STEPS = 6
JOINT_TRANSIT_BACKOFF_M = 0.12
APPROACH_YAWS = (0.2, -0.2)  # rad, the hand's turn from straight into the shelf
MIN_JOINT_MARGIN_RAD = 0.05  # a previewed path keeps every joint this far from its limits
SLOW_STEP_M = 0.025  # waypoints capped at this per step are contact phases (the preview checks them closely)
MAX_JOINT_STEP_RAD = 0.15  # ... and no joint turns more than this in one step of a slow (contact) phase
PRE_GRASP_OUT_M = 0.05  # the TCP this far in front of the shelf's face before reaching in
HAND_MARGIN_M = 0.008


def hand_fits(grasp_h: float, lift: float, depth: float, clearance: float, pitch: float) -> bool:
    """Whether a hand tilted down by `pitch`, its TCP `grasp_h` above a board and `depth` behind the
    shelf's face, keeps off the board below and (lifted by `lift`) the board above, `clearance` up."""
    s_in = depth / np.cos(pitch) + 0.02  # hand parts this far behind the TCP are inside the shelf
    for s, t in HAND_PROFILE:
        if s > s_in:
            break
        z = grasp_h + s * np.sin(pitch)
        if z - t / np.cos(pitch) < HAND_MARGIN_M or z + lift + t / np.cos(pitch) > clearance - HAND_MARGIN_M:
            return False
    return True


class KinematicPreview:
    """Runs waypoints through the arm's IK on a private MjData, as the ee_delta controller would
    follow them from the commanded joints, and says whether the arm gets there: within tolerance,
    off its joint limits, and touching no furniture (objects excepted) on the way."""

    def __init__(self, env):
        self.env = env
        self.scratch = mujoco.MjData(env.model)
        self.ik_scratch = mujoco.MjData(env.model)
        model = env.model
        furniture = np.zeros(model.ngeom, dtype=bool)
        index = env.built_scene.index
        for ids in (index.furniture_geom_ids, index.wall_geom_ids, index.floor_geom_ids):
            furniture[np.asarray(ids, dtype=int)] = True
        self.furniture = furniture
        self.robot = np.zeros(model.ngeom, dtype=bool)
        self.robot[np.asarray(env.handle.geom_ids, dtype=int)] = True

    def _fk(self, q):
        env, sc = self.env, self.scratch
        sc.qpos[:] = env.data.qpos
        sc.qpos[env.handle.arm_qpos_adr] = q
        mujoco.mj_kinematics(env.model, sc)
        site = env.handle.tcp_site_id
        return sc.site_xpos[site].copy(), sc.site_xmat[site].reshape(3, 3).copy()

    def _touches_furniture(self, q) -> bool:
        env, sc = self.env, self.scratch
        self._fk(q)
        mujoco.mj_collision(env.model, sc)
        n = sc.ncon
        if not n:
            return False
        g1, g2 = sc.contact.geom1[:n], sc.contact.geom2[:n]
        dist = sc.contact.dist[:n]
        hit = ((self.robot[g1] & self.furniture[g2]) | (self.robot[g2] & self.furniture[g1])) & (dist < -0.002)
        return bool(hit.any())

    def run(self, waypoints, q=None, check_from: int = 0) -> tuple[bool, float, np.ndarray]:
        """(reached every waypoint, the smallest joint-limit margin in the slow phases from
        `check_from` on, final joints); `self.why` says what went wrong. Waypoints before
        `check_from` (the way there) are judged on position and contacts, the others also on
        orientation; the slow ones (max_step_m <= SLOW_STEP_M: in contact or near it) on joint margins and
        on joints that swing (the IK changing configuration moves the hand off its line)."""
        env, handle = self.env, self.env.handle
        q = env.data.ctrl[handle.arm_ctrl_idx].copy() if q is None else q.copy()
        lo, hi = handle.arm_limits[:, 0], handle.arm_limits[:, 1]
        mount_pos = env.data.xpos[handle.mount_body_id]
        mount_R = env.data.xmat[handle.mount_body_id].reshape(3, 3)
        base_R = env.data.xmat[handle.root_body_id].reshape(3, 3)
        margin = np.inf
        quat = np.empty(4)
        for i, wp in enumerate(waypoints):
            for _ in range(min(wp.max_steps, 60)):
                pos, R = self._fk(q)
                if np.linalg.norm(wp.pos - pos) < wp.tol_m and np.linalg.norm(rotation_error(R, wp.rot)) < 0.05:
                    break
                step = (wp.pos - pos) * 0.6
                if wp.max_step_m is not None and np.linalg.norm(step) > wp.max_step_m:
                    step *= wp.max_step_m / np.linalg.norm(step)
                step = base_R @ np.clip(base_R.T @ step, -MAX_EE_DELTA_POS_M, MAX_EE_DELTA_POS_M)
                drot = base_R @ np.clip(base_R.T @ (rotation_error(R, wp.rot) * 0.6), -MAX_EE_DELTA_ROT_RAD, MAX_EE_DELTA_ROT_RAD)
                target_R = rotvec_to_mat(drot) @ R
                mujoco.mju_mat2Quat(quat, (mount_R.T @ target_R).ravel())
                q_prev = q
                q, _, _ = ik.solve(handle, env.data, self.ik_scratch, q, mount_R.T @ (pos + step - mount_pos), quat)
                slow = wp.max_step_m is not None and wp.max_step_m <= SLOW_STEP_M  # in contact, or near it
                if i >= check_from and slow:
                    margin = min(margin, float(np.min(np.minimum(q - lo, hi - q))))
                    if float(np.max(np.abs(q - q_prev))) > MAX_JOINT_STEP_RAD:
                        # The IK swings to another configuration: the hand leaves its line near the object.
                        self.why = f"waypoint {i}: the arm swings ({float(np.max(np.abs(q - q_prev))):.2f} rad in a step)"
                        return False, margin, q
                if self._touches_furniture(q):
                    self.why = f"waypoint {i}: touches furniture on the way"
                    return False, margin, q
            pos, R = self._fk(q)
            turned = i < check_from or np.linalg.norm(rotation_error(R, wp.rot)) < 0.08  # the way there: position only
            if np.linalg.norm(wp.pos - pos) > max(wp.tol_m, 0.01) or not turned:
                self.why = f"waypoint {i}: {np.linalg.norm(wp.pos - pos):.3f} m, {np.linalg.norm(rotation_error(R, wp.rot)):.2f} rad off"
                return False, margin, q
            if i >= check_from and self._touches_furniture(q):
                self.why = f"waypoint {i}: touches furniture"
                return False, margin, q
        self.why = ""
        return True, margin, q


def shelf_grasp_waypoints(env, obj_body: int, obj, piece, board: int, pitch: float, flip: bool, yaw: float = 0.0):
    """Waypoints taking `obj` off its board from the front, tilted down by `pitch` (fingers turned
    half a turn with `flip`, the hand turned by `yaw` about the vertical), lifting it and drawing
    it out in front of the shelf: (waypoints, rotation, the TCP's point out in front). The first
    waypoint is the pre-grasp."""
    data = env.data
    out, _ = shelf_frame(piece)
    up = np.array([0.0, 0.0, 1.0])
    board_z = piece.pos[2] + piece.surfaces[board].center[2]
    pos = data.xpos[obj_body].copy()
    R = hand_rotation(out, pitch, flip, yaw)
    grasp = np.array([pos[0], pos[1], board_z + grasp_height(obj, pitch)])
    depth = shelf_depth(piece, grasp)
    pre = grasp - R[:, 2] * ((depth + PRE_GRASP_OUT_M) / np.cos(pitch))
    lifted = grasp + up * shelf_lift(piece, board, obj)
    outside = lifted + out * (depth + footprint_radius(obj) + CLEAR_OF_SHELF_M + 0.06)
    return [
        Waypoint(pre, R, GRIPPER_OPEN, tol_m=0.01, max_steps=40),
        # The last centimetres slowly: fingers brushing a ball knock it away.
        Waypoint(grasp, R, GRIPPER_OPEN, tol_m=0.008, hold_steps=1, max_step_m=0.02, max_steps=40),
        Waypoint(grasp, R, GRIPPER_CLOSED, tol_m=0.02, hold_steps=5, max_steps=10),
        Waypoint(lifted, R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.02, max_steps=20),
        Waypoint(outside, R, GRIPPER_CLOSED, tol_m=0.015, max_step_m=SLOW_STEP_M, max_steps=60),
    ], R, outside


def hand_rotation(out, pitch: float, flip: bool, yaw: float = 0.0) -> np.ndarray:
    c, s_ = np.cos(yaw), np.sin(yaw)
    out = np.array([c * out[0] - s_ * out[1], s_ * out[0] + c * out[1], 0.0])
    R = shelf_rotation(out, pitch)
    return R @ np.diag([-1.0, -1.0, 1.0]) if flip else R


def shelf_lift(piece, board: int, obj) -> float:
    clearance = piece.surfaces[board].clearance_m
    return float(min(LIFT_M, max(0.01, clearance - obj.size[2] - 0.02)))


def shelf_depth(piece, point) -> float:
    """How far behind the shelf's face a point is."""
    return float(piece.size[0] / 2 - local_xy(piece, point)[0])


class ReachPlanner:
    """Chooses how the hand goes where a shelf task needs it, by previewing the arm's IK.

    The ee_delta IK follows the commanded joints, so the configuration the arm ends in depends on
    the way there; reaching into a shelf needs a hand turned level from the top-down home pose. For
    each candidate (a list of waypoints starting at a pre-grasp pose) it tries a Cartesian transit
    (position and orientation in step), then, when none previews clean, a transit through a
    joint configuration found by IK from random starts (the TCP poses along the joint path,
    followed through ee_delta). The candidate kept has the most room to its joint limits.
    """

    def __init__(self, env, seed: int = 0):
        self.env = env
        self.preview = KinematicPreview(env)
        self.rng = np.random.default_rng(seed)

    def start_joints(self) -> np.ndarray:
        return self.env.data.ctrl[self.env.handle.arm_ctrl_idx].copy()

    def cartesian_transit(self, q_start, pos, R, grip, n: int = TRANSIT_STEPS) -> list[Waypoint]:
        """Waypoints from the TCP pose of `q_start` to (pos, R), the hand turning in step with the way."""
        start, R0 = self.preview._fk(q_start)
        turn = rotation_error(R0, R)
        return [Waypoint(start + (np.asarray(pos) - start) * (i / n), rotvec_to_mat(turn * (i / n)) @ R0, grip, tol_m=0.03,
                         max_steps=15) for i in range(1, n)]

    def joint_transit(self, q_start, pos, R, grip, n: int = TRANSIT_STEPS + 2) -> list[Waypoint] | None:
        """Waypoints along the TCP poses of a joint path from `q_start` to an IK solution for a
        pose backed off from (pos, R) along the approach (a joint path from home ending at the
        compartment's mouth may cut through the shelf), then straight on to it; None without one."""
        stage = np.asarray(pos) - R[:, 2] * JOINT_TRANSIT_BACKOFF_M
        goal = self.global_ik(stage, R)
        if goal is None:
            return None
        out = []
        for i in range(1, n + 1):
            p, Rm = self.preview._fk(q_start + (goal - q_start) * (i / n))
            out.append(Waypoint(p, Rm, grip, tol_m=0.03 if i < n else 0.015, max_steps=15 if i < n else 30))
        return out

    def global_ik(self, pos, R, tries: int = 24) -> np.ndarray | None:
        """Joints putting the TCP at (pos, R) off the joint limits and the furniture, nearest home."""
        env, handle = self.env, self.env.handle
        lo, hi = handle.arm_limits[:, 0], handle.arm_limits[:, 1]
        home = np.asarray(handle.arm_home_qpos, dtype=float)
        mount_pos = env.data.xpos[handle.mount_body_id]
        mount_R = env.data.xmat[handle.mount_body_id].reshape(3, 3)
        quat = np.empty(4)
        mujoco.mju_mat2Quat(quat, (mount_R.T @ R).ravel())
        target = mount_R.T @ (np.asarray(pos) - mount_pos)
        best = None
        for t in range(tries):
            q = home.copy() if t == 0 else self.rng.uniform(lo + 0.2, hi - 0.2)
            for _ in range(25):
                q, pe, re = ik.solve(handle, env.data, self.preview.ik_scratch, q, target, quat)
                if pe < 1e-3 and re < 1e-2:
                    break
            if pe > 1e-3 or re > 1e-2:
                continue
            margin = float(np.min(np.minimum(q - lo, hi - q)))
            if margin < 0.1 or self.preview._touches_furniture(q):
                continue
            score = margin - 0.1 * float(np.linalg.norm(q - home))
            if best is None or score > best[0]:
                best = (score, q.copy())
        return None if best is None else best[1]

    def plan(self, groups, q_start=None, transits=None):
        """The best candidate ((key, waypoints) pairs) with its transit: (waypoints, key, final
        joints), or None when none previews clean. `groups` are candidate lists in order of
        preference: the first group with a clean candidate wins, Cartesian transits first
        (`transits`: functions (q, pos, R, grip) -> waypoints or None, in order)."""
        q_start = self.start_joints() if q_start is None else q_start
        for transit in transits or (self.cartesian_transit, self.joint_transit):
            for candidates in groups:
                found = []
                for key, wps in candidates:
                    first = wps[0]
                    lead = transit(q_start, first.pos, first.rot, first.grip)
                    if lead is None:
                        continue
                    full = [*lead, *wps]
                    ok, margin, q_end = self.preview.run(full, q=q_start, check_from=len(lead))
                    if ok and margin >= MIN_JOINT_MARGIN_RAD:
                        found.append((margin, full, key, q_end))
                if found:
                    margin, full, key, q_end = max(found, key=lambda f: f[0])
                    return full, key, q_end
        return None


def palm_clears(obj, pitch: float) -> bool:
    """Whether the palm, PALM_FROM_TCP_M behind the fingers' grasp point on an approach tilted down
    by `pitch`, stays off the object: the object's extent from the grasp point along the approach
    (a ball: its radius; an upright can or block: its half width, and its top above the grasp
    point as the hand tilts) is shorter (a steep hand on a tall can would land on its rim)."""
    if is_sphere(obj):
        extent = footprint_radius(obj)
    else:
        extent = footprint_radius(obj) * np.cos(pitch) + (float(obj.size[2]) - grasp_height(obj, pitch)) * np.sin(pitch)
    return bool(extent + HAND_MARGIN_M < PALM_FROM_TCP_M)


def reach_candidates(obj, piece, board: int, depth: float, lift: float) -> list[list[tuple[float, bool, float]]]:
    """Groups of (pitch, flip, yaw) whose hand fits the compartment at this depth: straight in
    first, then turned a little about the vertical (straight ahead of the arm's base, a level hand
    low down is at its wrist's limits; a slight turn takes it off them)."""
    clearance = piece.surfaces[board].clearance_m
    fits = [p for p in PITCHES if hand_fits(grasp_height(obj, p), lift, depth, clearance, p) and palm_clears(obj, p)]
    return [[(p, f, 0.0) for p in fits for f in (False, True)],
            [(p, f, y) for y in APPROACH_YAWS for p in fits for f in (False, True)]]


class ShelfPickExpert(WaypointExpert):
    """Reach in from the front, close sideways across the object, lift, draw it out, hold it up.

    The tilt of the hand and the turn of its fingers, and the way there, come from ReachPlanner;
    when nothing previews clean, the level approach is tried anyway.
    """

    def plan(self, env):
        task: PickFromShelf = env.task
        depth = shelf_depth(task.piece, env.data.xpos[task.obj_body])
        lift = shelf_lift(task.piece, task.board, task.obj)

        def candidate(key):
            wps, R, outside = shelf_grasp_waypoints(env, task.obj_body, task.obj, task.piece, task.board, *key)
            wps.append(Waypoint(outside + [0, 0, HOLD_RISE_M], R, GRIPPER_CLOSED, tol_m=0.02, max_steps=1000))
            return key, wps

        groups = [[candidate(key) for key in group] for group in reach_candidates(task.obj, task.piece, task.board, depth, lift)]
        planner = ReachPlanner(env)
        chosen = planner.plan(groups)
        if chosen is None:
            key, wps = candidate((approach_pitch(task.obj), True, 0.0))
            self.choice = key
            return [*planner.cartesian_transit(planner.start_joints(), wps[0].pos, wps[0].rot, wps[0].grip), *wps]
        waypoints, self.choice, _ = chosen
        return waypoints
