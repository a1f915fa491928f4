"""The answer formats of the annotation rows, and LeRobot's rules for language rows.

Coordinates follow Gemini Robotics-ER's convention: points are `[y, x]`, boxes
`[ymin, xmin, ymax, xmax]`, integers normalized to 0..1000 of the image height (y) and width
(x). A pixel row v (OpenCV: the first pixel's centre at 0) maps to `round((v + 0.5) / H * 1000)`;
box edges are pixel edges, so a box covering rows vmin..vmax maps to
`[round(vmin / H * 1000), ..., round((vmax + 1) / H * 1000), ...]` and back with `* H / 1000`.

Each VQA answer is one JSON object that also carries the keys LeRobot's annotation validator uses
to classify VQA answers (huggingface/lerobot
`src/lerobot/annotations/steerable_pipeline/validator.py`, `VQA_ANSWER_SHAPES`, commit
7427f31801f944f5ec9ce53cda02862ce7d1638b): point answers name a `point_format` (keypoint shape),
lists a `count` (count shape), states and unseen objects an `attribute` / `value` (attribute shape).

Row rules, from huggingface/lerobot `src/lerobot/datasets/language.py` (commit
7427f31801f944f5ec9ce53cda02862ce7d1638b, file last changed in 7ab4936b1bca9e349250f6a7bb4e24fcd9667cca):
`vqa` and `trace` are event-only styles (column `language_events`, no timestamp of their own: the
row sits on the frame it fires), `motion` is a persistent style (`language_persistent`, active from
its `timestamp` until the next `motion` row); `vqa` and `trace` are view-dependent and MUST set
`camera` to an `observation.images.*` key, every other style (motion included) MUST leave it None.
Per (frame, camera) at most one (vqa, user) and one (vqa, assistant) row (the validator's
uniqueness check), so each annotated frame asks each camera one question.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

CAMERA_KEY_PREFIX = "observation.images."
EVENT_STYLES = frozenset({"interjection", "vqa", "trace"})  # LeRobot EVENT_ONLY_STYLES
PERSISTENT_STYLES = frozenset({"subtask", "plan", "memory", "motion", "task_aug"})  # LeRobot PERSISTENT_STYLES
VIEW_DEPENDENT_STYLES = frozenset({"vqa", "trace"})  # LeRobot VIEW_DEPENDENT_STYLES
POINT_FORMAT = "yx_1000"  # [y, x], 0..1000
BOX_FORMAT = "yxyx_1000"  # [ymin, xmin, ymax, xmax], 0..1000
SCALE = 1000


def camera_key(camera: str) -> str:
    """The LeRobot feature key of a camera: `observation.images.<camera>`."""
    return CAMERA_KEY_PREFIX + camera


def norm_point(y_px: float, x_px: float, height: int, width: int) -> list[int]:
    """[y, x] in 0..1000 of a pixel-centre coordinate (OpenCV: the first pixel's centre at 0)."""
    return [int(np.clip(round((y_px + 0.5) / height * SCALE), 0, SCALE)),
            int(np.clip(round((x_px + 0.5) / width * SCALE), 0, SCALE))]


def norm_box(box_px, height: int, width: int) -> list[int]:
    """[ymin, xmin, ymax, xmax] in 0..1000 of a pixel box given by its edges (ymax, xmax exclusive)."""
    ymin, xmin, ymax, xmax = (float(v) for v in box_px)
    return [int(np.clip(round(ymin / height * SCALE), 0, SCALE)), int(np.clip(round(xmin / width * SCALE), 0, SCALE)),
            int(np.clip(round(ymax / height * SCALE), 0, SCALE)), int(np.clip(round(xmax / width * SCALE), 0, SCALE))]


def point_to_pixels(point, height: int, width: int) -> tuple[float, float]:
    """(y, x) pixel-centre coordinate of a normalized [y, x] point (the inverse of norm_point)."""
    return float(point[0]) * height / SCALE - 0.5, float(point[1]) * width / SCALE - 0.5


def box_to_pixels(box, height: int, width: int) -> tuple[float, float, float, float]:
    """(ymin, xmin, ymax, xmax) pixel edges of a normalized box (the inverse of norm_box)."""
    return (float(box[0]) * height / SCALE, float(box[1]) * width / SCALE,
            float(box[2]) * height / SCALE, float(box[3]) * width / SCALE)


def dumps(payload: Any) -> str:
    """Compact JSON with a fixed key order (rows of the same state are byte-identical)."""
    return json.dumps(payload, separators=(", ", ": "), sort_keys=False)


# -- answers -----------------------------------------------------------------------------------

def located(label: str, box: list[int], point: list[int]) -> dict[str, Any]:
    return {"label": label, "box_2d": box, "point": point, "box_format": BOX_FORMAT, "point_format": POINT_FORMAT}


def grasp_point(label: str, point: list[int], part: str) -> dict[str, Any]:
    return {"label": label, "point": point, "point_format": POINT_FORMAT, "part": part}


def unseen(label: str, reason: str, part: str | None = None) -> dict[str, Any]:
    """An object (or its grasp `part`) the camera does not show: `reason` is "occluded" or
    "out_of_view"; no box or point is made up."""
    out = {"label": label, "visible": False, "reason": reason, "attribute": "visibility", "value": reason}
    return out if part is None else {**out, "part": part}


def object_list(label: str, names: list[str]) -> dict[str, Any]:
    return {"label": label, "count": len(names), "objects": list(names)}


def drawer_state(label: str, is_open: bool, open_fraction: float) -> dict[str, Any]:
    return {"label": label, "attribute": "state", "value": "open" if is_open else "closed",
            "open_fraction": round(float(open_fraction), 2)}


# -- checks (for tests and writers) ------------------------------------------------------------

def check_row(row: dict[str, Any], column: str) -> None:
    """ValueError unless `row` obeys LeRobot's rules for `column` ("events" or "persistent")."""
    style, camera = row.get("style"), row.get("camera")
    if not row.get("role"):
        raise ValueError(f"row without a role: {row!r}")
    want = EVENT_STYLES if column == "events" else PERSISTENT_STYLES
    if style not in want:
        raise ValueError(f"style {style!r} does not belong in the {column} column (accepted: {sorted(want)})")
    if style in VIEW_DEPENDENT_STYLES:
        if not camera or not str(camera).startswith(CAMERA_KEY_PREFIX):
            raise ValueError(f"rows of style {style!r} need camera = an {CAMERA_KEY_PREFIX}* key, got {camera!r}")
    elif camera is not None:
        raise ValueError(f"rows of style {style!r} must have camera=None, got {camera!r}")


def parse_answer(row: dict[str, Any]) -> Any:
    """The JSON answer of an assistant vqa/trace row, checked against the documented shapes."""
    payload = json.loads(row["content"])
    if row["style"] == "trace":
        tracks = payload if isinstance(payload, dict) else {"": payload}
        for points in tracks.values():
            if not isinstance(points, list) or not all(_is_norm(p, 2) for p in points):
                raise ValueError(f"trace answer is not a list of [y, x] points in 0..1000: {row['content']}")
        return payload
    if not isinstance(payload, dict) or not isinstance(payload.get("label"), str):
        raise ValueError(f"vqa answer is not an object with a label: {row['content']}")
    if "box_2d" in payload and not _is_norm(payload["box_2d"], 4):
        raise ValueError(f"box_2d is not [ymin, xmin, ymax, xmax] in 0..1000: {row['content']}")
    if "point" in payload and not _is_norm(payload["point"], 2):
        raise ValueError(f"point is not [y, x] in 0..1000: {row['content']}")
    if payload.get("visible") is False and payload.get("reason") not in ("occluded", "out_of_view"):
        raise ValueError(f"an unseen object needs reason occluded|out_of_view: {row['content']}")
    if "count" in payload and payload["count"] != len(payload.get("objects", ())):
        raise ValueError(f"count does not match the objects listed: {row['content']}")
    if lerobot_vqa_shape(payload) is None:
        raise ValueError(f"vqa answer matches none of LeRobot's VQA shapes: {row['content']}")
    return payload


def lerobot_vqa_shape(payload: Any) -> str | None:
    """LeRobot's `classify_vqa_answer` (same required keys, same order)."""
    shapes = {"bbox": {"detections"}, "keypoint": {"label", "point_format", "point"}, "count": {"label", "count"},
              "attribute": {"label", "attribute", "value"}, "spatial": {"subject", "relation", "object"}}
    if not isinstance(payload, dict):
        return None
    return next((kind for kind, keys in shapes.items() if keys <= set(payload)), None)


def _is_norm(value: Any, n: int) -> bool:
    return (isinstance(value, list) and len(value) == n
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= SCALE for v in value))
