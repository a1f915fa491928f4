"""Places named by real things: "to the left of the blue bowl", "on the left side of the table".

A goal region is what an instruction says and what success checks: a `Region` has the phrase, a
`contains` predicate on the current scene state (anchors may move), and a point well inside it
where an expert aims. Directions are the robot's, as it faces its workspace (refer.Frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfarm.tasks.refer import Frame, footprint_radius

# How far a region reaches from its anchor's edge, and how wide it is across.
REGION_DEPTH_M = 0.22
REGION_SIDE_M = 0.08
NEXT_TO_GAP_M = 0.10
# Directions in the robot frame (x forward, y left): name -> unit vector.
DIRECTIONS = {
    "left_of": (0.0, 1.0),
    "right_of": (0.0, -1.0),
    "behind": (1.0, 0.0),  # farther from the robot
    "in_front_of": (-1.0, 0.0),  # nearer the robot
}
DIRECTION_PHRASES = {"left_of": "to the left of", "right_of": "to the right of", "behind": "behind", "in_front_of": "in front of"}
SIDE_PHRASES = {"left": "on the left side of {surface}", "right": "on the right side of {surface}",
                "near": "near the edge of {surface} closest to you", "far": "on the far side of {surface}"}
SIDE_AXES = {"left": (1, 1.0), "right": (1, -1.0), "near": (0, -1.0), "far": (0, 1.0)}


@dataclass
class Region:
    """`kind` is a DIRECTIONS key, "next_to", or "side:<left|right|near|far>"."""

    kind: str
    phrase: str
    point: np.ndarray  # world xyz the expert aims at (on the surface)
    frame: Frame
    anchor_body: int = -1  # body id of the anchor object (relations to an object)
    anchor_radius_m: float = 0.0
    surface_center: np.ndarray | None = None  # world xy (sides of a surface)
    surface_half_m: np.ndarray | None = None  # half extents along the robot's x and y

    def anchor_xy(self, data) -> np.ndarray:
        return data.xpos[self.anchor_body][:2]

    def contains(self, xy, data, radius_m: float = 0.0) -> bool:
        """Whether an object centred at world `xy` (footprint radius `radius_m`) is in the region."""
        if self.kind.startswith("side:"):
            axis, sign = SIDE_AXES[self.kind.split(":")[1]]
            offset = self.frame.R @ (np.asarray(xy[:2]) - self.surface_center)
            return bool(sign * offset[axis] > 0.05)
        offset = self.frame.local(xy) - self.frame.local(self.anchor_xy(data))
        distance = float(np.linalg.norm(offset))
        edge = self.anchor_radius_m + radius_m
        if self.kind == "next_to":
            return bool(edge - 0.01 < distance <= edge + NEXT_TO_GAP_M)
        direction = np.asarray(DIRECTIONS[self.kind])
        along = float(offset @ direction)
        across = abs(float(offset @ np.array([-direction[1], direction[0]])))
        return bool(edge - 0.01 < along <= edge + REGION_DEPTH_M and across <= self.anchor_radius_m + REGION_SIDE_M)


def relation_region(kind: str, anchor, anchor_phrase: str, anchor_body: int, obj_radius_m: float, robot) -> Region:
    """The region `kind` of an anchor object; its point sits 6 cm beyond both footprints."""
    frame = Frame(robot)
    ra = footprint_radius(anchor)
    reach = ra + obj_radius_m + 0.06
    if kind == "next_to":
        raise ValueError("next_to regions are made by next_to_region (the point needs a free side)")
    local = frame.local(anchor.pos) + np.asarray(DIRECTIONS[kind]) * reach
    world = frame.R.T @ local + frame.origin
    phrase = f"{DIRECTION_PHRASES[kind]} {anchor_phrase}"
    return Region(kind, phrase, np.array([world[0], world[1], 0.0]), frame, anchor_body, ra)


def next_to_region(anchor, anchor_phrase: str, anchor_body: int, point_xy, robot) -> Region:
    frame = Frame(robot)
    return Region("next_to", f"next to {anchor_phrase}", np.array([point_xy[0], point_xy[1], 0.0]), frame, anchor_body,
                  footprint_radius(anchor))


def side_region(side: str, surface, surface_phrase: str, robot, point_xy) -> Region:
    """One side of a surface (table, counter) as the robot sees it."""
    frame = Frame(robot)
    center = np.asarray(surface.center_world[:2], dtype=float)
    return Region(f"side:{side}", SIDE_PHRASES[side].format(surface=surface_phrase),
                  np.array([point_xy[0], point_xy[1], 0.0]), frame, surface_center=center)
