"""Every exception simfarm raises on purpose. Messages name the offending key or file and what is accepted."""

from __future__ import annotations


class SimfarmError(Exception):
    """Base class: catch this to handle any simfarm error."""


class ConfigError(SimfarmError, ValueError):
    """A config key, value or file is wrong (unknown key, out-of-range value, malformed YAML)."""


class SceneError(SimfarmError):
    """A scene cannot be sampled or built (impossible constraints, bad SceneSpec)."""


class RobotError(SimfarmError):
    """A robot is unknown, cannot be loaded, or is asked for an action mode it lacks."""


class TaskError(SimfarmError):
    """A task is unknown or cannot be set up in the given scene."""


class RandomizationError(ConfigError):
    """A randomization preset names an unknown parameter or an invalid distribution."""


class PolicyError(SimfarmError):
    """A policy cannot be loaded, or returned an action of the wrong shape, dtype or with NaNs."""


class EpisodeError(SimfarmError):
    """An episode failed while running (physics divergence, policy error); recorded and counted."""


class DatasetError(SimfarmError):
    """A dataset on disk is inconsistent or cannot be read/written."""


class FarmError(SimfarmError):
    """A generation job cannot start, or stopped (failure budget spent, output already finished)."""
