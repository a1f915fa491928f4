"""put_on_plate: set an object down on a flat plate and let go of it there.

A plate is a flat receptacle: the object is on it when it touches the plate, its centre lies within
the plate's rim (judged in the plate's live frame) and above the plate, and it touches no furniture
(an object half on the table is not on the plate). Released and at rest, as for put_in_bowl; the
expert is put_in_bowl's (`CarryExpert`), releasing just above the plate's top.
"""

from __future__ import annotations

from typing import ClassVar

from simfarm.tasks.put_in_bowl import PutInBowl


class PutOnPlate(PutInBowl):
    """Put a graspable object on a plate of the workspace."""

    name: ClassVar[str] = "put_on_plate"
    default_scene: ClassVar[str] = "kitchen"
    receptacle_families: ClassVar[tuple[str, ...]] = ("plate",)

    def _slots(self) -> dict[str, str]:
        return {"obj": self.obj_ref.text, "plate": self.rec_ref.text}
