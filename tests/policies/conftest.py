"""Fixtures: the toy spaces and a module of user policies written to a temporary folder on sys.path."""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import pytest
from policy_toys import ACTION_DIM, IMAGE_HW, POLICY_MODULE, POLICY_SOURCE, STATE_DIM


@pytest.fixture(scope="session")
def policy_module_dir(tmp_path_factory):
    """A folder on sys.path holding `simfarm_test_user_policies` (for in-process and subprocess use)."""
    folder = tmp_path_factory.mktemp("user_policies")
    (folder / f"{POLICY_MODULE}.py").write_text(POLICY_SOURCE)
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop(POLICY_MODULE, None)


@pytest.fixture
def spaces():
    observation_space = gym.spaces.Dict(
        {
            "state": gym.spaces.Box(-np.inf, np.inf, (STATE_DIM,), np.float32),
            "environment_state": gym.spaces.Box(-np.inf, np.inf, (2,), np.float32),
            "images": gym.spaces.Dict(
                {"workspace": gym.spaces.Box(0, 255, (*IMAGE_HW, 3), np.uint8)}
            ),
        }
    )
    action_space = gym.spaces.Box(-1.0, 1.0, (ACTION_DIM,), np.float32)
    return observation_space, action_space
