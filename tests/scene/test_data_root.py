"""simfarm.paths.data_root: a SIMFARM_ROOT that is set is used or refused, never skipped."""

from __future__ import annotations

import pytest

from simfarm.errors import ConfigError
from simfarm.paths import configs_dir, data_root, procgen_dir


def test_a_valid_simfarm_root_is_used(tmp_path, monkeypatch):
    checkout = data_root()
    (tmp_path / "procgen").symlink_to(checkout / "procgen")
    (tmp_path / "configs").symlink_to(checkout / "configs")
    monkeypatch.setenv("SIMFARM_ROOT", str(tmp_path))
    assert data_root() == tmp_path and procgen_dir() == tmp_path / "procgen" and configs_dir() == tmp_path / "configs"


@pytest.mark.parametrize(("make", "state"), [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "is not a folder"),
    (lambda p: (p / "configs").mkdir() or p, "lacks procgen/"),
])
def test_a_wrong_simfarm_root_is_one_line_naming_it_and_what_it_must_hold(tmp_path, monkeypatch, make, state):
    root = make(tmp_path)
    monkeypatch.setenv("SIMFARM_ROOT", str(root))
    with pytest.raises(ConfigError) as exc:
        data_root()
    message = str(exc.value)
    assert message.startswith(f"SIMFARM_ROOT={root} {state}") and "procgen/ and configs/" in message
    assert "\n" not in message


def test_an_empty_simfarm_root_means_unset(monkeypatch):
    monkeypatch.setenv("SIMFARM_ROOT", "")
    assert (data_root() / "configs").is_dir()
