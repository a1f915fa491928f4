"""Policies that tests serve with `simfarm serve-policy` (imported by the server subprocess)."""

import os

import numpy as np


class DiesMidEpisode:
    """Zero actions, then the whole server process dies at the 5th `act` (a crashed GPU box)."""

    def __init__(self, observation_space=None, action_space=None):
        self.shape = action_space.shape
        self.calls = 0

    def act(self, observation):
        self.calls += 1
        if self.calls == 5:
            os._exit(1)
        return np.zeros(self.shape, np.float32)
