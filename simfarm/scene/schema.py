"""A tiny schema checker for the procgen YAML files: errors name the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from simfarm.errors import ConfigError


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes a ConfigError naming the file."""
    try:
        return yaml.safe_load(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML: {exc}") from exc


class Checker:
    """Reads typed values out of a parsed YAML tree, raising ConfigError(file: key: expected ...)."""

    def __init__(self, path: Path | str):
        self.path = str(path)

    def fail(self, key: str, expected: str, got: Any) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: expected {expected}, got {got!r}")

    def mapping(self, data: Any, key: str, allowed: set[str] | None = None, required: set[str] | None = None) -> dict:
        if not isinstance(data, dict):
            raise self.fail(key, "a mapping", data)
        if allowed is not None:
            unknown = sorted(set(data) - allowed)
            if unknown:
                raise ConfigError(
                    f"{self.path}: {key + '.' if key else ''}{unknown[0]}: unknown key; accepted: {', '.join(sorted(allowed))}"
                )
        for name in sorted(required or ()):
            if name not in data:
                raise ConfigError(f"{self.path}: {key + '.' if key else ''}{name}: missing required key")
        return data

    def number(self, value: Any, key: str, low: float | None = None, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, "a number", value)
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(key, f"a number in [{low}, {high}]", value)
        return float(value)

    def integer(self, value: Any, key: str, low: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
            raise self.fail(key, f"an integer >= {low}" if low is not None else "an integer", value)
        return value

    def range(self, value: Any, key: str, low: float = 0.0, high: float | None = None, integer: bool = False) -> tuple:
        """A [min, max] pair with low <= min <= max (<= high)."""
        kind = "integers" if integer else "numbers"
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise self.fail(key, f"[min, max] {kind}", value)
        conv = self.integer if integer else self.number
        a, b = (conv(v, key) for v in value)
        if a > b or a < low or (high is not None and b > high):
            bound = f" within [{low}, {high}]" if high is not None else f" >= {low}"
            raise self.fail(key, f"[min, max] {kind} with min <= max{bound}", value)
        return (a, b)

    def choice(self, value: Any, key: str, accepted) -> str:
        if value not in accepted:
            raise self.fail(key, f"one of {', '.join(sorted(accepted))}", value)
        return value

    def string_list(self, value: Any, key: str, accepted=None) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a non-empty list of names", value)
        if accepted is not None:
            for v in value:
                self.choice(v, key, accepted)
        return tuple(value)

    def rgb(self, value: Any, key: str) -> tuple[float, float, float]:
        if not isinstance(value, list) or len(value) != 3:
            raise self.fail(key, "[r, g, b] in [0, 1]", value)
        return tuple(self.number(v, key, 0.0, 1.0) for v in value)
