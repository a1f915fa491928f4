"""Language instructions: paraphrase templates that name objects by their attributes."""

from __future__ import annotations

import numpy as np

# At least five paraphrases per task. Placeholders: {obj} and {target} are noun phrases built by
# `describe` ("the red mug"), {obj_bare} without the article ("red mug"), {dir} a direction word.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "pick_place": (
        "put {obj} on {target}",
        "place {obj} onto {target}",
        "pick up {obj} and put it on {target}",
        "move {obj} to {target}",
        "grab {obj} and set it down on {target}",
        "put {obj} in {target}",
        "transfer {obj} onto {target}",
    ),
    "push": (
        "push {obj} to the {marker}",
        "slide {obj} onto the {marker}",
        "push {obj} {dir} until it reaches the {marker}",
        "move {obj} to the {marker} by pushing it",
        "nudge {obj} over to the {marker}",
        "shove {obj} toward the {marker}",
    ),
    "open_drawer": (
        "open the {drawer} drawer of {furniture}",
        "pull the {drawer} drawer of {furniture} open",
        "open {furniture}'s {drawer} drawer",
        "slide out the {drawer} drawer of {furniture}",
        "pull open the {drawer} drawer",
        "grab the handle of the {drawer} drawer and open it",
    ),
    "push_trolley": (
        "push the trolley to the {marker}",
        "drive to the trolley and push it onto the {marker}",
        "move the {trolley} to the {marker}",
        "roll the trolley over to the {marker} {where}",
        "take the trolley and push it to the {marker}",
        "push the {trolley} until it reaches the {marker}",
    ),
}


def noun_phrase(color: str | None, category: str, article: str = "the") -> str:
    """'the red mug'; the colour is left out when unknown."""
    words = [w for w in (color, category.replace("_", " ")) if w]
    return f"{article} {' '.join(words)}" if article else " ".join(words)


def describe_object(obj, others=()) -> str:
    """The shortest phrase that singles `obj` out among `others`: "the red mug", then "the big red mug".

    The noun is the object's family (mug, can, bowl), what a person would say; the colour is
    always said, since instructions that name attributes help grounding.
    """
    noun = obj.family
    same_both = [o for o in others if o is not obj and o.family == noun and o.color == obj.color]
    if not same_both:
        return noun_phrase(obj.color, noun)
    size = "big" if obj_volume(obj) >= max(obj_volume(o) for o in same_both) else "small"
    return f"the {size} {obj.color} {noun.replace('_', ' ')}"


def obj_volume(obj) -> float:
    return float(np.prod(np.asarray(obj.size, dtype=float)))


def render_instruction(task: str, rng: np.random.Generator, **slots: str) -> str:
    templates = TEMPLATES[task]
    template = templates[int(rng.integers(len(templates)))]
    return template.format(**slots)
