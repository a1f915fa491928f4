"""push_trolley: drive the mobile base to a trolley and push it to a target area of the room.

In the spirit of DeepMind's Proc4Gem trolley task: the base's bumper does the pushing, the goal a
spoken distance (1-2 m, in half metres) in one of eight directions from the robot's starting heading
("push the trolley about 1.5 metres to the left"), over free floor.
"""

from __future__ import annotations

from typing import ClassVar

import mujoco
import numpy as np

from simfarm.errors import TaskError
from simfarm.scene.decor import VISUAL_ONLY_DECOR
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene
from simfarm.tasks.push import spoken_distances

# Directions from the robot's heading at the start: (angle, words).
HEADING_DIRECTIONS = (
    (0.0, "forward"),
    (np.pi / 4, "forward and to the left"),
    (np.pi / 2, "to the left"),
    (3 * np.pi / 4, "back and to the left"),
    (np.pi, "backward"),
    (-3 * np.pi / 4, "back and to the right"),
    (-np.pi / 2, "to the right"),
    (-np.pi / 4, "forward and to the right"),
)


def _yaw_of(quat) -> float:
    w, x, y, z = quat
    return float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def _wrap(angle: float) -> float:
    return float((angle + np.pi) % (2 * np.pi) - np.pi)


def _inside_polygon(xy, polygon) -> bool:
    x, y = xy
    inside = False
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _distance_to_polygon_edge(xy, polygon) -> float:
    p = np.asarray(xy, dtype=float)
    best = np.inf
    n = len(polygon)
    for i in range(n):
        a, b = np.asarray(polygon[i], float), np.asarray(polygon[(i + 1) % n], float)
        t = np.clip(np.dot(p - a, b - a) / max(np.dot(b - a, b - a), 1e-12), 0, 1)
        best = min(best, float(np.linalg.norm(a + t * (b - a) - p)))
    return best


def free_floor(spec, xy, clearance_m: float, ignore=()) -> bool:
    """Whether a disc at xy lies inside a room, `clearance_m` from walls and furniture footprints."""
    if not any(_inside_polygon(xy, room.polygon) and _distance_to_polygon_edge(xy, room.polygon) > clearance_m for room in spec.rooms):
        return False
    for furn in spec.furniture:
        if furn.name in ignore or furn.kind in VISUAL_ONLY_DECOR:  # a rug or a picture blocks nothing
            continue
        c, s = np.cos(furn.yaw_rad), np.sin(furn.yaw_rad)
        d = np.asarray(xy) - np.asarray(furn.pos[:2])
        local = np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1]])
        half = np.asarray(furn.size[:2]) / 2 + clearance_m
        if np.all(np.abs(local) < half):
            return False
    return True


class PushTrolley(Task):
    name: ClassVar[str] = "push_trolley"
    default_scene: ClassVar[str] = "kitchen"
    default_robot: ClassVar[str] = "mobile_base"
    needs_arm: ClassVar[bool] = False
    needs_base: ClassVar[bool] = True
    default_control_mode: ClassVar[str] = "base_vel"
    defaults: ClassVar[dict] = {"target_radius_m": 0.3, "push_distance_m": [1.0, 2.0]}
    environment_state_names: ClassVar[tuple[str, ...]] = (
        "trolley_x", "trolley_y", "trolley_yaw", "trolley_vx", "trolley_vy",
        "target_x", "target_y", "base_to_trolley_x", "base_to_trolley_y", "trolley_to_target_dist",
    )

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest

        return SceneRequest(workspace="trolley")

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        name = scene.spec.workspace
        if f"furn/{name}" not in scene.index.trolleys:
            raise TaskError(f"push_trolley needs a trolley as the workspace; the scene's workspace is {name!r}")
        info = scene.index.trolleys[f"furn/{name}"]
        self.trolley_body = info.body_id
        trolley = next(f for f in scene.spec.furniture if f.name == name)
        self.trolley_half = float(max(trolley.size[:2]) / 2)
        start = data.xpos[self.trolley_body][:2].copy()
        base_clear = scene.robot_model.footprint_radius_m
        # Directions from the robot's heading at the start and half-metre distances: what a person says.
        combos = [(k, d) for k in range(len(HEADING_DIRECTIONS)) for d in spoken_distances(self.options["push_distance_m"], 0.5)]
        for i in rng.permutation(len(combos)):
            k, distance = combos[int(i)]
            angle = float(scene.spec.robot.yaw_rad) + HEADING_DIRECTIONS[k][0]
            u = np.array([np.cos(angle), np.sin(angle)])
            target = start + u * distance
            behind = start - u * (self.trolley_half + base_clear + 0.15)
            path_ok = all(
                free_floor(scene.spec, start + u * s, self.trolley_half + 0.1, ignore=(name,))
                for s in np.linspace(0.3, distance, 8)
            )
            if path_ok and free_floor(scene.spec, behind, base_clear + 0.05, ignore=(name,)):
                break
        else:
            raise TaskError(f"push_trolley: no free path of a spoken length for trolley {name!r} in any of 8 directions")
        self.target = target
        self.start = start
        self.show_goal(data, (target[0], target[1], 0.002))
        self.goal = self.make_goal(rng, {"trolley": name, "target": target.tolist(), "radius_m": self.options["target_radius_m"]},
                                   trolley="the trolley", dist=f"{distance:g} metres", dir=HEADING_DIRECTIONS[k][1])
        return self.goal

    def subtasks(self) -> list[Subtask]:
        def moving(data) -> bool:  # the base reached the trolley once the trolley has moved 5 cm
            return bool(np.linalg.norm(self.trolley_xy(data) - self.start) > 0.05)

        return [self.subtask("reach", moving), self.subtask("push", self.success)]

    def trolley_xy(self, data) -> np.ndarray:
        return data.xpos[self.trolley_body][:2]

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        pos = self.trolley_xy(data)
        yaw = _yaw_of(data.xquat[self.trolley_body])
        vel = data.cvel[self.trolley_body, 3:5]
        base_xy = self.scene.robot.base_pose(data)[0][:2]
        return np.array(
            [pos[0], pos[1], yaw, vel[0], vel[1], self.target[0], self.target[1],
             pos[0] - base_xy[0], pos[1] - base_xy[1], np.linalg.norm(self.target - pos)],
            dtype=np.float32,
        )

    def success(self, data: mujoco.MjData) -> bool:
        return bool(np.linalg.norm(self.trolley_xy(data) - self.target) < self.options["target_radius_m"])

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        base_xy = self.scene.robot.base_pose(data)[0][:2]
        reach = 1 - np.tanh(np.linalg.norm(self.trolley_xy(data) - base_xy) - self.trolley_half)
        progress = 1 - np.linalg.norm(self.trolley_xy(data) - self.target) / max(np.linalg.norm(self.start - self.target), 1e-6)
        return float(0.2 * reach + 0.7 * np.clip(progress, 0, 1))

    def make_expert(self, env):
        return PushTrolleyExpert(env)


def _segment_clear(a, b, centre, radius: float) -> bool:
    """Whether the segment a→b stays `radius` away from `centre`."""
    seg = b - a
    t = np.clip(np.dot(centre - a, seg) / max(np.dot(seg, seg), 1e-12), 0.0, 1.0)
    return bool(np.linalg.norm(a + t * seg - centre) > radius)


class PushTrolleyExpert:
    """Drive behind the trolley on the trolley→target line, face the target, push, re-aligning as it goes."""

    name = "scripted"

    def __init__(self, env, noise_std: float = 0.0):
        self.env = env
        self.phase = "approach"
        self.side = 0.0
        self.noise_std = float(noise_std)
        self._rng = np.random.default_rng(0)

    def reset(self, instruction: str, seed: int) -> None:
        self.phase = "approach"
        self.side = 0.0
        self._rng = np.random.default_rng(seed)

    def _approach_goal(self, base, trolley, behind, contact: float) -> np.ndarray:
        """Straight to the spot behind the trolley when the way is clear, else round the trolley on a circle.

        The way round (clockwise or not) is chosen once per approach: the shorter arc unless its
        floor is blocked by walls or furniture, so the base neither shoves the trolley nor dithers.
        """
        task: PushTrolley = self.env.task
        clear_r = contact + 0.1
        if _segment_clear(base, behind, trolley, clear_r):
            self.side = 0.0
            return behind
        radius = clear_r + 0.15
        phi_b = float(np.arctan2(*(base - trolley)[::-1]))
        phi_g = float(np.arctan2(*(behind - trolley)[::-1]))
        diff = _wrap(phi_g - phi_b)
        if self.side == 0.0:
            spec, name = task.scene.spec, task.goal.values["trolley"]
            footprint = self.env.robot.footprint_radius_m

            def arc_free(sign: float) -> bool:
                span = abs(diff) if np.sign(diff) == sign else 2 * np.pi - abs(diff)
                return all(
                    free_floor(spec, trolley + radius * np.array([np.cos(phi_b + sign * a), np.sin(phi_b + sign * a)]), footprint, ignore=(name,))
                    for a in np.linspace(0.2, span, 6)
                )

            short = float(np.sign(diff) or 1.0)
            self.side = short if arc_free(short) or not arc_free(-short) else -short
        span = diff if np.sign(diff) == self.side else diff - self.side * 2 * np.pi
        step = self.side * min(abs(span), 0.6)
        return trolley + radius * np.array([np.cos(phi_b + step), np.sin(phi_b + step)])

    def act(self, observation) -> np.ndarray:
        env = self.env
        task: PushTrolley = env.task
        pos, R = env.handle.base_pose(env.data)
        base = pos[:2]
        yaw = float(np.arctan2(R[1, 0], R[0, 0]))
        trolley = task.trolley_xy(env.data)
        to_target = task.target - trolley
        dist = np.linalg.norm(to_target)
        u = to_target / max(dist, 1e-6)
        contact = task.trolley_half + env.robot.footprint_radius_m
        behind = trolley - u * (contact + 0.12)
        heading_err = _wrap(np.arctan2(u[1], u[0]) - yaw)
        offset = base - trolley
        lateral = u[0] * offset[1] - u[1] * offset[0]  # signed offset from the push line (2-D cross product)
        if self.phase == "approach":
            goal = self._approach_goal(base, trolley, behind, contact)
            world_v = 1.5 * (goal - base)
            if np.linalg.norm(base - behind) < 0.05 and abs(heading_err) < 0.1:
                self.phase = "push"
        else:
            if abs(lateral) > 0.15 or np.dot(base - trolley, u) > 0:
                self.phase = "approach"
            speed = float(np.clip(0.8 * dist, 0.08, 0.35))
            # Along the line at `speed`, and back onto the line sideways.
            world_v = u * speed - 1.5 * lateral * np.array([-u[1], u[0]])
        c, s = np.cos(yaw), np.sin(yaw)
        v_base = np.array([c * world_v[0] + s * world_v[1], -s * world_v[0] + c * world_v[1]])
        action = np.array([v_base[0], v_base[1], 2.0 * heading_err], dtype=np.float32)
        if self.noise_std > 0:
            action += (self._rng.normal(0.0, self.noise_std, 3) * env.action_space.high).astype(np.float32)
        return np.clip(action, env.action_space.low, env.action_space.high)

    def close(self) -> None:
        pass
