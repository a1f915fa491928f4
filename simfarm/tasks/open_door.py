"""open_door: swing the hinged door of the workspace cabinet open past an angle.

The cabinet's door (simfarm.scene.furniture: joint `furn/<cab>/door/hinge`, 0..1.7 rad, hinged on
the cabinet's +y edge, a vertical bar handle near its free edge) swings out toward the robot, which
stands 0.6-0.7 m in front of the cabinet where the sampler puts it for drawer work: the door meets
the robot's base somewhere between 0.73 and 1.0 rad (its footprint radius; kitchen scenes), far
short of the hinge's 1.7. So the goal angle defaults to 0.6 rad (34 degrees), and scenes where the
door would meet the robot before the goal angle + `swing_margin_rad` are redrawn (`check_scene`).
The door helpers here (its geometry from the SceneSpec, the angle it can swing to before it meets
the robot, pushing it round its hinge) serve close_door too.
"""

from __future__ import annotations

import math
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Task, TaskScene
from simfarm.tasks.close_drawer import (
    HANDLE_BAR_HALF_M,
    furniture_phrase,
    to_world,
    workspace_cabinet,
)
from simfarm.tasks.expert import GRIPPER_CLOSED, GRIPPER_OPEN, Waypoint, WaypointExpert

PANEL_HALF_M = 0.01  # the door panel's half thickness (furniture._add_cabinet)
GAP_M = 0.004  # furniture.GAP_M
# How close the door may come to the robot's base, beyond the robot's footprint radius.
ROBOT_CLEARANCE_M = 0.005
# The hand's footprint around the TCP (Franka Hand: long along the finger motion), with margins,
# and the drawer handles' box in front of the cabinet (furniture._add_handle), with margins.
HAND_HALF_LENGTH_M = 0.11
HAND_HALF_WIDTH_M = 0.04
DRAWER_HANDLE_PROUD_M = 0.08
DRAWER_HANDLE_HALF_SPAN_M = 0.085


class DoorGeometry:
    """The workspace cabinet's door as the SceneSpec describes it (world frame, door closed)."""

    def __init__(self, spec):
        from simfarm.scene.furniture import handle_local_positions

        cab = workspace_cabinet(spec)
        if not cab.params.get("door"):
            raise TaskError(f"the workspace cabinet {cab.name!r} has no door")
        d, w, h = cab.size
        self.cabinet = cab
        self.hinge_local = np.array([d / 2 + 0.01, w / 2 - GAP_M])
        self.width_m = 2 * (w / 2 - GAP_M)  # hinge to free edge
        self.hinge_world = to_world(cab, (*self.hinge_local, 0.0))[:2]
        self.handle_world = to_world(cab, handle_local_positions(cab)["door"])
        robot = spec.robot
        rel = np.asarray(robot.pos[:2]) - np.asarray(cab.pos[:2])
        c, s = math.cos(cab.yaw_rad), math.sin(cab.yaw_rad)
        self.robot_local = np.array([c * rel[0] + s * rel[1], -s * rel[0] + c * rel[1]])

    def panel_distance(self, angle: float, point_local) -> float:
        """Distance (floor plan) from a point of the cabinet's frame to the door's mid-plane at `angle`."""
        direction = np.array([math.sin(angle), -math.cos(angle)])
        rel = np.asarray(point_local, dtype=float) - self.hinge_local
        t = float(np.clip(rel @ direction, 0.0, self.width_m))
        return float(np.linalg.norm(rel - t * direction))

    def clearance_angle(self, robot_radius_m: float, upto: float = 1.7) -> float:
        """The largest angle the door swings to from shut before it meets the robot's footprint."""
        limit = robot_radius_m + PANEL_HALF_M + ROBOT_CLEARANCE_M
        for angle in np.arange(0.0, upto + 1e-9, 0.01):
            if self.panel_distance(float(angle), self.robot_local) < limit:
                return float(max(0.0, angle - 0.01))
        return float(upto)

    def handle_reachable(self, robot_model) -> bool:
        robot_xy = np.asarray(self._robot_world())
        dist = float(np.hypot(*(self.handle_world[:2] - robot_xy)))
        return dist < robot_model.reach_m - 0.05 and self.handle_world[2] > 0.1

    def _robot_world(self):
        cab = self.cabinet
        return to_world(cab, (*self.robot_local, 0.0))[:2]


class DoorState:
    """Runtime view of the door: hinge joint, angle, hinge axis point, handle site, panel body."""

    def __init__(self, scene: TaskScene, data: mujoco.MjData):
        cab = workspace_cabinet(scene.spec)
        key = f"furn/{cab.name}/door"
        info = scene.index.doors.get(key)
        if info is None:
            raise TaskError(f"door {key!r} of the SceneSpec is not in the scene index")
        model = scene.model
        self.info = info
        self.body_id = info.body_id
        self.joint_id = info.joint_id
        self.qpos_adr = int(model.jnt_qposadr[info.joint_id])
        self.dof_adr = int(model.jnt_dofadr[info.joint_id])
        self.handle_site = info.handle_site_id
        self.hinge_xy = data.xanchor[info.joint_id][:2].copy()
        self.range = tuple(float(v) for v in model.jnt_range[info.joint_id])
        self.panel_geom = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, f"{key}/panel")
        self.panel_half_height = float(model.geom_size[self.panel_geom][2])
        self.width_m = float(2 * model.geom_size[self.panel_geom][1])

    def angle(self, data) -> float:
        return float(data.qpos[self.qpos_adr])

    def set_angle(self, model, data, angle: float) -> None:
        data.qpos[self.qpos_adr] = angle
        data.qvel[self.dof_adr] = 0.0
        mujoco.mj_forward(model, data)

    def handle(self, data) -> np.ndarray:
        return data.site_xpos[self.handle_site]

    def top_z(self, data) -> float:
        """Height of the panel's top edge."""
        return float(data.geom_xpos[self.panel_geom][2] + self.panel_half_height)

    def normal(self, data) -> np.ndarray:
        """The door's outer face normal (horizontal, world): toward the robot when shut."""
        return data.xmat[self.body_id].reshape(3, 3)[:, 0].copy()

    def along(self, data) -> np.ndarray:
        """Unit vector along the panel from the free edge to the hinge (the door body's +y)."""
        return data.xmat[self.body_id].reshape(3, 3)[:, 1].copy()

    def point_at(self, data, angle: float, radius_m: float, offset_m: float, z: float) -> np.ndarray:
        """World point at `radius_m` from the hinge along the panel and `offset_m` off its mid-plane
        (positive: the outer face's side) when the door stands at `angle`."""
        now = self.angle(data)
        along, normal = _rotate_z(-self.along(data), angle - now), _rotate_z(self.normal(data), angle - now)
        xy = self.hinge_xy + along[:2] * radius_m + normal[:2] * offset_m
        return np.array([xy[0], xy[1], z])


def _rotate_z(v: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1], v[2]])


def door_phrases(spec) -> dict[str, str]:
    cab = workspace_cabinet(spec)
    return {"furniture": furniture_phrase(cab), "kind": cab.kind.replace("_", " ")}


class OpenDoor(Task):
    name: ClassVar[str] = "open_door"
    default_scene: ClassVar[str] = "kitchen"
    defaults: ClassVar[dict] = {"open_angle_rad": 0.6, "swing_margin_rad": 0.1}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        "door_angle_rad",
        *(f"handle_pos_{a}" for a in "xyz"),
        *(f"tcp_to_handle_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="drawer")

    def check_scene(self, scene: TaskScene) -> None:
        door = DoorGeometry(scene.spec)
        if not door.handle_reachable(scene.robot_model):
            raise TaskError(f"open_door: the door handle of {door.cabinet.name!r} is beyond the robot's reach")
        need = float(self.options["open_angle_rad"]) + float(self.options["swing_margin_rad"])
        free = door.clearance_angle(scene.robot_model.footprint_radius_m, upto=need + 0.01)
        if free < need:
            raise TaskError(
                f"open_door: the door of {door.cabinet.name!r} meets the robot at {free:.2f} rad, short of "
                f"{need:.2f} (open_angle_rad + swing_margin_rad)"
            )

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        self.check_scene(scene)
        self.door = DoorState(scene, data)
        self.door.set_angle(scene.model, data, 0.0)
        self.tcp_site = scene.robot.tcp_site_id
        self.show_goal(data, (0.0, 0.0, -10.0))
        self.goal = self.make_goal(rng, {"door": f"furn/{scene.spec.workspace}/door",
                                         "open_angle_rad": float(self.options["open_angle_rad"])}, **door_phrases(scene.spec))
        return self.goal

    def angle(self, data) -> float:
        return self.door.angle(data)

    def reached(self, data) -> bool:
        tcp = data.site_xpos[self.tcp_site]
        return bool(np.linalg.norm(tcp - self.door.handle(data)) < 0.04 or self.angle(data) > 0.15)

    def success(self, data: mujoco.MjData) -> bool:
        return self.angle(data) >= float(self.options["open_angle_rad"])

    def subtasks(self):
        return [self.subtask("reach", self.reached), self.subtask("open", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        handle = self.door.handle(data)
        return np.concatenate([[self.angle(data)], handle, handle - data.site_xpos[self.tcp_site]]).astype(np.float32)

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        tcp = data.site_xpos[self.tcp_site]
        reach = 1 - np.tanh(10 * np.linalg.norm(self.door.handle(data) - tcp))
        frac = min(1.0, max(0.0, self.angle(data)) / float(self.options["open_angle_rad"]))
        return float(0.3 * reach + 0.6 * frac)

    def make_expert(self, env):
        return OpenDoorExpert(env)


def grip_for_width(env, width_m: float) -> float:
    """The gripper command that brings the fingers `width_m` apart (the command is a position:
    -1 open, +1 shut; the fingers' control is their travel each)."""
    layout = getattr(env.handle, "layout", None)
    open_q = float(getattr(layout, "gripper_ctrl_open", 0.04))
    closed_q = float(getattr(layout, "gripper_ctrl_closed", 0.0))
    fraction = (open_q - width_m / 2) / max(open_q - closed_q, 1e-6)
    return float(np.clip(2 * fraction - 1, -1.0, 1.0))


def grasp_rotation(along: np.ndarray, tilt_rad: float = 0.0) -> np.ndarray:
    """world_R_tcp pointing down, fingers closing along `along` (across a vertical bar), the
    fingertips tilted by `tilt_rad` toward the door (about `along`): the wrist leans back to the room."""
    y = np.asarray(along, dtype=float).copy()
    y[2] = 0.0
    y /= np.linalg.norm(y)
    down = np.array([0.0, 0.0, -1.0])
    toward_door = np.cross(y, down)
    z = down * np.cos(tilt_rad) + toward_door * np.sin(tilt_rad)
    return np.column_stack([np.cross(y, z), y, z])


class DoorExpert(WaypointExpert):
    """Shared pieces of the door experts: pushing the panel round its hinge from one of its faces.

    A push keeps the closed fingers against the panel just below its top edge (the hand above
    it) and aims each step a little further round the arc from where the door is now.
    """

    push_step_rad = 0.12  # each push target lies this far round the hinge from the door's angle now
    finger_half_m = 0.011  # half width of the closed fingers across the panel
    below_top_m = 0.025  # TCP this far below the door's top edge (the hand passes above the panel)

    min_base_distance_m = 0.40  # the push point stays this far (floor plan) from the arm's base
    edge_margin_m = 0.08  # and this far in from the door's free edge

    def push_radius(self, door: DoorState, data, angle: float, side: float) -> float:
        """How far from the hinge to push at `angle`: as far out as the arm comfortably reaches,
        with the hand clear of the drawer handles above the door.

        Far from the hinge the push needs least force (and the wedge between an open door and the
        cabinet is widest); near the arm's base the arm folds against its limits, so the point
        slides in along the panel as the door swings toward the robot.
        """
        robot_xy = np.asarray(self.env.task.scene.spec.robot.pos[:2], dtype=float)
        fallback = []
        for radius in np.arange(door.width_m - self.edge_margin_m, 0.1, -0.01):
            xy = door.point_at(data, angle, float(radius), side * (PANEL_HALF_M + self.finger_half_m), 0.0)[:2]
            dist = float(np.linalg.norm(xy - robot_xy))
            clear = self.hand_clear(door, data, angle, xy)
            if dist >= self.min_base_distance_m and clear:
                return float(radius)
            fallback.append((clear, dist, float(radius)))
        return max(fallback)[2] if fallback else 0.3

    def hand_clear(self, door: DoorState, data, angle: float, tcp_xy) -> bool:
        """Whether the hand's footprint (long side along the panel) at `tcp_xy` misses the drawer
        handles that stand proud of the cabinet front just above the door."""
        cab = workspace_cabinet(self.env.task.scene.spec)
        along = _rotate_z(door.along(data), angle - door.angle(data))[:2]
        across = np.array([-along[1], along[0]])
        c, s = math.cos(cab.yaw_rad), math.sin(cab.yaw_rad)
        d, w, _ = cab.size
        for u in np.linspace(-HAND_HALF_LENGTH_M, HAND_HALF_LENGTH_M, 5):
            for v in (-HAND_HALF_WIDTH_M, 0.0, HAND_HALF_WIDTH_M):
                p = np.asarray(tcp_xy) + along * u + across * v - np.asarray(cab.pos[:2])
                x, y = c * p[0] + s * p[1], -s * p[0] + c * p[1]
                if d / 2 - 0.01 < x < d / 2 + DRAWER_HANDLE_PROUD_M and abs(y) < DRAWER_HANDLE_HALF_SPAN_M:
                    return False
        return True

    def push_point(self, door: DoorState, data, angle: float, side: float, gap_m: float = 0.0) -> np.ndarray:
        """TCP against the panel face `side` (+1 outer, -1 inner) at `angle`, `gap_m` off it."""
        offset = side * (PANEL_HALF_M + self.finger_half_m + gap_m)
        radius = self.push_radius(door, data, angle, side)
        return door.point_at(data, angle, radius, offset, door.top_z(data) - self.below_top_m)

    def push_waypoint(self, door: DoorState, data, direction: float, side: float) -> Waypoint:
        now = door.angle(data)
        goal = now + direction * self.push_step_rad
        R = grasp_rotation(_rotate_z(door.along(data), goal - now))
        # tol 0: a push never completes (past the last waypoint the expert would stop re-planning).
        return Waypoint(self.push_point(door, data, goal, side), R, GRIPPER_CLOSED, tol_m=0.0, max_steps=10**9, max_step_m=0.02)


class OpenDoorExpert(DoorExpert):
    """Grasp the vertical bar from above and pull it round the hinge (re-planned every step) a
    quarter radian, let go, reach over the door's top edge and push its inner face the rest of the way.

    A grasp that follows the handle further runs the wrist into its limit (the handle's arc passes
    within 0.3 m of the arm's base, below its shoulder) and a squeezed bar slips out of the pads
    under the forces a stiff arm puts on a hinged door; a push from inside needs neither.
    """

    pull_step_rad = 0.15  # each pull target lies this far round the hinge from the handle's angle now
    grasp_above_m = 0.03  # TCP (the pads' centre) on the bar's axis this far above its centre: the hand clears its top
    grasp_out_m = 0.002  # and this far off the axis toward the room: the fingers clear the posts behind the bar
    standoff_m = 0.06
    # The fingertips lean toward the door (the wrist back toward the room): it keeps the wrist off
    # the drawer fronts above. Leaning more or less both bring the wrist to its limit sooner.
    tilt_rad = 0.3
    yaw_lead = 0.5  # the hand turns with the door, by this share of each step's lead
    release_angle_rad = 0.25  # the pull hands over to the push here (or where it stalls)
    ik_stop_m = 0.01  # or where the arm falls this far short of the pull target
    overshoot_rad = 0.06  # the push aims this far past the goal angle
    PULL, RELEASE, BACK, RISE, OVER, DOWN, PUSH = range(5, 12)

    def plan(self, env):
        task: OpenDoor = env.task
        door = task.door
        data = env.data
        handle = door.handle(data).copy()
        normal = door.normal(data)
        R = grasp_rotation(door.along(data), self.tilt_rad)
        up = np.array([0.0, 0.0, 1.0])
        grasp = handle + up * self.grasp_above_m + normal * self.grasp_out_m
        self.clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        self.radius = float((handle[:2] - door.hinge_xy) @ -door.along(data)[:2])
        self.z = grasp[2]
        self.best = None  # (angle, step) of the pull's last progress
        self.steps = 0
        self.handover: dict | None = None
        # Down in front of the door, then in along its normal with the fingers open round the bar:
        # the bar stands only 4 cm proud of the fronts, too little for coming straight down on it.
        standoff = grasp + normal * self.standoff_m
        placeholder = Waypoint(grasp, R, GRIPPER_OPEN)
        return [
            Waypoint(standoff + up * self.clearance, R, GRIPPER_OPEN, tol_m=0.015),
            Waypoint(standoff, R, GRIPPER_OPEN, tol_m=0.01, max_step_m=0.03),
            Waypoint(grasp, R, GRIPPER_OPEN, tol_m=0.006, max_step_m=0.015, max_steps=30),
            # Close in two goes: fingers slammed shut from wide open cross a 16 mm bar in one
            # physics step (they pass through it); brought near it first, they squeeze it.
            Waypoint(grasp, R, grip_for_width(env, 2 * HANDLE_BAR_HALF_M + 0.008), tol_m=0.02, hold_steps=3, max_steps=4),
            Waypoint(grasp, R, GRIPPER_CLOSED, tol_m=0.02, hold_steps=4, max_steps=6),
            *[placeholder] * 7,  # PULL .. PUSH: planned from the door's state when they start
        ]

    def act(self, observation):
        self.steps += 1
        return super().act(observation)

    def update_waypoint(self, env, index, waypoint):
        if index < self.PULL:
            return waypoint
        task: OpenDoor = env.task
        door = task.door
        data = env.data
        now = door.angle(data)
        pos, rot = env.handle.ee_pose(data)
        if index == self.PULL:
            if self.best is None or now > self.best[0] + 0.01:
                self.best = (now, self.steps)
            # Stalled, or the arm cannot follow any further (its IK falls short): hand over.
            ik_error = getattr(env.handle, "last_ik_error", (0.0, 0.0))
            stalled = self.steps - self.best[1] > 8 or ik_error[0] > self.ik_stop_m
            if now >= self.release_angle_rad or stalled:
                return Waypoint(pos, rot, GRIPPER_CLOSED, tol_m=10.0)  # done: hand over to the push
            goal = now + self.pull_step_rad
            target = door.point_at(data, goal, self.radius, PANEL_HALF_M + 0.038 + self.grasp_out_m, self.z)
            R = grasp_rotation(_rotate_z(door.along(data), self.yaw_lead * (goal - now)), self.tilt_rad)
            return Waypoint(target, R, GRIPPER_CLOSED, tol_m=0.002, max_steps=10_000, max_step_m=0.02)
        if self.handover is None:
            # Where the hand let go, and the way over the door's top edge to its inner face.
            top = door.top_z(data) + 0.04
            self.handover = {"pos": pos.copy(), "rot": rot.copy(), "normal": door.normal(data), "top": top}
        h = self.handover
        if index == self.RELEASE:
            return Waypoint(h["pos"], h["rot"], GRIPPER_OPEN, tol_m=0.02, hold_steps=6, max_steps=10)
        if index == self.BACK:
            return Waypoint(h["pos"] + h["normal"] * 0.06, h["rot"], GRIPPER_OPEN, tol_m=0.015, max_steps=20)
        back = h["pos"] + h["normal"] * 0.06
        entry = self.push_point(door, data, now, side=-1.0, gap_m=0.025)
        R = grasp_rotation(door.along(data))
        if index == self.RISE:
            return Waypoint(np.array([back[0], back[1], h["top"]]), h["rot"], GRIPPER_CLOSED, tol_m=0.02, max_steps=30)
        if index == self.OVER:
            return Waypoint(np.array([entry[0], entry[1], h["top"]]), R, GRIPPER_CLOSED, tol_m=0.015, max_steps=40)
        if index == self.DOWN:
            return Waypoint(entry, R, GRIPPER_CLOSED, tol_m=0.01, max_step_m=0.03, max_steps=30)
        wp = self.push_waypoint(door, data, +1.0, side=-1.0)
        if now >= float(task.options["open_angle_rad"]) + self.overshoot_rad:
            wp.pos = self.push_point(door, data, now, side=-1.0, gap_m=0.02)  # far enough: ease off
        return wp
