"""Ground-truth embodied-reasoning annotations computed from simulator state (not by a model).

`vqa` (questions about what each camera sees, exact answers: boxes, points, lists, drawer state),
`trace` (the gripper's future path in each image) and `motion` (the robot-frame primitive being
executed), as LeRobot language rows and as plain per-frame arrays. See README.md in this folder.
"""

from simfarm.annotations.kinds import (
    ANNOTATION_KINDS,
    DEFAULT_ANNOTATIONS,
    DEFAULT_EVERY,
    DEFAULT_HORIZON,
    check_annotations,
)
from simfarm.annotations.recorder import Annotator


def validate_config(cfg: dict) -> None:
    """Config hook (simfarm.config.validate): `annotations`, `annotation_every`, `annotation_horizon`."""
    from simfarm.checks import integer

    if "annotations" in cfg:
        check_annotations(cfg["annotations"])
    for key in ("annotation_every", "annotation_horizon"):
        if key in cfg:
            integer(key, cfg[key], 1)


def make_annotator(cfg: dict) -> Annotator | None:
    """The job's Annotator, or None when it asks for no annotations."""
    kinds = check_annotations(cfg.get("annotations", DEFAULT_ANNOTATIONS))
    if not kinds:
        return None
    return Annotator(kinds, every=int(cfg.get("annotation_every", DEFAULT_EVERY)),
                     horizon=int(cfg.get("annotation_horizon", DEFAULT_HORIZON)))


__all__ = ["ANNOTATION_KINDS", "DEFAULT_ANNOTATIONS", "DEFAULT_EVERY", "DEFAULT_HORIZON", "Annotator",
           "check_annotations", "make_annotator", "validate_config"]
