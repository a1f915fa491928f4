"""Motion primitives from a recorded trajectory: "move the gripper 10 cm left", "close the gripper".

The TCP path in the robot's base frame (x forward, y left, z up) is cut at every gripper event
(the finger opening changes by more than GRIPPER_STEP_M in a frame, GRIPPER_EVENT_M in all) and,
between events, at its corners (Ramer-Douglas-Peucker with CORNER_TOLERANCE_M); neighbouring
pieces that turn by less than MERGE_ANGLE_DEG are one motion (IK paths bend). Each piece is
named by its net displacement, rounded to whole centimetres; an axis is named when it is at least
MINOR_AXIS_FRACTION of the largest; pieces whose largest axis moves less than MIN_MOVE_M are
jitter and dropped. A piece is active from the frame before the TCP first leaves its start by
START_MOVE_M (the frame whose action starts it) and ends on the frame it comes within START_MOVE_M
of its end point. One arm's rows follow each other (a pause keeps the row before it, as LeRobot's
persistent rows stay active until replaced); several arms' rows are joined at each start frame from
the segments active then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRIPPER_STEP_M = 0.002
GRIPPER_EVENT_M = 0.005
CORNER_TOLERANCE_M = 0.015
MIN_MOVE_M = 0.02
MINOR_AXIS_FRACTION = 0.25
START_MOVE_M = 0.005
MERGE_ANGLE_DEG = 40.0


@dataclass(frozen=True)
class Segment:
    start: int  # first frame the primitive is active
    end: int  # frame where it is complete
    text: str
    kind: str  # "move" | "close" | "open"
    displacement_m: tuple[float, float, float] = (0.0, 0.0, 0.0)


def describe_move(d_m, gripper: str = "the gripper") -> str | None:
    """Words for a base-frame displacement (x forward, y left, z up), or None below MIN_MOVE_M."""
    cm = np.round(np.asarray(d_m, dtype=float) * 100).astype(int)
    top = int(np.abs(cm).max())
    if top * 0.01 < MIN_MOVE_M - 1e-9:
        return None
    words = {0: ("forward", "back"), 1: ("left", "right"), 2: ("up", "down")}
    order = np.argsort(-np.abs(cm), kind="stable")
    parts = []
    for axis in order:
        n = int(cm[axis])
        if n == 0 or abs(n) < MINOR_AXIS_FRACTION * top:
            continue
        word = words[int(axis)][0 if n > 0 else 1]
        parts.append(f"{word} {abs(n)} cm" if axis == 2 else f"{abs(n)} cm {word}")
    if len(parts) == 1 and cm[2] > 0 and order[0] == 2:
        return f"lift {gripper} {top} cm"
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"move {gripper} {joined}"


def segment(tcp_base_m: np.ndarray, opening_m: np.ndarray, gripper: str = "the gripper") -> list[Segment]:
    """The motion primitives of one arm over T frames: TCP (T, 3) in the base frame, opening (T,)."""
    T = len(tcp_base_m)
    if T < 2:
        return []
    events = _gripper_events(np.asarray(opening_m, dtype=float))
    out: list[Segment] = []
    cursor = 0
    for a, b, kind in [*events, (T - 1, T - 1, None)]:
        out += _moves(tcp_base_m, cursor, a, gripper)
        if kind is not None:
            out.append(Segment(a, b, f"{kind} {gripper}", kind))
        cursor = b
    return out


def _gripper_events(opening: np.ndarray) -> list[tuple[int, int, str]]:
    """(first frame, last frame, "close" | "open") of each run of frames the fingers move in."""
    step = np.diff(opening)
    sign = np.where(step > GRIPPER_STEP_M, 1, np.where(step < -GRIPPER_STEP_M, -1, 0))
    events = []
    t = 0
    while t < len(sign):
        if sign[t] == 0:
            t += 1
            continue
        s = t
        while t < len(sign) and sign[t] == sign[s]:
            t += 1
        if abs(opening[t] - opening[s]) >= GRIPPER_EVENT_M:
            events.append((s, t, "open" if sign[s] > 0 else "close"))
    return events


def _moves(p: np.ndarray, a: int, b: int, gripper: str) -> list[Segment]:
    if b - a < 1:
        return []
    corners = _rdp(p, a, b, CORNER_TOLERANCE_M)
    pieces: list[list[int]] = []
    for s, e in zip(corners, corners[1:], strict=False):
        if np.linalg.norm(p[e] - p[s]) < MIN_MOVE_M:
            continue  # jitter or a pause: also keeps the moves on either side apart
        if pieces and pieces[-1][1] == s and _angle_deg(p[s] - p[pieces[-1][0]], p[e] - p[s]) < MERGE_ANGLE_DEG:
            pieces[-1][1] = e
        else:
            pieces.append([s, e])
    out = []
    for s, e in pieces:
        d = p[e] - p[s]
        text = describe_move(d, gripper)
        if text is None:
            continue
        moved = np.flatnonzero(np.linalg.norm(p[s:e + 1] - p[s], axis=1) >= START_MOVE_M)
        start = s + max(int(moved[0]) - 1, 0) if moved.size else s
        away = np.flatnonzero(np.linalg.norm(p[s:e + 1] - p[e], axis=1) >= START_MOVE_M)
        end = s + int(away[-1]) + 1 if away.size else e  # the frame it arrives (a pause after is not part of it)
        out.append(Segment(start, end, text, "move", tuple(float(v) for v in d)))
    return out


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    cos = float(a @ b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _rdp(p: np.ndarray, a: int, b: int, tol: float) -> list[int]:
    """Frames a..b kept by Ramer-Douglas-Peucker (always a and b), in order."""
    keep = {a, b}
    stack = [(a, b)]
    while stack:
        s, e = stack.pop()
        if e - s < 2:
            continue
        seg = p[e] - p[s]
        length = float(np.linalg.norm(seg))
        pts = p[s + 1:e] - p[s]
        if length < 1e-9:
            dist = np.linalg.norm(pts, axis=1)
        else:
            dist = np.linalg.norm(np.cross(pts, seg / length), axis=1)
        k = int(np.argmax(dist))
        if dist[k] > tol:
            m = s + 1 + k
            keep.add(m)
            stack += [(s, m), (m, e)]
    return sorted(keep)


def merge_arms(per_arm: dict[str, list[Segment]], T: int) -> list[tuple[int, str]]:
    """(frame, text) rows: one arm's segments as they are; several arms' joined at each start frame."""
    if len(per_arm) == 1:
        return [(s.start, s.text) for s in next(iter(per_arm.values()))]
    starts = sorted({s.start for segs in per_arm.values() for s in segs})
    rows = []
    for f in starts:
        active = [s.text for segs in per_arm.values() for s in segs if s.start <= f < max(s.end, s.start + 1)]
        if not active:
            continue
        rows.append((f, " and ".join(active)))
    return rows
