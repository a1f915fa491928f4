"""An episode's language as LeRobot's language columns (huggingface/lerobot
`src/lerobot/datasets/language.py`, `docs/source/language_and_recipes.mdx`).

`language_persistent` holds, on every frame of an episode, the same list of rows, each active
from its `timestamp` until a row of the same style replaces it:
- `task_aug` (role user, at the first frame): the instruction, then its paraphrases;
- `plan` (role assistant): at the first frame and at each subtask change, the numbered steps
  still to do (so `${plan}` at a frame is what is left, as LeRobot's own annotator writes it);
- `subtask` (role assistant): the step the robot is on, from the frame it started.
- `motion` (role assistant, simfarm.annotations): the robot-frame motion primitive being executed.
`language_events` holds rows only on the frame they fire: the `vqa` questions (role user) and exact
answers (role assistant) and the `trace` rows of simfarm.annotations, each with `camera` set to the
`observation.images.*` key of the view it is about (LeRobot's rule for view-dependent styles).
Rows sort by (timestamp, style, role), timestamps are frame timestamps (frame_index / fps, float32).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from simfarm.episode import Episode

LANGUAGE_PERSISTENT = "language_persistent"
LANGUAGE_EVENTS = "language_events"
# info.json entries, as LeRobot's `language_feature_info()`.
LANGUAGE_FEATURES = {
    LANGUAGE_PERSISTENT: {"dtype": "language", "shape": [1], "names": None},
    LANGUAGE_EVENTS: {"dtype": "language", "shape": [1], "names": None},
}
# `tool_calls` is a list of JSON values; stored as strings (LeRobot's fallback when pyarrow has no json type).
PERSISTENT_ROW = pa.struct([
    pa.field("role", pa.string(), nullable=False),
    pa.field("content", pa.string()),
    pa.field("style", pa.string()),
    pa.field("timestamp", pa.float32(), nullable=False),
    pa.field("camera", pa.string()),
    pa.field("tool_calls", pa.list_(pa.string())),
])
EVENT_ROW = pa.struct([
    pa.field("role", pa.string(), nullable=False),
    pa.field("content", pa.string()),
    pa.field("style", pa.string()),
    pa.field("camera", pa.string()),
    pa.field("tool_calls", pa.list_(pa.string())),
])


def subtask_spans(episode: Episode) -> list[dict[str, Any]]:
    """[{index, text, start_frame}] of the subtasks the episode went through (the whole episode
    is one span labelled with the instruction when the rollout recorded none)."""
    spans = episode.metadata.get("subtasks") or []
    if not spans and episode.length:
        spans = [{"index": 0, "text": episode.instruction or episode.task, "start_frame": 0}]
    return spans


def subtask_per_frame(episode: Episode) -> np.ndarray:
    """(T,) int64: the index (in the plan) of the subtask each frame is on."""
    out = np.zeros(episode.length, np.int64)
    for span in subtask_spans(episode):
        out[int(span["start_frame"]):] = int(span["index"])
    return out


def plan_of(episode: Episode) -> list[str]:
    return list(episode.metadata.get("plan") or [s["text"] for s in subtask_spans(episode)])


def _row(role: str, content: str, style: str, timestamp: float) -> dict[str, Any]:
    return {"role": role, "content": content, "style": style, "timestamp": float(np.float32(timestamp)),
            "camera": None, "tool_calls": None}


def plan_text(steps: list[str]) -> str:
    return "\n".join(f"{k + 1}. {step}" for k, step in enumerate(steps))


def persistent_rows(episode: Episode, fps: float) -> list[dict[str, Any]]:
    """The episode's `language_persistent` rows, sorted as LeRobot's writer sorts them."""
    plan = plan_of(episode)
    rows = []
    paraphrases = episode.metadata.get("paraphrases") or [episode.instruction or episode.task]
    seen: set[str] = set()
    for text in [episode.instruction or episode.task, *paraphrases]:
        if text and text not in seen:
            seen.add(text)
            rows.append(_row("user", text, "task_aug", 0.0))
    for span in subtask_spans(episode):
        t = float(np.float32(int(span["start_frame"]) / fps))
        rows.append(_row("assistant", span["text"], "subtask", t))
        remaining = plan[int(span["index"]):] or [span["text"]]
        rows.append(_row("assistant", plan_text(remaining), "plan", t))
    for row in episode.annotations.get("persistent", []):
        rows.append({**_without_frame(row), "timestamp": float(np.float32(int(row["frame"]) / fps))})
    # Stable sort: task_aug rows keep their order (the instruction first).
    rows.sort(key=lambda r: (r["timestamp"], r["style"] or "", r["role"] or ""))
    return rows


def _without_frame(row: dict[str, Any]) -> dict[str, Any]:
    return {"role": row["role"], "content": row.get("content"), "style": row.get("style"),
            "camera": row.get("camera"), "tool_calls": row.get("tool_calls")}


def event_rows(episode: Episode) -> list[list[dict[str, Any]]]:
    """The `language_events` rows of each of the episode's T frames."""
    frames: list[list[dict[str, Any]]] = [[] for _ in range(episode.length)]
    for row in episode.annotations.get("events", []):
        frame = int(row["frame"])
        if 0 <= frame < episode.length:
            frames[frame].append(_without_frame(row))
    return frames


def language_columns(episode: Episode, fps: float) -> dict[str, pa.Array]:
    """The two columns for the episode's T rows."""
    rows = persistent_rows(episode, fps)
    T = episode.length
    return {
        LANGUAGE_PERSISTENT: pa.array([rows] * T, type=pa.list_(PERSISTENT_ROW)),
        LANGUAGE_EVENTS: pa.array(event_rows(episode), type=pa.list_(EVENT_ROW)),
    }
