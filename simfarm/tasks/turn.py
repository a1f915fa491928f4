"""turn: rotate an object on its surface about the vertical by a named angle.

"Turn the hammer a quarter turn clockwise", "rotate the mug 90 degrees to the left": grasp the object
from above, lift it clear of its neighbours, turn the wrist by the angle (ee_delta rotation, in steps
of at most 30 degrees so every step turns the named way), set it down where it was and let go.
Clockwise is as seen from above; "to the left" is counterclockwise, as a person facing the table
turns a thing's front to their left.

Only objects whose yaw a camera sees are asked for: a bar (a long box, the same after half a turn),
a hammer and a mug (its handle), narrow enough to grasp (a hammer by its handle, near its centre of
mass; a mug by its cup). Cans, bottles and fruit look the same at every yaw, blocks after a quarter
turn; books and boxes are wider than the open fingers. Half turns are asked only of mugs: a bar
looks the same after one, and turning a hammer's fixed grasp by 180 degrees can take an arm's wrist
past its limits.

Success: the yaw changed by the angle within a tolerance (modulo the object's symmetry: half a turn
for a bar), the object back upright on its surface within 1.5 cm of its starting height, let go of
(no robot contact) and at rest.
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.expert import (
    GRIPPER_CLOSED,
    GRIPPER_OPEN,
    Waypoint,
    WaypointExpert,
    gripper_yaw,
    top_down_rotation,
)
from simfarm.tasks.pick_place import (
    MAX_GRASP_MASS_KG,
    MAX_GRASP_WIDTH_M,
    grasp_width,
    object_body,
    reachable,
    workspace_objects,
)
from simfarm.tasks.put_in_bowl import Contacts, held, still
from simfarm.tasks.refer import refer_to, unambiguous

# Families whose yaw a camera sees, with the turn after which each looks the same again (radians).
SYMMETRY_RAD = {"bar": np.pi, "hammer": 2 * np.pi, "mug": 2 * np.pi}
# Angles a goal draws (degrees, counterclockwise positive) and the phrases that name them.
TURN_PHRASES = {
    90: ("90 degrees counterclockwise", "a quarter turn counterclockwise", "90 degrees to the left",
         "a quarter turn to the left", "90 degrees anticlockwise"),
    -90: ("90 degrees clockwise", "a quarter turn clockwise", "90 degrees to the right", "a quarter turn to the right"),
    45: ("45 degrees counterclockwise", "45 degrees to the left", "an eighth of a turn counterclockwise"),
    -45: ("45 degrees clockwise", "45 degrees to the right", "an eighth of a turn clockwise"),
    180: ("180 degrees", "a half turn", "halfway around"),
}
# The finger line stays this far from a mug's handle (radians).
HANDLE_CLEARANCE_RAD = np.pi / 4
# Most wrist rotation one waypoint asks for (radians): each step then turns the named way.
MAX_TURN_STEP_RAD = np.radians(30)
UPRIGHT_COS = np.cos(np.radians(20))
# The expert turns on past the planned angle by at most this when the object slipped in the
# fingers, and stops once the object is this close to the named angle.
CORRECTION_RAD = np.radians(60)
CORRECTED_RAD = np.radians(3)
# Objects this far inside the arm's reach (a pick needs 12 cm): near the edge of its reach an arm
# cannot turn its wrist through a half or quarter turn there.
TURN_REACH_MARGIN_M = 0.16


def yaw_of(R: np.ndarray) -> float:
    """Heading of an object's x axis (a bar's length, a hammer's head, a mug's handle) in the world."""
    return float(np.arctan2(R[1, 0], R[0, 0]))


def wrap(angle: float, period: float = 2 * np.pi) -> float:
    """`angle` in [-period/2, period/2)."""
    return float((angle + period / 2) % period - period / 2)


def turnable_width(obj) -> float:
    """Width the fingers span: a hammer's handle, else pick_place's grasp width."""
    if obj.family == "hammer":
        return float(2 * obj.params["dims"]["radius"])
    return grasp_width(obj)


def grasp_offset(obj) -> np.ndarray:
    """Grasp point in the object's frame (xy): a hammer's handle at its centre of mass (kept a finger's
    width from the head), a mug's cup, else the centre."""
    if obj.family == "hammer":
        sx, sy, sz = obj.size
        head_x = 0.025
        handle = (sx - 2 * head_x) * 2 * obj.params["dims"]["radius"] * sz
        head = 2 * head_x * sy * sz
        com = (handle * -head_x + head * (sx / 2 - head_x)) / (handle + head)
        return np.array([min(com, sx / 2 - 2 * head_x - 0.015), 0.0])
    if obj.family == "mug":
        return np.array([-0.0175, 0.0])  # simfarm.scene.objects: the cup sits left of the bbox centre
    return np.zeros(2)


class Turn(Task):
    """Turn an object about the vertical by a named angle and set it back down."""

    name: ClassVar[str] = "turn"
    default_scene: ClassVar[str] = "workshop"
    defaults: ClassVar[dict] = {"tolerance_deg": 15.0, "angles_deg": [90, -90, 45, -45, 180], "min_workspace_objects": 5}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        *(f"object_pos_{a}" for a in "xyz"),
        *(f"object_quat_{a}" for a in "wxyz"),
        "yaw_change_rad",
        "target_yaw_change_rad",
        *(f"tcp_to_object_{a}" for a in "xyz"),
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        # Five objects by default: kitchens and living rooms hold a mug narrow enough to grasp in
        # about one draw in six with their usual one to four (six would not fit within a short
        # arm's reach on some workbenches: the xArm7's 0.7 m).
        n = int((config or {}).get("min_workspace_objects", cls.defaults["min_workspace_objects"]))
        return SceneRequest(workspace="surface", min_workspace_objects=n)

    def _candidates(self, scene: TaskScene) -> list:
        objects = workspace_objects(scene)
        robot = scene.spec.robot
        found = [o for o in objects if o.family in SYMMETRY_RAD and turnable_width(o) <= MAX_GRASP_WIDTH_M
                 and o.mass_kg <= MAX_GRASP_MASS_KG and reachable(scene, o.pos, margin_m=TURN_REACH_MARGIN_M)
                 and unambiguous(o, objects, robot)]
        if not found:
            raise TaskError(f"turn needs an object whose heading shows ({', '.join(SYMMETRY_RAD)}), narrow enough to "
                            f"grasp, nameable and within reach on the workspace {scene.spec.workspace!r}; found none "
                            f"(scene {scene.spec.program!r})")
        return found

    def check_scene(self, scene: TaskScene) -> None:
        self._candidates(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        objects = workspace_objects(scene)
        obj = self.choose(rng, self._candidates(scene), "object")
        angles = [int(a) for a in self.options["angles_deg"]]
        # A half turn only where it shows and a fixed grasp cannot wind the wrist past its limits.
        usable = [a for a in angles if abs(a) != 180 or obj.family == "mug"]
        if not usable:
            raise TaskError(f"task.angles_deg: none of {angles} suits a {obj.family} (half turns are for mugs)")
        angle = usable[int(rng.integers(len(usable)))]
        phrases = TURN_PHRASES.get(angle) or (f"{abs(angle)} degrees {'counterclockwise' if angle > 0 else 'clockwise'}",)
        self.obj = obj
        self.obj_body = object_body(scene.model, obj)
        self.contacts = Contacts(scene)
        self.tcp_site = scene.robot.tcp_site_id
        self.rest_z = float(obj.pos[2])
        self.start_yaw = yaw_of(data.xmat[self.obj_body].reshape(3, 3))
        self.target_rad = float(np.radians(angle))
        self.period = SYMMETRY_RAD[obj.family]
        self.tolerance_rad = float(np.radians(self.options["tolerance_deg"]))
        # Unwrapped yaw change, tracked step by step (a half turn passes through +-180 degrees).
        self._last_yaw = self.start_yaw
        self._turned = 0.0
        self.obj_ref = refer_to(obj, objects, rng, scene.spec.robot)
        self.show_goal(data, data.xpos[self.obj_body])
        values = {"object": obj.name, "angle_deg": angle, "tolerance_deg": float(self.options["tolerance_deg"])}
        self.goal = self.make_goal(rng, values, obj=self.obj_ref.text, turn=phrases[int(rng.integers(len(phrases)))])
        return self.goal

    def turned(self, data: mujoco.MjData) -> float:
        """How far the object has turned since the reset (radians, counterclockwise positive)."""
        yaw = yaw_of(data.xmat[self.obj_body].reshape(3, 3))
        self._turned += wrap(yaw - self._last_yaw)
        self._last_yaw = yaw
        return self._turned

    def turned_enough(self, data: mujoco.MjData) -> bool:
        error = wrap(self.turned(data) - self.target_rad, self.period)
        return bool(abs(error) <= self.tolerance_rad)

    def subtasks(self) -> list[Subtask]:
        def grasped(data) -> bool:
            return held(data, self.contacts, self.obj_body, self.rest_z) or self.success(data)

        def rotated(data) -> bool:
            return self.turned_enough(data) or self.success(data)

        return [self.subtask("grasp", grasped), self.subtask("turn", rotated), self.subtask("release", self.success)]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        pos = data.xpos[self.obj_body]
        tcp = data.site_xpos[self.tcp_site]
        return np.concatenate([pos, data.xquat[self.obj_body], [self.turned(data), self.target_rad], pos - tcp]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        R = data.xmat[self.obj_body].reshape(3, 3)
        down = abs(data.xpos[self.obj_body][2] - self.rest_z) < 0.015 and R[2, 2] > UPRIGHT_COS
        return bool(self.turned_enough(data) and down and not self.contacts.robot_touches(data, self.obj_body)
                    and still(data, self.obj_body))

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        pos = data.xpos[self.obj_body]
        reach = 1 - np.tanh(10 * np.linalg.norm(data.site_xpos[self.tcp_site] - pos))
        error = abs(wrap(self.turned(data) - self.target_rad, self.period))
        return float(0.3 * reach + 0.6 * (1 - error / np.pi))

    def make_expert(self, env):
        return TurnExpert(env)


def wrist_centre_yaw(env, xy) -> float:
    """Gripper yaw (pointing down) over world `xy` with the arm's last joint mid-range, estimated
    from the pose now: the last joint turns the hand about its approach axis (rate measured on a
    scratch copy), the first turns the whole arm about the vertical through its base."""
    handle, data, model = env.handle, env.data, env.model
    scratch = mujoco.MjData(model)
    scratch.qpos[:] = data.qpos
    mujoco.mj_kinematics(model, scratch)
    site = handle.tcp_site_id
    yaw_now = gripper_yaw(scratch.site_xmat[site].reshape(3, 3))
    tcp = scratch.site_xpos[site].copy()
    last = int(handle.arm_qpos_adr[-1])
    q_last = float(data.qpos[last])
    scratch.qpos[last] = q_last + 0.05
    mujoco.mj_kinematics(model, scratch)
    rate = wrap(gripper_yaw(scratch.site_xmat[site].reshape(3, 3)) - yaw_now) / 0.05
    lo, hi = handle.arm_limits[-1]
    base = data.xpos[handle.root_body_id][:2]
    swing = wrap(float(np.arctan2(xy[1] - base[1], xy[0] - base[0]) - np.arctan2(tcp[1] - base[1], tcp[0] - base[0])))
    return float(yaw_now + rate * ((lo + hi) / 2 - q_last) + swing)


class TurnExpert(WaypointExpert):
    """Above the grasp point, down, close, lift clear of the neighbours, turn in steps of at most 30
    degrees, on until the object (not the wrist) has turned the angle, down to where it rested,
    open, up. The grasp yaw (a parallel gripper's two equivalent ones, or any clear of a mug's
    handle) centres the turn on the middle of the wrist joint's range, to keep it within its limits."""

    def plan(self, env):
        task: Turn = env.task
        data = env.data
        obj = task.obj
        body = task.obj_body
        pos = data.xpos[body].copy()
        R_obj = data.xmat[body].reshape(3, 3)
        delta = task.target_rad
        offset = grasp_offset(obj)
        xy = pos[:2] + R_obj[:2, :2] @ offset
        heading = yaw_of(R_obj)
        # The yaw that centres the turn on the middle of the last joint's range.
        ideal = wrist_centre_yaw(env, xy) - delta / 2
        if obj.family == "mug":
            # Any finger line at least 45 degrees from the handle (the handle along the mug's x).
            off = wrap(ideal - heading, np.pi)
            if abs(off) < HANDLE_CLEARANCE_RAD:
                off = HANDLE_CLEARANCE_RAD if off >= 0 else -HANDLE_CLEARANCE_RAD
            yaw = heading + off
        else:
            yaw = heading + np.pi / 2  # fingers across the length
        yaw = ideal + wrap(yaw - ideal, np.pi)  # the equivalent nearest the ideal
        centre = ideal + delta / 2
        half_h = float(obj.size[2]) / 2
        top = pos[2] + half_h
        finger_depth = getattr(env.handle, "finger_length_m", 0.04)
        grasp_z = max(pos[2], top - 0.8 * finger_depth)
        clearance = getattr(env.robot, "approach_clearance_m", 0.10)
        lift = self._lift(env, obj, body, xy) + (grasp_z - (pos[2] - half_h))
        R0 = top_down_rotation(yaw)
        at = np.array([xy[0], xy[1], grasp_z])
        up = np.array([xy[0], xy[1], max(lift, grasp_z + 0.03)])
        above = np.array([xy[0], xy[1], top + clearance])
        # On the way there, the wrist turns to the grasp yaw through the middle of its range, in
        # steps (a rotation asked in one go takes the short way round, which may be the blocked way).
        tcp, tcp_R = env.handle.ee_pose(data)
        now = centre + wrap(gripper_yaw(tcp_R) - centre)
        n_pre = int(np.ceil(abs(yaw - now) / np.radians(60)))
        waypoints = [
            Waypoint(tcp + (above - tcp) * k / n_pre, top_down_rotation(now + (yaw - now) * k / n_pre), GRIPPER_OPEN,
                     tol_m=0.03, hold_steps=1, max_steps=15)
            for k in range(1, n_pre)
        ]
        waypoints += [
            Waypoint(above, R0, GRIPPER_OPEN, tol_m=0.015),
            # Just over the top, square on and settled (the wrist may still be turning), before going
            # down: a mug's cup leaves the open fingers 3-5 mm a side.
            Waypoint(np.array([xy[0], xy[1], max(grasp_z, top + 0.02)]), R0, GRIPPER_OPEN, tol_m=0.004, hold_steps=2,
                     max_step_m=0.03, max_steps=15),
            Waypoint(at, R0, GRIPPER_OPEN, tol_m=0.008, hold_steps=1, max_step_m=0.01, max_steps=30),
            Waypoint(at, R0, GRIPPER_CLOSED, tol_m=0.02, hold_steps=5, max_steps=10),
            Waypoint(up, R0, GRIPPER_CLOSED, tol_m=0.015, max_step_m=0.03),
        ]
        n = max(1, int(np.ceil(abs(delta) / MAX_TURN_STEP_RAD)))
        for k in range(1, n + 1):
            R = top_down_rotation(yaw + delta * k / n)
            # Reached when the wrist is there: hold a few steps so the rotation settles.
            waypoints.append(Waypoint(up, R, GRIPPER_CLOSED, tol_m=0.02, hold_steps=2, max_steps=12))
        # Closed loop: the object may have slipped in the fingers; turn on until it has turned the
        # named angle (judged on the object, `update_waypoint`), at most CORRECTION_RAD beyond.
        self.correct_index = len(waypoints)
        self.wrist_yaw0 = yaw
        waypoints.append(Waypoint(up, top_down_rotation(yaw + delta), GRIPPER_CLOSED, tol_m=0.0, max_steps=25))
        R1 = top_down_rotation(yaw + delta)
        down = np.array([xy[0], xy[1], grasp_z + 0.004])
        waypoints += [
            Waypoint(down, R1, GRIPPER_CLOSED, tol_m=0.008, max_step_m=0.02, max_steps=25),
            Waypoint(down, R1, GRIPPER_OPEN, tol_m=0.03, hold_steps=4, max_steps=8),
            Waypoint(down + [0, 0, clearance], R1, GRIPPER_OPEN, tol_m=0.02, max_steps=1000),
        ]
        return waypoints

    def remaining(self) -> float:
        """What the object has still to turn (radians), nearest way round its symmetry."""
        task: Turn = self.env.task
        return wrap(task.target_rad - task.turned(self.env.data), task.period) if task.period < 2 * np.pi else \
            float(task.target_rad - task.turned(self.env.data))

    def update_waypoint(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        if index != self.correct_index:
            return waypoint
        _, cmd_R = self._commanded_pose(env.handle)
        cmd_yaw = gripper_yaw(cmd_R)
        task: Turn = env.task
        # Unwrapped wrist yaw near the planned final one, so the bound below is meaningful.
        planned = self.wrist_yaw0 + task.target_rad
        cmd_yaw = planned + wrap(cmd_yaw - planned)
        step = float(np.clip(self.remaining(), -MAX_TURN_STEP_RAD, MAX_TURN_STEP_RAD))
        goal = float(np.clip(cmd_yaw + step, planned - CORRECTION_RAD, planned + CORRECTION_RAD))
        return Waypoint(waypoint.pos, top_down_rotation(goal), waypoint.grip, waypoint.tol_m, waypoint.hold_steps,
                        waypoint.max_steps, waypoint.max_step_m)

    def act(self, observation) -> np.ndarray:
        if self.stage == self.correct_index and abs(self.remaining()) < CORRECTED_RAD:
            # Turned far enough: set it down with the wrist as it is now.
            _, cmd_R = self._commanded_pose(self.env.handle)
            R = top_down_rotation(gripper_yaw(cmd_R))
            for k in range(self.correct_index + 1, len(self.waypoints)):
                w = self.waypoints[k]
                self.waypoints[k] = Waypoint(w.pos, R, w.grip, w.tol_m, w.hold_steps, w.max_steps, w.max_step_m)
            self.stage += 1
            self.steps_in_stage = 0
            self.hold = 0
        return super().act(observation)

    @staticmethod
    def _lift(env, obj, body, xy) -> float:
        """Height for the object's bottom that clears every other object within its sweep."""
        data = env.data
        pos = data.xpos[body]
        bottom = pos[2] - float(obj.size[2]) / 2
        sweep = float(np.hypot(obj.size[0], obj.size[1])) / 2 + float(np.linalg.norm(pos[:2] - xy)) + 0.03
        over = bottom + 0.02
        for ids in env.built_scene.index.objects.values():
            if ids.body_id == body:
                continue
            p = data.xpos[ids.body_id]
            if abs(p[2] - pos[2]) > 0.4:
                continue
            radius = max(float(ids.spec.size[0]), float(ids.spec.size[1])) / 2
            if np.linalg.norm(p[:2] - xy) < sweep + radius:
                over = max(over, float(p[2] + ids.spec.size[2] / 2) + 0.02)
        return over
