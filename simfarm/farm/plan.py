"""Job planning: episodes 0..N-1 grouped into fixed-size shards.

The shard size is a content key, never derived from the worker count, so the same config gives
the same shards (and the same dataset) on one core or a thousand nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

from simfarm.errors import ConfigError


@dataclass(frozen=True)
class ShardPlan:
    """One unit of work: a contiguous run of episode indices, written by one Ray task."""

    index: int
    first_episode: int
    num_episodes: int

    @property
    def name(self) -> str:
        return shard_name(self.index)

    @property
    def episode_indices(self) -> range:
        return range(self.first_episode, self.first_episode + self.num_episodes)


def shard_name(index: int) -> str:
    """Folder and marker name of shard `index` (zero-padded so names sort in episode order)."""
    return f"shard-{index:06d}"


def plan_shards(episodes: int, shard_size: int) -> list[ShardPlan]:
    """Shards covering episodes 0..episodes-1 in order; the last one may be shorter."""
    if not isinstance(episodes, int) or episodes < 1:
        raise ConfigError(f"episodes: must be an integer >= 1, got {episodes!r}")
    if not isinstance(shard_size, int) or shard_size < 1:
        raise ConfigError(f"shard_size: must be an integer >= 1, got {shard_size!r}")
    return [
        ShardPlan(index=k, first_episode=start, num_episodes=min(shard_size, episodes - start))
        for k, start in enumerate(range(0, episodes, shard_size))
    ]
