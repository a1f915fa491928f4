"""Which annotation kinds a job asks for (`annotations=[vqa,trace,motion]`)."""

from __future__ import annotations

from typing import Any

from simfarm.checks import did_you_mean
from simfarm.errors import ConfigError

ANNOTATION_KINDS = ("vqa", "trace", "motion")
DEFAULT_ANNOTATIONS = ANNOTATION_KINDS
DEFAULT_EVERY = 10  # K: vqa and trace rows every 10 frames
DEFAULT_HORIZON = 10  # N: a trace looks 10 steps ahead


def check_annotations(value: Any) -> tuple[str, ...]:
    """The kinds asked for, in ANNOTATION_KINDS order, from a list, a tuple or a comma-separated
    string ("vqa,trace", "[vqa, trace]"); None, "", "none" and [] ask for none. ConfigError names
    the first unknown kind, the closest accepted one and all of them."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items: list[Any] = [p.strip().strip("'\"") for p in text.split(",") if p.strip()]
        if items == ["none"]:
            return ()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    else:
        raise ConfigError(f"annotations: expected a list of kinds, got {value!r}; accepted: {', '.join(ANNOTATION_KINDS)}")
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(f"annotations: expected kind names, got {item!r}; accepted: {', '.join(ANNOTATION_KINDS)}")
        if item not in ANNOTATION_KINDS:
            raise ConfigError(f"annotations: unknown kind {item!r}{did_you_mean(item, ANNOTATION_KINDS)}; "
                              f"accepted: {', '.join(ANNOTATION_KINDS)}")
    return tuple(k for k in ANNOTATION_KINDS if k in items)
