"""Language: instruction and subtask templates (YAML per task), paraphrase expansion, held-out forms.

Each task's templates live in `simfarm/tasks/templates/<task>.yaml`:

    instructions:                       # the task's instruction forms
      - "(put|place|set) {obj} {where}"
      - "pick up {obj} and (put|set) it {where}"
    subtasks:                           # one canonical label per step of the task
      grasp: "pick up {obj}"
      place: "put it {where}"

A form may hold alternations `(a|b|c)` (an empty alternative makes a word optional: `(gently |)`);
every combination is a distinct instruction form, so a few templates give tens of paraphrases.
Slots (`{obj}`, `{where}`, ...) are noun phrases and places the task fills from its scene
(simfarm.tasks.refer, simfarm.tasks.regions). A fixed fifth of each task's forms is held out
(`form_split`): generation jobs with `holdout=paraphrase` never use them, the `paraphrase`
evaluation suite uses only them.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from simfarm.errors import TaskError

TEMPLATES_DIR = Path(__file__).parent / "templates"
FORM_SPLITS = ("all", "train", "heldout")
# One form in HELDOUT_MODULUS is held out, chosen by a hash of its text (stable across versions as
# long as the form's text is unchanged).
HELDOUT_MODULUS = 5
_ALTERNATION = re.compile(r"\(([^()]*\|[^()]*)\)")


def expand(template: str) -> list[str]:
    """Every form of a template: one per combination of its `(a|b)` alternations, in order."""
    parts: list[list[str]] = []
    pos = 0
    for match in _ALTERNATION.finditer(template):
        parts.append([template[pos:match.start()]])
        parts.append(match.group(1).split("|"))
        pos = match.end()
    parts.append([template[pos:]])
    forms = []
    for combo in itertools.product(*parts):
        text = " ".join("".join(combo).split())
        if text not in forms:
            forms.append(text)
    return forms


def template_path(name: str) -> Path:
    """simfarm/tasks/templates/<name>.yaml; a composite's forms sit in its configs/task YAML."""
    path = TEMPLATES_DIR / f"{name}.yaml"
    if not path.exists():
        from simfarm.paths import configs_dir

        composite = configs_dir() / "task" / f"{name}.yaml"
        if composite.exists() and "instructions:" in composite.read_text():
            return composite
    return path


@cache
def _load(name: str) -> dict[str, Any]:
    import yaml

    path = template_path(name)
    if not path.exists():
        raise TaskError(f"task {name!r} has no instruction templates ({path} is missing)")
    data = yaml.safe_load(path.read_text()) or {}
    if not data.get("instructions"):
        raise TaskError(f"{path}: `instructions` must list at least one template")
    return data


def has_templates(name: str) -> bool:
    return template_path(name).exists()


def form_split(form: str) -> str:
    """'heldout' for a fixed fifth of forms (by a hash of the form's text), else 'train'."""
    digest = int(hashlib.sha1(form.encode()).hexdigest(), 16)
    return "heldout" if digest % HELDOUT_MODULUS == 0 else "train"


@cache
def instruction_forms(name: str, split: str = "all") -> tuple[str, ...]:
    """The task's instruction forms (slots unfilled), all of them or one split's."""
    if split not in FORM_SPLITS:
        raise TaskError(f"instruction split {split!r}; accepted: {', '.join(FORM_SPLITS)}")
    forms: list[str] = []
    for template in _load(name)["instructions"]:
        forms.extend(f for f in expand(str(template)) if f not in forms)
    if split != "all":
        chosen = [f for f in forms if form_split(f) == split]
        if not chosen:
            raise TaskError(f"{template_path(name)}: no {split} instruction form; add forms (one in {HELDOUT_MODULUS} is held out)")
        forms = chosen
    return tuple(forms)


def fill(form: str, slots: dict[str, str]) -> str:
    try:
        text = form.format(**slots)
    except KeyError as exc:
        raise TaskError(f"instruction form {form!r} needs slot {exc.args[0]!r}; the task gave {sorted(slots)}") from exc
    return " ".join(text.split())


def render_instruction(name: str, rng: np.random.Generator, split: str = "all", **slots: str) -> str:
    """One instruction of task `name`: a form of `split` drawn with `rng`, its slots filled."""
    forms = instruction_forms(name, split)
    return fill(forms[int(rng.integers(len(forms)))], slots)


def paraphrases(name: str, split: str = "all", **slots: str) -> list[str]:
    """Every distinct instruction of `split` for these slots, in form order (LeRobot `task_aug` rows)."""
    out: list[str] = []
    for form in instruction_forms(name, split):
        text = fill(form, slots)
        if text not in out:
            out.append(text)
    return out


def subtask_text(name: str, key: str, **slots: str) -> str:
    """The canonical label of subtask `key` of task `name`, slots filled."""
    subtasks = _load(name).get("subtasks") or {}
    if key not in subtasks:
        raise TaskError(f"{template_path(name)}: no subtask {key!r}; it has {', '.join(subtasks) or 'none'}")
    return fill(expand(str(subtasks[key]))[0], slots)


# -- noun phrases (kept here for the tasks that name one object; simfarm.tasks.refer does relations) --


def noun_phrase(color: str | None, category: str, article: str = "the") -> str:
    """'the red mug'; the colour is left out when unknown."""
    words = [w for w in (color, category.replace("_", " ")) if w]
    return f"{article} {' '.join(words)}" if article else " ".join(words)


def describe_object(obj, others=()) -> str:
    """A phrase that singles `obj` out among `others`, with its colour (simfarm.tasks.refer.refer_to)."""
    from simfarm.tasks.refer import refer_to

    return refer_to(obj, others, rng=None).text


def obj_volume(obj) -> float:
    return float(np.prod(np.asarray(obj.size, dtype=float)))
