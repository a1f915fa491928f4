"""Seeding: every random stream of episode i derives from SeedSequence([seed, i, split]).

No global RNG, no time-based seeds, no dependence on the worker that runs an episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Generation uses split "train"; evaluation defaults to "test". Different split codes give
# disjoint entropy, so evaluation episodes never reuse a generation episode's scene or goal.
SPLITS = {"train": 0, "test": 1, "valid": 2}

# Fixed order of the child streams spawned from an episode's SeedSequence. Append only:
# reordering changes every dataset ever generated.
STREAMS = ("scene", "randomization", "task", "policy", "sensor")


@dataclass(frozen=True)
class EpisodeSeeds:
    """The independent random streams of one episode."""

    seed: int
    index: int
    split: str
    scene: np.random.Generator
    randomization: np.random.Generator
    task: np.random.Generator
    policy: np.random.Generator
    sensor: np.random.Generator

    def policy_seed(self) -> int:
        """An integer seed for policies that take one (`reset(instruction, seed)`)."""
        return int(np.random.SeedSequence([self.seed, self.index, SPLITS[self.split], 7]).generate_state(1)[0])


def split_code(split: str) -> int:
    from simfarm.errors import ConfigError

    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; accepted: {sorted(SPLITS)}")
    return SPLITS[split]


def episode_seeds(seed: int, index: int, split: str = "train", scene_index: int | None = None) -> EpisodeSeeds:
    """Streams for episode `index` of a job with `seed`.

    The scene stream derives from `scene_index` (default: the episode index), so several episodes
    can share one scene (resample every N episodes); every other stream from the episode index.
    """
    code = split_code(split)
    children = np.random.SeedSequence([seed, index, code]).spawn(len(STREAMS))
    gens = {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}
    gens["scene"] = scene_rng(seed, index if scene_index is None else scene_index, split)
    return EpisodeSeeds(seed=seed, index=index, split=split, **gens)


def scene_rng(seed: int, scene_index: int, split: str = "train") -> np.random.Generator:
    """The scene stream for a shared scene `scene_index` (tag 1 keeps it apart from episode streams)."""
    return np.random.default_rng(np.random.SeedSequence([seed, scene_index, split_code(split), 1]))


def robot_rng(seed: int, index: int, split: str = "train") -> np.random.Generator:
    """The stream that draws episode `index`'s robot in a mixed-robot job (tag 13: apart from the others)."""
    return np.random.default_rng(np.random.SeedSequence([seed, index, split_code(split), 13]))


def pointcloud_rng(seed: int, index: int, split: str = "train") -> np.random.Generator:
    """The stream that samples episode `index`'s point clouds (tag 17: apart from the sensor noise)."""
    return np.random.default_rng(np.random.SeedSequence([seed, index, split_code(split), 17]))


def derived_rng(rng: np.random.Generator, salt: str) -> np.random.Generator:
    """A generator seeded from `rng`'s current state and `salt`; `rng` itself is left untouched,
    so a consumer added later (looks, decor) never moves a draw that comes after it."""
    import hashlib
    import json

    state = json.dumps(rng.bit_generator.state, sort_keys=True, default=repr)
    digest = hashlib.sha256((salt + state).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))
