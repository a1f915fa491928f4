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

__all__ = ["ANNOTATION_KINDS", "DEFAULT_ANNOTATIONS", "DEFAULT_EVERY", "DEFAULT_HORIZON", "Annotator",
           "check_annotations"]
