"""Benchmark suites: named, versioned sets of (task, scene, randomization, robot) evaluations, each
isolating one kind of generalization by what it holds out of generation.

`configs/suites/<name>.yaml`:

    name: object
    version: 1
    description: object family and colour pairs never seen in training data
    holds_out:
      objects: [[mug, yellow], [can, blue]]   # (family, colour) pairs
      instruction_forms: false                # the held-out fifth of every task's forms
      robots: []                              # robots no generation job may use
      goals: false                            # same scenes as training, goals from held-out seeds
    entries:
      - {task: pick_place, scene: kitchen, randomization: light, episodes: 50}

Evaluation always runs on held-out seeds (`split=test`). A generation job with `holdout=NAME`
excludes everything the suite holds out: scenes that show a held-out object anywhere are drawn
again, the held-out instruction forms are never used, held-out robots are refused. In the suite's
own episodes (`suite=NAME`, set by `simfarm eval suite=NAME`), the goal object is always one of the
held-out pairs and instructions use only the held-out forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from simfarm.errors import ConfigError, TaskError

HOLDS_OUT_KEYS = ("objects", "instruction_forms", "robots", "goals")
ENTRY_KEYS = ("task", "scene", "randomization", "robot", "episodes")


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    description: str
    entries: tuple[dict[str, Any], ...]
    objects: frozenset[tuple[str, str]] = frozenset()
    instruction_forms: bool = False
    robots: tuple[str, ...] = ()
    goals: bool = False
    path: str = field(default="", compare=False)

    def holds_object(self, obj) -> bool:
        return (obj.family, obj.color) in self.objects


def suite_dir():
    from simfarm.paths import configs_dir

    return configs_dir() / "suites"


def suite_names() -> tuple[str, ...]:
    try:
        return tuple(sorted(p.stem for p in suite_dir().glob("*.yaml")))
    except ConfigError:
        return ()


@cache
def load_suite(name: str) -> Suite:
    """The suite `name`; ConfigError naming the key and what is accepted for a bad one."""
    import yaml

    from simfarm.checks import did_you_mean

    names = suite_names()
    if name not in names:
        raise ConfigError(f"unknown suite {name!r}{did_you_mean(str(name), names)}; accepted: {', '.join(names)}")
    path = suite_dir() / f"{name}.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    where = f"{path}"
    holds = dict(data.get("holds_out") or {})
    unknown = sorted(set(holds) - set(HOLDS_OUT_KEYS))
    if unknown:
        raise ConfigError(f"{where}: holds_out.{unknown[0]}: unknown key; accepted: {', '.join(HOLDS_OUT_KEYS)}")
    entries = []
    for k, entry in enumerate(data.get("entries") or []):
        extra = sorted(set(entry) - set(ENTRY_KEYS))
        if extra or "task" not in entry:
            raise ConfigError(f"{where}: entries[{k}]: needs `task`; accepted keys: {', '.join(ENTRY_KEYS)}")
        entries.append(dict(entry))
    if not entries:
        raise ConfigError(f"{where}: entries must list at least one (task, scene, randomization) evaluation")
    objects = frozenset((str(f), str(c)) for f, c in holds.get("objects") or [])
    return Suite(
        name=str(data.get("name", name)), version=int(data.get("version", 1)), description=str(data.get("description", "")),
        entries=tuple(entries), objects=objects, instruction_forms=bool(holds.get("instruction_forms", False)),
        robots=tuple(holds.get("robots") or ()), goals=bool(holds.get("goals", False)), path=str(path),
    )


@dataclass(frozen=True)
class Holdout:
    """What an env does about a suite: `exclude` (a generation job's `holdout=`) or `only` (the suite's own episodes)."""

    suite: Suite
    role: str  # "exclude" | "only"

    @property
    def instruction_split(self) -> str:
        if not self.suite.instruction_forms:
            return "all"
        return "train" if self.role == "exclude" else "heldout"

    def check_robot(self, robot_names) -> None:
        held = sorted(set(robot_names) & set(self.suite.robots))
        if self.role == "exclude" and held:
            raise ConfigError(f"holdout={self.suite.name}: robot {held[0]!r} is held out for the suite's evaluation; "
                              f"generate with the other robots (held out: {', '.join(self.suite.robots)})")

    def check_scene(self, spec) -> None:
        """TaskError when a generation scene shows a held-out object: a check, since the sampler
        never draws them (SceneRequest.exclude_objects); fixed scenes can hold them."""
        if self.role != "exclude" or not self.suite.objects:
            return
        held = [o for o in spec.objects if self.suite.holds_object(o)]
        if held:
            raise TaskError(f"the scene shows {held[0].color} {held[0].family}, held out by suite {self.suite.name!r}")

    def object_allowed(self, obj) -> bool:
        """Whether a task may make `obj` its goal object."""
        if not self.suite.objects:
            return True
        return self.suite.holds_object(obj) == (self.role == "only")


def holdout_for(holdout: str | None, suite: str | None) -> Holdout | None:
    if holdout and suite:
        raise ConfigError(f"holdout={holdout} and suite={suite}: a job either generates without a suite's held-out "
                          "things or evaluates on them, not both")
    if holdout:
        return Holdout(load_suite(holdout), "exclude")
    if suite:
        return Holdout(load_suite(suite), "only")
    return None


def validate_config(cfg: dict[str, Any]) -> None:
    """Config hook: `holdout` and `suite` name known suites; held-out robots are not generated."""
    holdout = holdout_for(cfg.get("holdout"), cfg.get("suite"))
    if holdout is None:
        return
    robot = cfg.get("robot")
    name = robot if isinstance(robot, str) else (robot or {}).get("name")
    names = [name]
    if name == "mix":
        from simfarm.robots.mix import mix_weights

        names = list(mix_weights(robot))
    holdout.check_robot([n for n in names if n])
